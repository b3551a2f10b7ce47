// Request head parser: a table of hostile and odd requests in the style of nginx-tests
// (http_host.t, the request smuggling cases), then valid, pipelined, incremental and
// limit cases.
#include <gtest/gtest.h>

#include <string>

#include "http/request_head.h"

namespace itkd::http {
namespace {

ParseOutcome parse(std::string_view text, RequestHead& head, const ParseLimits& limits = {}) {
  return parse_request_head(text, limits, head);
}

struct ErrorCase {
  const char* name;
  std::string request;
  int status;
};

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.name; }

class RejectedRequest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(RejectedRequest, AnswersWithStatus) {
  const ErrorCase& c = GetParam();
  RequestHead head;
  const ParseOutcome outcome = parse(c.request, head);
  EXPECT_EQ(outcome.status, ParseStatus::Error) << c.request;
  EXPECT_EQ(outcome.http_status, c.status) << outcome.reason;
  EXPECT_FALSE(outcome.reason.empty());
}

const std::string kHost = "Host: example.com\r\n";

INSTANTIATE_TEST_SUITE_P(
    Table, RejectedRequest,
    ::testing::Values(
        // Request line
        ErrorCase{"BareLfRequestLine", "GET / HTTP/1.1\n" + kHost + "\r\n", 400},
        ErrorCase{"BareCrInRequestLine", "GET /\r HTTP/1.1\r\n" + kHost + "\r\n", 400},
        ErrorCase{"TwoSpacesAfterMethod", "GET  / HTTP/1.1\r\n" + kHost + "\r\n", 400},
        ErrorCase{"TwoSpacesBeforeVersion", "GET /  HTTP/1.1\r\n" + kHost + "\r\n", 400},
        ErrorCase{"TabSeparator", "GET\t/ HTTP/1.1\r\n" + kHost + "\r\n", 400},
        ErrorCase{"TrailingSpace", "GET / HTTP/1.1 \r\n" + kHost + "\r\n", 400},
        ErrorCase{"NoVersion", "GET /\r\n" + kHost + "\r\n", 400},
        ErrorCase{"Http09", "GET /\r\n\r\n", 400},
        ErrorCase{"EmptyMethod", " / HTTP/1.1\r\n" + kHost + "\r\n", 400},
        ErrorCase{"MethodWithSlash", "GE/T / HTTP/1.1\r\n" + kHost + "\r\n", 400},
        ErrorCase{"VersionShort", "GET / HTTP/1\r\n" + kHost + "\r\n", 400},
        ErrorCase{"VersionLowercase", "GET / http/1.1\r\n" + kHost + "\r\n", 400},
        ErrorCase{"VersionLeadingZero", "GET / HTTP/01.1\r\n" + kHost + "\r\n", 400},
        ErrorCase{"VersionGarbage", "GET / HTTP/1.x\r\n" + kHost + "\r\n", 400},
        ErrorCase{"Version20", "GET / HTTP/2.0\r\n" + kHost + "\r\n", 505},
        ErrorCase{"Version12", "GET / HTTP/1.2\r\n" + kHost + "\r\n", 505},
        ErrorCase{"Version30", "GET / HTTP/3.0\r\n" + kHost + "\r\n", 505},
        ErrorCase{"Version09", "GET / HTTP/0.9\r\n" + kHost + "\r\n", 505},
        ErrorCase{"TargetRelative", "GET index.html HTTP/1.1\r\n" + kHost + "\r\n", 400},
        ErrorCase{"TargetFtp", "GET ftp://example.com/ HTTP/1.1\r\n" + kHost + "\r\n", 400},
        ErrorCase{"TargetNoHost", "GET http:///x HTTP/1.1\r\n" + kHost + "\r\n", 400},
        ErrorCase{"TargetUserinfo", "GET http://u@example.com/ HTTP/1.1\r\n" + kHost + "\r\n", 400},
        ErrorCase{"TargetNul", std::string("GET /a\0b HTTP/1.1\r\n", 19) + kHost + "\r\n", 400},
        ErrorCase{"TargetCtl", "GET /a\x01 HTTP/1.1\r\n" + kHost + "\r\n", 400},
        ErrorCase{"TargetDel", "GET /a\x7f HTTP/1.1\r\n" + kHost + "\r\n", 400},
        ErrorCase{"TargetHighByte", "GET /caf\xc3\xa9 HTTP/1.1\r\n" + kHost + "\r\n", 400},
        ErrorCase{"TargetFragment", "GET /a#b HTTP/1.1\r\n" + kHost + "\r\n", 400},
        ErrorCase{"AsteriskWithGet", "GET * HTTP/1.1\r\n" + kHost + "\r\n", 400},
        ErrorCase{"AuthorityWithGet", "GET example.com:80 HTTP/1.1\r\n" + kHost + "\r\n", 400},
        ErrorCase{"ConnectOrigin", "CONNECT / HTTP/1.1\r\n" + kHost + "\r\n", 400},
        ErrorCase{"ConnectNoPort", "CONNECT example.com HTTP/1.1\r\n" + kHost + "\r\n", 400},
        ErrorCase{"TooManyEmptyLines", "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n" + kHost + "\r\n", 400},
        ErrorCase{"BareCrBeforeRequest", "\rGET / HTTP/1.1\r\n" + kHost + "\r\n", 400},
        ErrorCase{"TlsHandshake", std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc", 9), 400},
        // Header fields
        ErrorCase{"SpaceBeforeColon", "GET / HTTP/1.1\r\nHost : example.com\r\n\r\n", 400},
        ErrorCase{"TabBeforeColon", "GET / HTTP/1.1\r\n" + kHost + "X-A\t: 1\r\n\r\n", 400},
        ErrorCase{"ObsFold", "GET / HTTP/1.1\r\n" + kHost + "X-A: 1\r\n 2\r\n\r\n", 400},
        ErrorCase{"ObsFoldTab", "GET / HTTP/1.1\r\n" + kHost + "X-A: 1\r\n\t2\r\n\r\n", 400},
        ErrorCase{"SpaceBeforeFirstField", "GET / HTTP/1.1\r\n " + kHost + "\r\n", 400},
        ErrorCase{"NoColon", "GET / HTTP/1.1\r\n" + kHost + "X-A\r\n\r\n", 400},
        ErrorCase{"EmptyName", "GET / HTTP/1.1\r\n" + kHost + ": x\r\n\r\n", 400},
        ErrorCase{"NameWithSlash", "GET / HTTP/1.1\r\n" + kHost + "X/A: 1\r\n\r\n", 400},
        ErrorCase{"NameHighByte", "GET / HTTP/1.1\r\n" + kHost + "X\xc3\xa9: 1\r\n\r\n", 400},
        ErrorCase{"NulInValue", "GET / HTTP/1.1\r\n" + kHost + std::string("X-A: a\0b\r\n\r\n", 11), 400},
        ErrorCase{"BareCrInValue", "GET / HTTP/1.1\r\n" + kHost + "X-A: a\rb\r\n\r\n", 400},
        ErrorCase{"BareLfInValue", "GET / HTTP/1.1\r\n" + kHost + "X-A: a\nb\r\n\r\n", 400},
        ErrorCase{"CtlInValue", "GET / HTTP/1.1\r\n" + kHost + "X-A: a\x0b b\r\n\r\n", 400},
        ErrorCase{"DelInValue", "GET / HTTP/1.1\r\n" + kHost + "X-A: a\x7f\r\n\r\n", 400},
        ErrorCase{"BareLfEndOfHead", "GET / HTTP/1.1\r\n" + kHost + "\n", 400},
        ErrorCase{"BareCrEndOfHead", "GET / HTTP/1.1\r\n" + kHost + "\rX", 400},
        // Host (http_host.t)
        ErrorCase{"MissingHost11", "GET / HTTP/1.1\r\n\r\n", 400},
        ErrorCase{"DuplicateHost", "GET / HTTP/1.1\r\n" + kHost + kHost + "\r\n", 400},
        ErrorCase{"DuplicateHost10", "GET / HTTP/1.0\r\n" + kHost + kHost + "\r\n", 400},
        ErrorCase{"HostWithSpace", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
        ErrorCase{"HostWithSlash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400},
        ErrorCase{"HostWithBackslash", "GET / HTTP/1.1\r\nHost: a\\b\r\n\r\n", 400},
        ErrorCase{"HostWithAt", "GET / HTTP/1.1\r\nHost: a@b\r\n\r\n", 400},
        ErrorCase{"HostDotDot", "GET / HTTP/1.1\r\nHost: ..\r\n\r\n", 400},
        ErrorCase{"HostBadPort", "GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", 400},
        ErrorCase{"HostTwoPorts", "GET / HTTP/1.1\r\nHost: a:80:80\r\n\r\n", 400},
        ErrorCase{"HostBadIpv6", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400},
        ErrorCase{"HostIpv6Garbage", "GET / HTTP/1.1\r\nHost: [zz::1]\r\n\r\n", 400},
        ErrorCase{"HostHighByte", "GET / HTTP/1.1\r\nHost: caf\xc3\xa9.com\r\n\r\n", 400},
        ErrorCase{"InvalidHostWithAbsolute", "GET http://a.com/ HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
        // Body framing / smuggling
        ErrorCase{"ClAndTe", "POST / HTTP/1.1\r\n" + kHost +
                                 "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        ErrorCase{"TeAndCl", "POST / HTTP/1.1\r\n" + kHost +
                                 "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400},
        ErrorCase{"TwoContentLength", "POST / HTTP/1.1\r\n" + kHost +
                                          "Content-Length: 5\r\nContent-Length: 5\r\n\r\n", 400},
        ErrorCase{"ContentLengthList", "POST / HTTP/1.1\r\n" + kHost + "Content-Length: 5, 5\r\n\r\n", 400},
        ErrorCase{"ContentLengthPlus", "POST / HTTP/1.1\r\n" + kHost + "Content-Length: +5\r\n\r\n", 400},
        ErrorCase{"ContentLengthMinus", "POST / HTTP/1.1\r\n" + kHost + "Content-Length: -1\r\n\r\n", 400},
        ErrorCase{"ContentLengthInnerSpace", "POST / HTTP/1.1\r\n" + kHost + "Content-Length: 1 0\r\n\r\n", 400},
        ErrorCase{"ContentLengthHex", "POST / HTTP/1.1\r\n" + kHost + "Content-Length: 0x10\r\n\r\n", 400},
        ErrorCase{"ContentLengthEmpty", "POST / HTTP/1.1\r\n" + kHost + "Content-Length:\r\n\r\n", 400},
        ErrorCase{"ContentLength2Pow63", "POST / HTTP/1.1\r\n" + kHost +
                                             "Content-Length: 9223372036854775808\r\n\r\n", 400},
        ErrorCase{"ContentLengthHuge", "POST / HTTP/1.1\r\n" + kHost +
                                           "Content-Length: 99999999999999999999999\r\n\r\n", 400},
        ErrorCase{"TeInHttp10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        ErrorCase{"TeNotChunkedLast", "POST / HTTP/1.1\r\n" + kHost + "Transfer-Encoding: chunked, gzip\r\n\r\n", 400},
        ErrorCase{"TeGzipOnly", "POST / HTTP/1.1\r\n" + kHost + "Transfer-Encoding: gzip\r\n\r\n", 400},
        ErrorCase{"TeChunkedTwice", "POST / HTTP/1.1\r\n" + kHost + "Transfer-Encoding: chunked, chunked\r\n\r\n", 400},
        ErrorCase{"TeChunkedTwoFields", "POST / HTTP/1.1\r\n" + kHost +
                                            "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        ErrorCase{"TeEmpty", "POST / HTTP/1.1\r\n" + kHost + "Transfer-Encoding:\r\n\r\n", 400},
        ErrorCase{"TeChunkedSuffix", "POST / HTTP/1.1\r\n" + kHost + "Transfer-Encoding: chunkedx\r\n\r\n", 400},
        ErrorCase{"TeUnknownThenChunked", "POST / HTTP/1.1\r\n" + kHost + "Transfer-Encoding: foo, chunked\r\n\r\n", 501},
        ErrorCase{"TeGzipChunked", "POST / HTTP/1.1\r\n" + kHost + "Transfer-Encoding: gzip, chunked\r\n\r\n", 501},
        ErrorCase{"TeSplitGzipChunked", "POST / HTTP/1.1\r\n" + kHost +
                                            "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", 501},
        ErrorCase{"TeSpaceBeforeColon", "POST / HTTP/1.1\r\n" + kHost + "Transfer-Encoding : chunked\r\n\r\n", 400},
        ErrorCase{"TeVerticalTab", "POST / HTTP/1.1\r\n" + kHost + "Transfer-Encoding: \x0b" "chunked\r\n\r\n", 400},
        ErrorCase{"ExpectUnknown", "POST / HTTP/1.1\r\n" + kHost + "Expect: 200-ok\r\n\r\n", 417}),
    [](const ::testing::TestParamInfo<ErrorCase>& info) { return std::string(info.param.name); });

TEST(RequestHead, ParsesSimpleGet) {
  RequestHead head;
  const std::string text =
      "GET /a%20b/c?x=1&y=2 HTTP/1.1\r\nHost: Example.COM:8080\r\nUser-Agent:  curl/8  \r\n"
      "Accept: */*\r\n\r\n";
  const ParseOutcome o = parse(text, head);
  ASSERT_EQ(o.status, ParseStatus::Complete) << o.reason;
  EXPECT_EQ(head.method, Method::Get);
  EXPECT_EQ(head.method_text, "GET");
  EXPECT_EQ(head.target, "/a%20b/c?x=1&y=2");
  EXPECT_EQ(head.form, TargetForm::Origin);
  EXPECT_EQ(head.path, "/a%20b/c");
  EXPECT_TRUE(head.has_query);
  EXPECT_EQ(head.query, "x=1&y=2");
  EXPECT_EQ(head.version_major, 1);
  EXPECT_EQ(head.version_minor, 1);
  EXPECT_EQ(head.host, "example.com");
  ASSERT_EQ(head.fields.size(), 3u);
  EXPECT_EQ(head.fields[1].name, "User-Agent");
  EXPECT_EQ(head.fields[1].value, "curl/8");
  ASSERT_NE(head.find("user-agent"), nullptr);
  EXPECT_EQ(head.find("USER-AGENT")->value, "curl/8");
  EXPECT_EQ(head.find("Cookie"), nullptr);
  EXPECT_EQ(head.framing, BodyFraming::None);
  EXPECT_TRUE(head.keep_alive);
  EXPECT_FALSE(head.expect_continue);
  EXPECT_EQ(head.head_length, text.size());
}

TEST(RequestHead, KnownAndUnknownMethods) {
  const std::pair<const char*, Method> methods[] = {
      {"GET", Method::Get},         {"HEAD", Method::Head},   {"POST", Method::Post},
      {"PUT", Method::Put},         {"DELETE", Method::Delete}, {"OPTIONS", Method::Options},
      {"TRACE", Method::Trace},     {"PATCH", Method::Patch}, {"PROPFIND", Method::Other},
      {"get", Method::Other},       {"X-CUSTOM!", Method::Other}};
  for (const auto& [text, method] : methods) {
    RequestHead head;
    const std::string request = std::string(text) + " / HTTP/1.1\r\nHost: a\r\n\r\n";
    const ParseOutcome o = parse(request, head);
    ASSERT_EQ(o.status, ParseStatus::Complete) << text << ": " << o.reason;
    EXPECT_EQ(head.method, method) << text;
    EXPECT_EQ(head.method_text, text);
  }
}

TEST(RequestHead, QueryWithoutValueAndNoQuery) {
  RequestHead head;
  ASSERT_EQ(parse("GET /x? HTTP/1.1\r\nHost: a\r\n\r\n", head).status, ParseStatus::Complete);
  EXPECT_TRUE(head.has_query);
  EXPECT_EQ(head.query, "");
  EXPECT_EQ(head.path, "/x");
  ASSERT_EQ(parse("GET /x HTTP/1.1\r\nHost: a\r\n\r\n", head).status, ParseStatus::Complete);
  EXPECT_FALSE(head.has_query);
}

TEST(RequestHead, AbsoluteFormHostWinsOverHostField) {
  RequestHead head;
  const ParseOutcome o =
      parse("GET HTTP://WWW.Example.org.:81/p/q?z HTTP/1.1\r\nHost: other.net\r\n\r\n", head);
  ASSERT_EQ(o.status, ParseStatus::Complete) << o.reason;
  EXPECT_EQ(head.form, TargetForm::Absolute);
  EXPECT_EQ(head.host, "www.example.org");
  EXPECT_EQ(head.path, "/p/q");
  EXPECT_EQ(head.query, "z");
}

TEST(RequestHead, AbsoluteFormWithoutPathIsSlash) {
  RequestHead head;
  ASSERT_EQ(parse("GET https://a.com HTTP/1.1\r\nHost: a.com\r\n\r\n", head).status,
            ParseStatus::Complete);
  EXPECT_EQ(head.path, "/");
  ASSERT_EQ(parse("GET http://a.com?q HTTP/1.1\r\nHost: a.com\r\n\r\n", head).status,
            ParseStatus::Complete);
  EXPECT_EQ(head.path, "/");
  EXPECT_EQ(head.query, "q");
}

TEST(RequestHead, OptionsAsteriskAndConnectAuthority) {
  RequestHead head;
  ASSERT_EQ(parse("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", head).status, ParseStatus::Complete);
  EXPECT_EQ(head.form, TargetForm::Asterisk);
  EXPECT_EQ(head.path, "*");
  ASSERT_EQ(parse("CONNECT Example.com:443 HTTP/1.1\r\nHost: x\r\n\r\n", head).status,
            ParseStatus::Complete);
  EXPECT_EQ(head.form, TargetForm::Authority);
  EXPECT_EQ(head.host, "example.com");
  ASSERT_EQ(parse("CONNECT [::1]:443 HTTP/1.1\r\nHost: x\r\n\r\n", head).status,
            ParseStatus::Complete);
  EXPECT_EQ(head.host, "[::1]");
}

TEST(RequestHead, Http10WithoutHost) {
  RequestHead head;
  const ParseOutcome o = parse("GET / HTTP/1.0\r\n\r\n", head);
  ASSERT_EQ(o.status, ParseStatus::Complete) << o.reason;
  EXPECT_EQ(head.version_minor, 0);
  EXPECT_EQ(head.host, "");
  EXPECT_FALSE(head.keep_alive);
}

TEST(RequestHead, EmptyHostIsAllowed) {
  RequestHead head;
  const ParseOutcome o = parse("GET / HTTP/1.1\r\nHost:\r\n\r\n", head);
  ASSERT_EQ(o.status, ParseStatus::Complete) << o.reason;
  EXPECT_EQ(head.host, "");
}

TEST(RequestHead, ObsTextInValueIsAllowed) {
  RequestHead head;
  const ParseOutcome o = parse("GET / HTTP/1.1\r\nHost: a\r\nX-Name: caf\xc3\xa9\tok\r\n\r\n", head);
  ASSERT_EQ(o.status, ParseStatus::Complete) << o.reason;
  EXPECT_EQ(head.find("x-name")->value, "caf\xc3\xa9\tok");
}

TEST(RequestHead, LeadingEmptyLinesAreSkipped) {
  RequestHead head;
  const std::string text = "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
  ASSERT_EQ(parse(text, head).status, ParseStatus::Complete);
  EXPECT_EQ(head.head_length, text.size());
}

struct KeepAliveCase {
  const char* version;
  const char* connection;  // nullptr: no Connection field
  bool keep_alive;
};

TEST(RequestHead, KeepAliveFromVersionAndConnection) {
  const KeepAliveCase cases[] = {
      {"1.1", nullptr, true},          {"1.1", "close", false},
      {"1.1", "Keep-Alive, CLOSE", false}, {"1.1", "upgrade", true},
      {"1.0", nullptr, false},         {"1.0", "keep-alive", true},
      {"1.0", "Keep-Alive", true},     {"1.0", "keep-alive, close", false},
      {"1.1", "closed", true},
  };
  for (const KeepAliveCase& c : cases) {
    std::string text = std::string("GET / HTTP/") + c.version + "\r\nHost: a\r\n";
    if (c.connection) text += std::string("Connection: ") + c.connection + "\r\n";
    text += "\r\n";
    RequestHead head;
    ASSERT_EQ(parse(text, head).status, ParseStatus::Complete) << text;
    EXPECT_EQ(head.keep_alive, c.keep_alive) << text;
  }
}

TEST(RequestHead, ExpectContinue) {
  RequestHead head;
  ASSERT_EQ(parse("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n",
                  head)
                .status,
            ParseStatus::Complete);
  EXPECT_TRUE(head.expect_continue);
  // RFC 9110 10.1.1: a 1.0 client's 100-continue is ignored.
  ASSERT_EQ(parse("PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", head).status,
            ParseStatus::Complete);
  EXPECT_FALSE(head.expect_continue);
}

TEST(RequestHead, ContentLengthFraming) {
  RequestHead head;
  ASSERT_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0042\r\n\r\n", head).status,
            ParseStatus::Complete);
  EXPECT_EQ(head.framing, BodyFraming::ContentLength);
  EXPECT_EQ(head.content_length, 42u);
  ASSERT_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775807\r\n\r\n", head)
                .status,
            ParseStatus::Complete);
  EXPECT_EQ(head.content_length, 9223372036854775807u);
}

TEST(RequestHead, ChunkedFraming) {
  const char* values[] = {"chunked", "Chunked", " chunked ", ", chunked", "CHUNKED,"};
  for (const char* v : values) {
    RequestHead head;
    const std::string text = std::string("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ") + v +
                             "\r\n\r\n";
    const ParseOutcome o = parse(text, head);
    ASSERT_EQ(o.status, ParseStatus::Complete) << v << ": " << o.reason;
    EXPECT_EQ(head.framing, BodyFraming::Chunked) << v;
  }
}

TEST(RequestHead, PipelinedHeads) {
  const std::string first = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n";
  const std::string second = "POST /2 HTTP/1.1\r\nHost: b\r\nContent-Length: 2\r\n\r\n";
  const std::string buffer = first + second + "hi";
  RequestHead head;
  ASSERT_EQ(parse(buffer, head).status, ParseStatus::Complete);
  EXPECT_EQ(head.head_length, first.size());
  EXPECT_EQ(head.path, "/1");
  ASSERT_EQ(parse(std::string_view(buffer).substr(head.head_length), head).status,
            ParseStatus::Complete);
  EXPECT_EQ(head.head_length, second.size());
  EXPECT_EQ(head.path, "/2");
  EXPECT_EQ(head.host, "b");
  EXPECT_EQ(head.content_length, 2u);
}

TEST(RequestHead, EveryPrefixIsIncomplete) {
  const std::string text =
      "\r\nPOST /upload?x=1 HTTP/1.1\r\nHost: www.example.com:8080\r\nContent-Length: 10\r\n"
      "Connection: keep-alive\r\nX-Empty:\r\nX-Pad:   v  \r\n\r\n";
  RequestHead head;
  for (size_t n = 0; n < text.size(); ++n) {
    const ParseOutcome o = parse(std::string_view(text).substr(0, n), head);
    ASSERT_EQ(o.status, ParseStatus::Incomplete) << "prefix " << n << ": " << o.reason;
  }
  ASSERT_EQ(parse(text, head).status, ParseStatus::Complete);
  EXPECT_EQ(head.head_length, text.size());
}

TEST(RequestHead, BadBytesAreRejectedBeforeTheLineEnds) {
  RequestHead head;
  EXPECT_EQ(parse(std::string_view("\x16\x03\x01", 3), head).http_status, 400);
  EXPECT_EQ(parse("GET /a\x01", head).http_status, 400);
  EXPECT_EQ(parse("GET / HTTQ", head).http_status, 400);
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nX\x01", head).http_status, 400);
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nX: a\x01", head).http_status, 400);
}

TEST(RequestHead, BadByteAnywhereInALongValueIsFound) {
  // The value check works eight bytes at a time; try every offset and every class.
  for (size_t at = 0; at < 40; ++at) {
    for (const char bad : {'\x01', '\x1f', '\x7f', '\0', '\r', '\n'}) {
      std::string value(40, 'v');
      value[at] = bad;
      RequestHead head;
      const ParseOutcome o =
          parse("GET / HTTP/1.1\r\nHost: a\r\nX-Long: " + value + "w\r\n\r\n", head);
      EXPECT_EQ(o.http_status, 400) << "offset " << at << " byte " << int(bad);
    }
    std::string value(40, '\xff');
    value[at] = '\t';
    RequestHead head;
    EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nX-Long: " + value + "w\r\n\r\n", head).status,
              ParseStatus::Complete)
        << "tab at " << at;
  }
}

std::string request_line_of_length(size_t length) {
  // "GET /" + padding + " HTTP/1.1"
  return "GET /" + std::string(length - 14, 'a') + " HTTP/1.1";
}

TEST(RequestHeadLimits, RequestLineAtLimitIsAccepted) {
  ParseLimits limits;
  limits.max_request_line = 100;
  RequestHead head;
  const std::string line = request_line_of_length(100);
  ASSERT_EQ(line.size(), 100u);
  EXPECT_EQ(parse(line + "\r\nHost: a\r\n\r\n", head, limits).status, ParseStatus::Complete);
}

TEST(RequestHeadLimits, RequestLineOverLimitIs414) {
  ParseLimits limits;
  limits.max_request_line = 100;
  RequestHead head;
  const ParseOutcome o = parse(request_line_of_length(101) + "\r\nHost: a\r\n\r\n", head, limits);
  EXPECT_EQ(o.http_status, 414);
  EXPECT_NE(o.reason.find("limit 100"), std::string::npos) << o.reason;
}

TEST(RequestHeadLimits, LongRequestLineIs414BeforeItsEnd) {
  ParseLimits limits;
  limits.max_request_line = 100;
  RequestHead head;
  const std::string partial = "GET /" + std::string(200, 'a');
  EXPECT_EQ(parse(partial.substr(0, 100), head, limits).status, ParseStatus::Incomplete);
  // 101 bytes with no CR at the end can only become a longer line.
  EXPECT_EQ(parse(partial.substr(0, 101), head, limits).http_status, 414);
  EXPECT_EQ(parse(partial, head, limits).http_status, 414);
  // 100 bytes then CR could still end exactly at the limit.
  const std::string at_limit = request_line_of_length(100) + "\r";
  EXPECT_EQ(parse(at_limit, head, limits).status, ParseStatus::Incomplete);
}

TEST(RequestHeadLimits, FieldAtLimitIsAcceptedAndOverIs431) {
  ParseLimits limits;
  limits.max_field_size = 50;
  RequestHead head;
  const std::string at = "X-A: " + std::string(45, 'v');
  const std::string over = "X-A: " + std::string(46, 'v');
  ASSERT_EQ(at.size(), 50u);
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\n" + at + "\r\n\r\n", head, limits).status,
            ParseStatus::Complete);
  const ParseOutcome o = parse("GET / HTTP/1.1\r\nHost: a\r\n" + over + "\r\n\r\n", head, limits);
  EXPECT_EQ(o.http_status, 431);
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\n" + over, head, limits).http_status, 431);
}

TEST(RequestHeadLimits, FieldCountAtLimitIsAcceptedAndOverIs431) {
  ParseLimits limits;
  limits.max_fields = 5;
  RequestHead head;
  std::string text = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (int i = 0; i < 4; ++i) text += "X-" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(parse(text + "\r\n", head, limits).status, ParseStatus::Complete);
  EXPECT_EQ(head.fields.size(), 5u);
  text += "X-9: v\r\n";
  const ParseOutcome o = parse(text + "\r\n", head, limits);
  EXPECT_EQ(o.http_status, 431);
  EXPECT_NE(o.reason.find("limit 5"), std::string::npos) << o.reason;
}

TEST(RequestHead, ReusedHeadIsReset) {
  RequestHead head;
  ASSERT_EQ(parse("POST /a?b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
                  head)
                .status,
            ParseStatus::Complete);
  ASSERT_EQ(parse("GET / HTTP/1.0\r\n\r\n", head).status, ParseStatus::Complete);
  EXPECT_EQ(head.fields.size(), 0u);
  EXPECT_EQ(head.host, "");
  EXPECT_FALSE(head.has_query);
  EXPECT_EQ(head.framing, BodyFraming::None);
  EXPECT_EQ(head.content_length, 0u);
  EXPECT_FALSE(head.expect_continue);
}

}  // namespace
}  // namespace itkd::http
