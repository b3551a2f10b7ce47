#include "worker/cgi/cgi_handler.h"

#include <signal.h>

#include <gtest/gtest.h>

#include <memory>

#include "cgi/handler_test_support.h"

namespace itkd {
namespace {

class CgiHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override { ::signal(SIGPIPE, SIG_IGN); }

  std::unique_ptr<CgiHandler> make(const std::string& script_body, const std::string& path_info = "",
                                   std::optional<uint64_t> length = std::nullopt) {
    CgiScript s;
    s.filename = dir.write("cgi-bin/t.cgi", "#!/bin/sh\n" + script_body);
    s.script_name = "/cgi-bin/t.cgi";
    s.path_info = path_info;
    return std::make_unique<CgiHandler>(f.request(), s, length, sink);
  }

  // Runs the loop for `ms` (or until the sink is done).
  void pump(uint64_t ms) {
    bool fired = false;
    auto t = f.loop.add_timer(ms, [&] {
      fired = true;
      f.loop.stop();
    });
    while (!fired && !sink.done) (void)f.loop.run();
    if (!fired) f.loop.cancel_timer(t);
  }

  test::RequestFixture f;
  test::FakeSink sink{f.loop};
  test::TempDir dir;
};

TEST_F(CgiHandlerTest, OutputAndEnvironment) {
  auto h = make("echo 'Content-Type: text/plain'\necho\necho \"hello $REQUEST_METHOD $PATH_INFO $SERVER_NAME\"\n",
                "/p/q");
  // The connection may destroy the handler from inside end_body.
  sink.on_done = [&] { h.reset(); };
  h->start();
  h->on_request_body({}, true);
  ASSERT_TRUE(f.run(sink, 5000));
  EXPECT_TRUE(sink.ended);
  EXPECT_EQ(sink.status, 200);
  EXPECT_EQ(sink.headers, "Content-Type: text/plain\r\n");
  EXPECT_EQ(sink.body, "hello GET /p/q a.example\n");
  EXPECT_EQ(h, nullptr);
}

TEST_F(CgiHandlerTest, RequestBodyWithBackPressure) {
  f.set_request("POST /cgi-bin/t.cgi HTTP/1.1\r\nHost: a\r\nContent-Length: 1048576\r\n\r\n");
  // The script reads slowly at first, so the body has to wait for it.
  auto h = make("sleep 0.3\necho 'Content-Type: text/plain'\necho\nwc -c | tr -d ' '\necho $CONTENT_LENGTH\n",
                "", 1048576);
  h->start();
  std::string chunk(64 * 1024, 'x');
  size_t sent = 0;
  bool paused = false;
  while (sent < 1048576) {
    if (!h->accepts_body()) {
      paused = true;
      int before = sink.resumes;
      while (sink.resumes == before && !sink.done) pump(10);
      continue;
    }
    sent += chunk.size();
    h->on_request_body(chunk, sent == 1048576);
  }
  EXPECT_TRUE(paused);
  ASSERT_TRUE(f.run(sink, 10000));
  EXPECT_EQ(sink.body, "1048576\n1048576\n");
}

TEST_F(CgiHandlerTest, StreamsAMegabyteThroughABackloggedSink) {
  auto h = make("echo 'Content-Type: text/plain'\necho\nhead -c 1048576 /dev/zero | tr '\\0' a\n");
  sink.backlog = true;
  h->start();
  h->on_request_body({}, true);
  pump(200);
  EXPECT_TRUE(sink.body.empty() || sink.body.size() < 1048576);
  // Drain now and then, as a connection writing to a slow client would.
  for (int i = 0; i < 200 && !sink.done; ++i) {
    sink.backlog = false;
    h->on_sink_drained();
    pump(5);
    sink.backlog = !sink.done;
    pump(2);
  }
  sink.backlog = false;
  h->on_sink_drained();
  ASSERT_TRUE(f.run(sink, 10000));
  EXPECT_TRUE(sink.ended);
  EXPECT_EQ(sink.body.size(), 1048576u);
  EXPECT_EQ(sink.body.find_first_not_of('a'), std::string::npos);
}

TEST_F(CgiHandlerTest, ScriptIgnoringItsBodyDoesNotStallTheUpload) {
  f.set_request("POST /cgi-bin/t.cgi HTTP/1.1\r\nHost: a\r\nContent-Length: 1048576\r\n\r\n");
  auto h = make("exec 0<&-\necho 'Content-Type: text/plain'\necho\necho done\n", "", 1048576);
  h->start();
  std::string chunk(64 * 1024, 'x');
  size_t sent = 0;
  for (int spins = 0; sent < 1048576 && spins < 1000; ++spins) {
    if (h->accepts_body()) {
      sent += chunk.size();
      h->on_request_body(chunk, sent == 1048576);
    } else {
      pump(5);
    }
  }
  EXPECT_EQ(sent, 1048576u);
  ASSERT_TRUE(f.run(sink, 5000));
  EXPECT_EQ(sink.body, "done\n");
}

TEST_F(CgiHandlerTest, StatusHeader) {
  auto h = make("printf 'Status: 404 Not Found\\r\\nContent-Type: text/plain\\r\\n\\r\\nnope'\n");
  h->start();
  h->on_request_body({}, true);
  ASSERT_TRUE(f.run(sink, 5000));
  EXPECT_EQ(sink.status, 404);
  EXPECT_EQ(sink.body, "nope");
}

TEST_F(CgiHandlerTest, LocalAndAbsoluteLocation) {
  auto h = make("echo 'Location: /elsewhere?x=1'\necho\necho ignored\n");
  h->start();
  h->on_request_body({}, true);
  ASSERT_TRUE(f.run(sink, 5000));
  EXPECT_EQ(sink.redirect, "/elsewhere?x=1");
  EXPECT_FALSE(sink.head_sent);

  test::FakeSink sink2{f.loop};
  CgiScript s;
  s.filename = dir.write("cgi-bin/abs.cgi", "#!/bin/sh\necho 'Location: https://b.example/'\necho\n");
  CgiHandler h2(f.request(), s, std::nullopt, sink2);
  h2.start();
  h2.on_request_body({}, true);
  ASSERT_TRUE(f.run(sink2, 5000));
  EXPECT_EQ(sink2.status, 302);
  EXPECT_EQ(sink2.headers, "Location: https://b.example/\r\n");
}

TEST_F(CgiHandlerTest, MalformedHeaderIs500) {
  auto h = make("echo 'this is not a header'\necho\n");
  h->start();
  h->on_request_body({}, true);
  ASSERT_TRUE(f.run(sink, 5000));
  EXPECT_EQ(sink.fail_status, 500);
  EXPECT_NE(sink.fail_reason.find("malformed header from script"), std::string::npos) << sink.fail_reason;
  EXPECT_NE(sink.fail_reason.find("Bad header: this is not a header"), std::string::npos);
}

TEST_F(CgiHandlerTest, DyingBeforeHeadersIs500) {
  auto h = make("echo 'Content-Type: text/pl'\nkill -9 $$\n");
  h->start();
  h->on_request_body({}, true);
  ASSERT_TRUE(f.run(sink, 5000));
  EXPECT_EQ(sink.fail_status, 500);
  EXPECT_NE(sink.fail_reason.find("End of script output before headers"), std::string::npos);
}

TEST_F(CgiHandlerTest, PartialOutputAfterHeadEndsNormally) {
  auto h = make("echo 'Content-Type: text/plain'\necho\nprintf partial\nkill -9 $$\n");
  h->start();
  h->on_request_body({}, true);
  ASSERT_TRUE(f.run(sink, 5000));
  EXPECT_TRUE(sink.ended);
  EXPECT_EQ(sink.body, "partial");
}

TEST_F(CgiHandlerTest, StderrGoesToTheErrorLog) {
  auto h = make("echo 'warning: disk is lava' >&2\necho 'Content-Type: text/plain'\necho\necho ok\n");
  h->start();
  h->on_request_body({}, true);
  ASSERT_TRUE(f.run(sink, 5000));
  std::string log = f.log_text();
  EXPECT_NE(log.find("[cgi:error]"), std::string::npos) << log;
  EXPECT_NE(log.find("[client 192.0.2.7:40000] AH01215: warning: disk is lava: " + dir.path() +
                     "/cgi-bin/t.cgi"),
            std::string::npos)
      << log;
}

TEST_F(CgiHandlerTest, TimeoutKillsTheProcessGroupWith504) {
  f.vhost.limits.timeout_s = 1;
  auto h = make("sleep 100 &\nsleep 100\n");
  h->start();
  h->on_request_body({}, true);
  pid_t pgid = h->pid();
  ASSERT_TRUE(f.run(sink, 5000));
  EXPECT_EQ(sink.fail_status, 504);
  EXPECT_NE(sink.fail_reason.find("Timeout waiting for output from CGI script"), std::string::npos);
  h.reset();
  // Everything in the script's group is gone (killed and, for the leader, reaped).
  EXPECT_EQ(test::wait_group_gone(pgid, 2000), 0);
}

TEST_F(CgiHandlerTest, NotExecutableIs500) {
  CgiScript s;
  s.filename = dir.write("cgi-bin/plain.cgi", "#!/bin/sh\necho hi\n", 0644);
  CgiHandler h(f.request(), s, std::nullopt, sink);
  h.start();
  EXPECT_TRUE(sink.done);
  EXPECT_EQ(sink.fail_status, 500);
  EXPECT_NE(sink.fail_reason.find("Permission denied"), std::string::npos);
}

}  // namespace
}  // namespace itkd
