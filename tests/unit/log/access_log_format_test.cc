// Expected lines are what Apache 2.4 writes for the same request and format.
#include "log/access_log_format.h"

#include <gtest/gtest.h>
#include <time.h>

#include <cstdlib>
#include <map>
#include <string>

namespace itkd {
namespace {

constexpr time_t kNov27 = 1795764316;  // 2026-11-27 07:25:16 UTC

class AccessLogFormatTest : public ::testing::Test {
 protected:
  void SetUp() override { use_timezone("UTC0"); }
  void TearDown() override { use_timezone("UTC0"); }

  static void use_timezone(const char* tz) {
    setenv("TZ", tz, 1);
    tzset();
  }

  // A GET for /index.html from 1.2.3.4 with a few headers.
  AccessLogRecord record() {
    AccessLogRecord r;
    r.remote_ip = "1.2.3.4";
    r.remote_port = 5678;
    r.local_ip = "10.0.0.1";
    r.local_port = 80;
    r.server_name = "www.example.com";
    r.host_header = "example.com";
    r.request_line = "GET /index.html?a=1 HTTP/1.1";
    r.method = "GET";
    r.url_path = "/index.html";
    r.query = "?a=1";
    r.protocol = "HTTP/1.1";
    r.filename = "/srv/www/index.html";
    r.status = 200;
    r.bytes_sent = 1234;
    r.bytes_out = 1500;
    r.bytes_in = 420;
    r.request_start = {kNov27, 123456};
    r.duration_us = 2500000;
    r.pid = 4242;
    r.keepalive_count = 2;
    r.keepalive_connection = true;
    r.request_header = [this](std::string_view name) { return find(request_headers, name); };
    r.response_header = [this](std::string_view name) { return find(response_headers, name); };
    return r;
  }

  static std::string_view find(const std::map<std::string, std::string>& headers,
                               std::string_view name) {
    auto it = headers.find(std::string(name));
    return it == headers.end() ? std::string_view() : std::string_view(it->second);
  }

  std::string line(std::string_view format, const AccessLogRecord& r) {
    auto compiled = AccessLogFormat::compile(format);
    EXPECT_TRUE(compiled) << (compiled ? "" : compiled.error().message);
    return compiled ? compiled->format(r) : "";
  }
  std::string line(std::string_view format) { return line(format, record()); }

  std::string compile_error(std::string_view format) {
    auto compiled = AccessLogFormat::compile(format);
    return compiled ? "compiled" : compiled.error().message;
  }

