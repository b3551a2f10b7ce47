#include "worker/access_log_buffer.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "common/unique_fd.h"

namespace itkd {
namespace {

struct Pipe {
  Pipe() {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
    read_end = UniqueFd(fds[0]);
    write_end = UniqueFd(fds[1]);
    ::fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);  // log files take any size; so must the test's
  }
  std::string drain() {
    std::string out;
    char buf[65536];
    ssize_t n;
    while ((n = ::read(read_end.get(), buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    return out;
  }
  UniqueFd read_end, write_end;
};

TEST(AccessLogBuffer, LinesReachEachFileInOrderOnlyWhenFlushed) {
  Pipe a, b;
  AccessLogBuffer buffer;
  buffer.append(a.write_end.get(), "a1\n");
  buffer.append(b.write_end.get(), "b1\n");
  buffer.append(a.write_end.get(), "a2\n");
  EXPECT_EQ(a.drain(), "");
  buffer.flush();
  EXPECT_EQ(a.drain(), "a1\na2\n");
  EXPECT_EQ(b.drain(), "b1\n");
  buffer.flush();  // nothing new: nothing written twice
  EXPECT_EQ(a.drain(), "");
}

TEST(AccessLogBuffer, AFloodIsWrittenBeforeTheEndOfTheTurn) {
  Pipe a;
  AccessLogBuffer buffer;
  std::string line(1000, 'x');
  line += '\n';
  std::string written;
  for (int i = 0; i < 100; ++i) {
    buffer.append(a.write_end.get(), line);
    written += a.drain();
  }
  EXPECT_GE(written.size(), 64u * 1024);  // memory stays bounded
  buffer.flush();
  written += a.drain();
  EXPECT_EQ(written.size(), 100u * line.size());
}

}  // namespace
}  // namespace itkd
