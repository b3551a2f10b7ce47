// Response heads and generated error pages.
#include <gtest/gtest.h>

#include <string>

#include "http/request_head.h"
#include "http/response_head.h"

namespace itkd::http {
namespace {

TEST(ResponseHead, BuildsStatusLineFieldsAndEnd) {
  ResponseHead head(200);
  head.add("Content-Length", "5");
  const std::string text = head.finish(true, true);
  EXPECT_EQ(text.rfind("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nDate: ", 0), 0u) << text;
  EXPECT_NE(text.find("\r\nServer: itkd\r\n"), std::string::npos);
  EXPECT_NE(text.find("\r\nConnection: keep-alive\r\n\r\n"), std::string::npos);
  EXPECT_EQ(text.substr(text.size() - 4), "\r\n\r\n");
  EXPECT_EQ(text.find("\r\n\r\n"), text.size() - 4);
}

TEST(ResponseHead, ConnectionHeaderChoices) {
  EXPECT_NE(ResponseHead(404).finish(false, true).find("Connection: close\r\n"), std::string::npos);
  EXPECT_EQ(ResponseHead(404).finish(false, false).find("Connection:"), std::string::npos);
  EXPECT_EQ(ResponseHead(304).finish(true, false).rfind("HTTP/1.1 304 Not Modified\r\n", 0), 0u);
}

TEST(ResponseHead, ValuesCannotInjectFields) {
  ResponseHead head(302);
  head.add("Location", "/x\r\nSet-Cookie: evil=1");
  const std::string text = head.finish(true, false);
  EXPECT_EQ(text.find("\r\nSet-Cookie"), std::string::npos) << text;
  EXPECT_NE(text.find("Location: /x  Set-Cookie: evil=1\r\n"), std::string::npos) << text;
}

TEST(ReasonPhrase, CommonStatuses) {
  const std::pair<int, const char*> cases[] = {
      {100, "Continue"}, {200, "OK"}, {206, "Partial Content"}, {304, "Not Modified"},
      {400, "Bad Request"}, {405, "Method Not Allowed"}, {408, "Request Timeout"},
      {411, "Length Required"}, {413, "Content Too Large"}, {414, "URI Too Long"},
      {416, "Range Not Satisfiable"}, {417, "Expectation Failed"}, {421, "Misdirected Request"},
      {431, "Request Header Fields Too Large"}, {501, "Not Implemented"},
      {503, "Service Unavailable"}, {504, "Gateway Timeout"},
      {505, "HTTP Version Not Supported"}};
  for (const auto& [status, phrase] : cases) EXPECT_EQ(reason_phrase(status), phrase) << status;
}

TEST(SimpleErrorResponse, ApacheLikeShape) {
  const std::string r = simple_error_response(400, false, "bad <thing> & \"more\"");
  const size_t head_end = r.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  const std::string head = r.substr(0, head_end + 4);
  const std::string body = r.substr(head_end + 4);
  EXPECT_EQ(head.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u);
  EXPECT_NE(head.find("Content-Type: text/html; charset=iso-8859-1\r\n"), std::string::npos);
  EXPECT_NE(head.find("Content-Length: " + std::to_string(body.size()) + "\r\n"),
            std::string::npos);
  EXPECT_NE(head.find("Connection: close\r\n"), std::string::npos);
  EXPECT_EQ(body.rfind("<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">", 0), 0u);
  EXPECT_NE(body.find("<title>400 Bad Request</title>"), std::string::npos);
  EXPECT_NE(body.find("<h1>Bad Request</h1>"), std::string::npos);
  EXPECT_NE(body.find("<p>bad &lt;thing&gt; &amp; &quot;more&quot;</p>"), std::string::npos) << body;
}

TEST(SimpleErrorResponse, KeepAliveAndExtraHeaders) {
  const std::string r =
      simple_error_response(405, true, {}, "Allow: GET, HEAD\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 405 Method Not Allowed\r\n", 0), 0u);
  EXPECT_EQ(r.find("Connection:"), std::string::npos);
  EXPECT_NE(r.find("\r\nAllow: GET, HEAD\r\n"), std::string::npos);
  EXPECT_NE(r.find("<p>The requested method is not allowed for this URL.</p>"), std::string::npos);
}

TEST(SimpleErrorResponse, ExtraHeaderWithoutCrlfIsTerminated) {
  const std::string r = simple_error_response(503, false, {}, "Retry-After: 5");
  EXPECT_NE(r.find("\r\nRetry-After: 5\r\n"), std::string::npos);
}

}  // namespace
}  // namespace itkd::http
