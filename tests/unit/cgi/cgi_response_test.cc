#include "worker/cgi/cgi_response.h"

#include <gtest/gtest.h>

namespace itkd {
namespace {

struct Case {
  const char* name;
  std::string input;
  CgiResponseParser::State state;
  int status;
  std::string headers;
  std::string redirect;
  std::string body;  // what follows the header block
};

TEST(CgiResponse, Table) {
  using S = CgiResponseParser::State;
  const Case cases[] = {
      {"lf", "Content-Type: text/plain\n\nhello", S::Done, 200, "Content-Type: text/plain\r\n", "", "hello"},
      {"crlf", "Content-Type: text/html\r\nX-A:  b \r\n\r\nbody", S::Done, 200,
       "Content-Type: text/html\r\nX-A: b\r\n", "", "body"},
      {"status", "Status: 404 Not Found\nContent-Type: text/plain\n\nnope", S::Done, 404,
       "Content-Type: text/plain\r\n", "", "nope"},
      {"status bare code", "Status: 201\n\n", S::Done, 201, "", "", ""},
      {"absolute location", "Location: https://b.example/x\n\n", S::Done, 302,
       "Location: https://b.example/x\r\n", "", ""},
      {"local location", "Location: /other?q=1\n\nignored", S::Done, 200,
       "Location: /other?q=1\r\n", "/other?q=1", "ignored"},
      {"location with status", "Status: 301 Moved\nLocation: /new\n\n", S::Done, 301,
       "Location: /new\r\n", "", ""},
      {"empty head", "\nbody", S::Done, 200, "", "", "body"},
      {"hop by hop dropped", "Connection: close\nTransfer-Encoding: chunked\nServer: x\nDate: y\nX: 1\n\n",
       S::Done, 200, "X: 1\r\n", "", ""},
      {"folded", "X-Long: a\n  b\n\n", S::Done, 200, "X-Long: a b\r\n", "", ""},
      {"content-length", "Content-Length: 5\n\nhello", S::Done, 200, "Content-Length: 5\r\n", "", "hello"},
      {"incomplete", "Content-Type: text/plain\n", S::NeedMore, 200, "", "", ""},
      {"no colon", "hello world\n\n", S::Error, 0, "", "", ""},
      {"space in name", "Bad Name: x\n\n", S::Error, 0, "", "", ""},
      {"bad status", "Status: abc\n\n", S::Error, 0, "", "", ""},
      {"status out of range", "Status: 700 What\n\n", S::Error, 0, "", "", ""},
      {"bad content-length", "Content-Length: 5, 6\n\n", S::Error, 0, "", "", ""},
      {"cr inside", "X: a\rInjected: 1\n\n", S::Error, 0, "", "", ""},
      {"leading continuation", " x\n\n", S::Error, 0, "", "", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    CgiResponseParser p;
    auto step = p.feed(c.input);
    ASSERT_EQ(step.state, c.state) << p.error();
    if (c.state == S::Error) {
      EXPECT_FALSE(p.error().empty());
      continue;
    }
    if (c.state != S::Done) continue;
    EXPECT_EQ(p.head().status, c.status);
    EXPECT_EQ(p.head().headers, c.headers);
    EXPECT_EQ(p.head().local_redirect, c.redirect);
    EXPECT_EQ(c.input.substr(step.consumed), c.body);
  }
}

TEST(CgiResponse, ByteAtATime) {
  std::string input = "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nbody";
  CgiResponseParser p;
  size_t i = 0;
  for (; i < input.size(); ++i) {
    auto step = p.feed(std::string_view(input).substr(i, 1));
    if (step.state == CgiResponseParser::State::Done) {
      EXPECT_EQ(step.consumed, 1u);
      break;
    }
    ASSERT_EQ(step.state, CgiResponseParser::State::NeedMore);
  }
  EXPECT_EQ(input.substr(i + 1), "body");
  EXPECT_EQ(p.head().headers, "Content-Type: text/plain\r\n");
}

TEST(CgiResponse, HeaderBlockCap) {
  CgiResponseParser p;
  std::string big = "X: " + std::string(CgiResponseParser::kMaxHeaderBlock, 'a');
  EXPECT_EQ(p.feed(big).state, CgiResponseParser::State::Error);
  EXPECT_NE(p.error().find("longer than 16384"), std::string::npos);
  // Many short lines too.
  CgiResponseParser q;
  std::string lines;
  for (int i = 0; i < 2000; ++i) lines += "X-" + std::to_string(i) + ": v\n";
  EXPECT_EQ(q.feed(lines).state, CgiResponseParser::State::Error);
}

}  // namespace
}  // namespace itkd
