#include <gtest/gtest.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <regex>

#include "log/access_log_format.h"

namespace itkd {
namespace {

constexpr struct timeval kNov27 = {1795764316, 123456};  // Fri 2026-11-27 07:25:16 UTC

class ErrorLogLineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("TZ", "UTC0", 1);
    tzset();
  }
};

TEST_F(ErrorLogLineTest, ApacheDefaultShape) {
  EXPECT_EQ(error_log_line(kNov27, 123, "core:error", "1.2.3.4:5678", "File does not exist: /x"),
            "[Fri Nov 27 07:25:16.123456 2026] [core:error] [pid 123] [client 1.2.3.4:5678] "
            "File does not exist: /x");
}

TEST_F(ErrorLogLineTest, ClientOmittedWhenEmpty) {
  EXPECT_EQ(error_log_line(kNov27, 1, "mpm_itk:notice", "", "resuming normal operations"),
            "[Fri Nov 27 07:25:16.123456 2026] [mpm_itk:notice] [pid 1] resuming normal operations");
}

TEST_F(ErrorLogLineTest, DayOfMonthAndMicrosecondsArePadded) {
  struct timeval jan5 = {1767657599, 42};  // Mon 2026-01-05 23:59:59
  EXPECT_EQ(error_log_line(jan5, 9, "core:warn", "", "m"),
            "[Mon Jan 05 23:59:59.000042 2026] [core:warn] [pid 9] m");
}

TEST_F(ErrorLogLineTest, LocalTime) {
  setenv("TZ", "IST-5:30", 1);
  tzset();
  EXPECT_EQ(error_log_line(kNov27, 2, "core:info", "", "m"),
            "[Fri Nov 27 12:55:16.123456 2026] [core:info] [pid 2] m");
}

TEST_F(ErrorLogLineTest, NewlineInClientTextCannotForgeALine) {
  std::string line = error_log_line(kNov27, 3, "core:error", "1.2.3.4:1",
                                    "bad header \"X\r\n[Fri Nov 27] [core:emerg] fake\"");
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line,
            "[Fri Nov 27 07:25:16.123456 2026] [core:error] [pid 3] [client 1.2.3.4:1] "
            "bad header \"X\\r\\n[Fri Nov 27] [core:emerg] fake\"");
}

TEST_F(ErrorLogLineTest, ControlEightBitAndBackslashEscaped) {
  EXPECT_EQ(error_log_line(kNov27, 4, "core:error", "a\nb", "x\x1b[31m \\ \xff"),
            "[Fri Nov 27 07:25:16.123456 2026] [core:error] [pid 4] [client a\\nb] "
            "x\\x1b[31m \\\\ \\xff");
}

TEST_F(ErrorLogLineTest, CurrentTimeAndPid) {
  std::string line = error_log_line("core:error", "", "now");
  std::regex shape(R"(\[(Sun|Mon|Tue|Wed|Thu|Fri|Sat) [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d\.\d{6} \d{4}\] \[core:error\] \[pid (\d+)\] now)");
  std::smatch m;
  ASSERT_TRUE(std::regex_match(line, m, shape)) << line;
  EXPECT_EQ(m[2].str(), std::to_string(getpid()));
}

}  // namespace
}  // namespace itkd