  std::map<std::string, std::string> request_headers{
      {"Referer", "http://example.com/start"}, {"User-Agent", "Mozilla/5.0 (X11)"}};
  std::map<std::string, std::string> response_headers{{"Content-Type", "text/html"}};
};

TEST_F(AccessLogFormatTest, CombinedLine) {
  EXPECT_EQ(line(kCombinedLogFormat),
            "1.2.3.4 - - [27/Nov/2026:07:25:16 +0000] \"GET /index.html?a=1 HTTP/1.1\" 200 1500 "
            "\"http://example.com/start\" \"Mozilla/5.0 (X11)\"");
}

TEST_F(AccessLogFormatTest, CommonLine) {
  EXPECT_EQ(line(kCommonLogFormat),
            "1.2.3.4 - - [27/Nov/2026:07:25:16 +0000] \"GET /index.html?a=1 HTTP/1.1\" 200 1500");
}

TEST_F(AccessLogFormatTest, CombinedWithQuoteAndControlInUserAgentAndNoReferer) {
  request_headers = {{"User-Agent", "evil\"agent\x01\n\\x"}};
  EXPECT_EQ(line(kCombinedLogFormat),
            "1.2.3.4 - - [27/Nov/2026:07:25:16 +0000] \"GET /index.html?a=1 HTTP/1.1\" 200 1500 "
            "\"-\" \"evil\\\"agent\\x01\\n\\\\x\"");
}

TEST_F(AccessLogFormatTest, HeadRequestLogsHeadBytesWithO) {
  AccessLogRecord r = record();
  r.request_line = "HEAD / HTTP/1.1";
  r.method = "HEAD";
  r.bytes_sent = 0;
  r.bytes_out = 213;
  EXPECT_EQ(line(kCombinedLogFormat, r),
            "1.2.3.4 - - [27/Nov/2026:07:25:16 +0000] \"HEAD / HTTP/1.1\" 200 213 "
            "\"http://example.com/start\" \"Mozilla/5.0 (X11)\"");
  EXPECT_EQ(line("%b %B %O", r), "- 0 213");
}

TEST_F(AccessLogFormatTest, RemoteUserAppearsEscaped) {
  AccessLogRecord r = record();
  r.remote_user = "al ice\"";
  EXPECT_EQ(line("%u|%l", r), "al ice\\\"|-");
}

TEST_F(AccessLogFormatTest, RequestLineEscapesEightBitAndControlBytes) {
  AccessLogRecord r = record();
  r.request_line = "GET /caf\xc3\xa9\t\x7f HTTP/1.1";
  EXPECT_EQ(line("\"%r\"", r), "\"GET /caf\\xc3\\xa9\\t\\x7f HTTP/1.1\"");
}

TEST_F(AccessLogFormatTest, EmptyRequestLineIsDash) {
  AccessLogRecord r = record();
  r.request_line = "";
  r.status = 408;
  EXPECT_EQ(line("\"%r\" %>s", r), "\"-\" 408");
}

TEST_F(AccessLogFormatTest, BodyBytes) {
  EXPECT_EQ(line("%b %B"), "1234 1234");
}

TEST_F(AccessLogFormatTest, LogioBytes) {
  EXPECT_EQ(line("%I %O %S"), "420 1500 1920");
}

TEST_F(AccessLogFormatTest, Addresses) {
  EXPECT_EQ(line("%a %{c}a %h %A %p %{canonical}p %{local}p %{remote}p"),
            "1.2.3.4 1.2.3.4 1.2.3.4 10.0.0.1 80 80 80 5678");
}

TEST_F(AccessLogFormatTest, RequestParts) {
  EXPECT_EQ(line("%m %U%q %H %f"), "GET /index.html?a=1 HTTP/1.1 /srv/www/index.html");
}

TEST_F(AccessLogFormatTest, EmptyQueryIsEmptyNotDash) {
  AccessLogRecord r = record();
  r.query = "";
  EXPECT_EQ(line("[%U%q]", r), "[/index.html]");
}

TEST_F(AccessLogFormatTest, QueryIsEscaped) {
  AccessLogRecord r = record();
  r.query = "?q=\"x\"";
  EXPECT_EQ(line("%q", r), "?q=\\\"x\\\"");
}

TEST_F(AccessLogFormatTest, ServerNames) {
  EXPECT_EQ(line("%v %V"), "www.example.com example.com");
  AccessLogRecord r = record();
  r.host_header = "";
  EXPECT_EQ(line("%V", r), "www.example.com");
}

TEST_F(AccessLogFormatTest, StatusForms) {
  EXPECT_EQ(line("%s %>s %<s"), "200 200 200");
  AccessLogRecord r = record();
  r.status = 0;
  EXPECT_EQ(line("%>s", r), "-");
}

TEST_F(AccessLogFormatTest, Durations) {
  EXPECT_EQ(line("%D %T %{s}T %{ms}T %{us}T"), "2500000 2 2 2500 2500000");
}

TEST_F(AccessLogFormatTest, PidAndKeepalive) {
  EXPECT_EQ(line("%P %{pid}P %k %X"), "4242 4242 2 +");
  AccessLogRecord r = record();
  r.keepalive_connection = false;
  EXPECT_EQ(line("%X", r), "-");
  r.connection_aborted = true;
  EXPECT_EQ(line("%X", r), "X");
}

TEST_F(AccessLogFormatTest, ThreadIds) {
  std::string tid = line("%{tid}P");
  std::string hex = line("%{hextid}P");
  EXPECT_EQ(std::stoul(tid), std::stoul(hex, nullptr, 16));
}

TEST_F(AccessLogFormatTest, ResponseHeader) {
  EXPECT_EQ(line("%{Content-Type}o %{X-Missing}o"), "text/html -");
}

TEST_F(AccessLogFormatTest, MissingHeaderCallbacksGiveDash) {
  AccessLogRecord r = record();
  r.request_header = nullptr;
  r.response_header = nullptr;
  EXPECT_EQ(line("%{Referer}i %{Content-Type}o %{sid}C", r), "- - -");
}

TEST_F(AccessLogFormatTest, Cookie) {
  request_headers["Cookie"] = "a=1; empty=; SID = abc\"d ;other=2";
  EXPECT_EQ(line("%{sid}C %{other}C %{none}C %{empty}C %{A}C"), "abc\\\"d 2 - - 1");
}

TEST_F(AccessLogFormatTest, StatusConditionMet) {
  AccessLogRecord r = record();
  r.status = 404;
  EXPECT_EQ(line("%400,404,501{Referer}i", r), "http://example.com/start");
}

TEST_F(AccessLogFormatTest, StatusConditionNotMet) {
  EXPECT_EQ(line("%400,501{User-agent}i"), "-");
}

TEST_F(AccessLogFormatTest, NegatedStatusCondition) {
  EXPECT_EQ(line("%!200,304{Referer}i"), "-");
  AccessLogRecord r = record();
  r.status = 500;
  EXPECT_EQ(line("%!200,304{Referer}i", r), "http://example.com/start");
}

TEST_F(AccessLogFormatTest, ClfTimeWithPositiveHalfHourOffset) {
  use_timezone("IST-5:30");
  AccessLogRecord r = record();
  r.request_start = {kNov27 + 1, 0};
  EXPECT_EQ(line("%t", r), "[27/Nov/2026:12:55:17 +0530]");
}

TEST_F(AccessLogFormatTest, ClfTimeWithNegativeDstOffset) {
  use_timezone("EST5EDT,M3.2.0,M11.1.0");
  AccessLogRecord r = record();
  r.request_start = {1783166400, 0};  // 2026-07-04 12:00:00 UTC
  EXPECT_EQ(line("%t", r), "[04/Jul/2026:08:00:00 -0400]");
}

TEST_F(AccessLogFormatTest, ClfTimeCacheFollowsTheSecond) {
  AccessLogRecord r = record();
  r.request_start = {kNov27 + 100, 0};
  EXPECT_EQ(line("%t", r), "[27/Nov/2026:07:26:56 +0000]");
  r.request_start = {kNov27 + 101, 999999};
  EXPECT_EQ(line("%t", r), "[27/Nov/2026:07:26:57 +0000]");
}

TEST_F(AccessLogFormatTest, StrftimeTime) {
  EXPECT_EQ(line("%{%Y-%m-%dT%H:%M:%S %z %a %B}t"), "2026-11-27T07:25:16 +0000 Fri November");
}

TEST_F(AccessLogFormatTest, EpochAndFractionTimes) {
  EXPECT_EQ(line("%{sec}t %{msec}t %{usec}t %{msec_frac}t %{usec_frac}t"),
            "1795764316 1795764316123 1795764316123456 123 123456");
}

TEST_F(AccessLogFormatTest, BeginAndEndTimes) {
  // The request took 2.5 s: end is 07:25:18.623456.
  EXPECT_EQ(line("%{begin:sec}t %{end:sec}t %{end:usec_frac}t %{end:%H:%M:%S}t"),
            "1795764316 1795764318 623456 07:25:18");
}

TEST_F(AccessLogFormatTest, FractionsArePadded) {
  AccessLogRecord r = record();
  r.request_start = {kNov27, 7};
  EXPECT_EQ(line("%{msec_frac}t %{usec_frac}t", r), "000 000007");
}

TEST_F(AccessLogFormatTest, PercentAndBackslashEscapesInFormat) {
  EXPECT_EQ(line("100%% \\t\\n\\\\ \\r \\q %>s"), "100% \t\n\\ \r \\q 200");
}

TEST_F(AccessLogFormatTest, EnvAndNotesAreDash) {
  EXPECT_EQ(line("%{HTTPS}e %{note}n"), "- -");
}

TEST_F(AccessLogFormatTest, UnknownDirectiveIsNamed) {
  std::string error = compile_error("%h %Z");
  EXPECT_EQ(error.rfind("unknown format directive %Z", 0), 0u) << error;
}

TEST_F(AccessLogFormatTest, TrailingPercentRefused) {
  EXPECT_NE(compile_error("%h %").find("ends inside a % directive"), std::string::npos);
  EXPECT_NE(compile_error("%400").find("ends inside"), std::string::npos);
}

TEST_F(AccessLogFormatTest, UnterminatedBraceRefused) {
  EXPECT_NE(compile_error("%{Referer").find("unterminated %{"), std::string::npos);
}

TEST_F(AccessLogFormatTest, BadArgumentsRefused) {
  EXPECT_NE(compile_error("%{parsecs}T").find("%{parsecs}T"), std::string::npos);
  EXPECT_NE(compile_error("%{bogus}p").find("%{bogus}p"), std::string::npos);
  EXPECT_NE(compile_error("%{thread}P").find("%{thread}P"), std::string::npos);
}

TEST_F(AccessLogFormatTest, EmptyFormatGivesEmptyLine) {
  EXPECT_EQ(line(""), "");
}

TEST_F(AccessLogFormatTest, CompiledFormatIsReusableAndMovable) {
  auto compiled = AccessLogFormat::compile("%>s %b");
  ASSERT_TRUE(compiled);
  AccessLogFormat moved = std::move(compiled.value());
  AccessLogRecord r = record();
  EXPECT_EQ(moved.format(r), "200 1234");
  r.status = 304;
  r.bytes_sent = 0;
  EXPECT_EQ(moved.format(r), "304 -");
}

}  // namespace
}  // namespace itkd
