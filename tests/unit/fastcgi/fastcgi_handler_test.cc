#include "worker/fastcgi/fastcgi_handler.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <cstring>

#include "cgi/handler_test_support.h"
#include "fastcgi/fcgi_test_responder.h"
#include "worker/fastcgi/fcgi_client.h"

namespace itkd {
namespace {

class FastCgiHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::signal(SIGPIPE, SIG_IGN);
    BackendPool::instance().clear();
    f.set_request("POST /x.php HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n");
  }
  void TearDown() override {
    BackendPool::instance().clear();
    for (pid_t p : responders) {
      ::kill(p, SIGKILL);
      ::waitpid(p, nullptr, 0);
    }
  }

  FcgiBackend unix_backend(test::ResponderMode mode) {
    FcgiBackend b;
    b.unix_path = dir.path() + "/php.sock";
    responders.push_back(test::start_responder(b.unix_path, mode));
    return b;
  }

  CgiScript script() {
    CgiScript s;
    s.filename = "/srv/a/x.php";
    s.script_name = "/x.php";
    return s;
  }

  // One request through a fresh handler and sink; returns the sink.
  std::unique_ptr<test::FakeSink> run(const FcgiBackend& b, std::string_view body = "abc") {
    auto sink = std::make_unique<test::FakeSink>(f.loop);
    FastCgiHandler h(f.request(), b, script(), body.size(), *sink);
    h.start();
    h.on_request_body(body, true);
    EXPECT_TRUE(f.run(*sink, 5000));
    return sink;
  }

  test::RequestFixture f;
  test::TempDir dir;
  std::vector<pid_t> responders;
};

TEST_F(FastCgiHandlerTest, ResponseBodyAndStderr) {
  auto b = unix_backend(test::ResponderMode::Normal);
  auto sink = run(b);
  EXPECT_TRUE(sink->ended);
  EXPECT_EQ(sink->status, 200);
  EXPECT_NE(sink->headers.find("Content-Type: text/plain\r\n"), std::string::npos);
  EXPECT_EQ(sink->body, "POST /srv/a/x.php body=abc");
  EXPECT_NE(f.log_text().find("[proxy_fcgi:error]"), std::string::npos);
  EXPECT_NE(f.log_text().find("AH01215: note from the app: /srv/a/x.php"), std::string::npos) << f.log_text();
}

TEST_F(FastCgiHandlerTest, NoReuseByDefault) {
  // As Apache's mod_proxy_fcgi: a php-fpm child serves one connection at a time, so a
  // kept idle connection would hold a child other requests wait for.
  auto b = unix_backend(test::ResponderMode::Normal);
  auto first = run(b);
  EXPECT_TRUE(first->ended);
  EXPECT_EQ(first->body, "POST /srv/a/x.php body=abc");
  EXPECT_EQ(BackendPool::instance().idle_count(b.describe()), 0u);
}

TEST_F(FastCgiHandlerTest, KeepConnReuse) {
  auto b = unix_backend(test::ResponderMode::Normal);
  b.reuse = true;  // ProxyPassMatch ... enablereuse=on
  auto first = run(b);
  EXPECT_TRUE(first->ended);
  EXPECT_EQ(BackendPool::instance().idle_count(b.describe()), 1u);
  auto second = run(b, "second");
  EXPECT_EQ(second->body, "POST /srv/a/x.php body=second");
  EXPECT_EQ(BackendPool::instance().idle_count(b.describe()), 1u);
}

TEST(BackendPool, KeepsAtMostMaxIdleConnections) {
  BackendPool pool;
  for (int i = 0; i < 3; ++i) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    pool.put("k", UniqueFd(sv[0]), 0, 2);  // <Proxy ... max=2>
    ::close(sv[1]);
  }
  EXPECT_EQ(pool.idle_count("k"), 2u);
  pool.clear();
}

TEST_F(FastCgiHandlerTest, StaleIdleConnectionIsRetriedOnAFreshOne) {
  auto b = unix_backend(test::ResponderMode::Normal);
  b.reuse = true;
  // An idle connection that looks alive but whose other end hangs up once it reads.
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  pid_t peer = ::fork();
  if (peer == 0) {
    char c;
    (void)::read(sv[1], &c, 1);
    ::_exit(0);
  }
  ::close(sv[1]);
  BackendPool::instance().put(b.describe(), UniqueFd(sv[0]), f.loop.now_ms(), b.max_idle);
  auto sink = run(b);
  ::waitpid(peer, nullptr, 0);
  EXPECT_TRUE(sink->ended) << sink->fail_reason;
  EXPECT_EQ(sink->body, "POST /srv/a/x.php body=abc");
}

// A request without a body is one send: BEGIN_REQUEST, PARAMS, the empty PARAMS and the
// empty STDIN, before the connection offers any body (there is none to offer).
TEST_F(FastCgiHandlerTest, RequestWithoutBodyIsCompleteInTheFirstSend) {
  f.set_request("GET /x.php HTTP/1.1\r\nHost: a\r\n\r\n");
  FcgiBackend b;
  b.unix_path = dir.path() + "/raw.sock";
  UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, b.unix_path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener.get(), 4), 0);
  test::FakeSink sink(f.loop);
  FastCgiHandler h(f.request(), b, script(), std::nullopt, sink);
  h.start();
  UniqueFd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
  ASSERT_TRUE(conn);
  char buf[65536];
  ssize_t n = ::recv(conn.get(), buf, sizeof buf, 0);
  ASSERT_GT(n, 16);
  const std::string got(buf, static_cast<size_t>(n));
  EXPECT_EQ(got.substr(0, 2), std::string("\x01\x01", 2)) << "starts with BEGIN_REQUEST";
  EXPECT_EQ(got.substr(got.size() - 16), std::string("\x01\x04\x00\x01\x00\x00\x00\x00\x01\x05\x00\x01\x00\x00\x00\x00", 16))
      << "ends with the empty PARAMS and the empty STDIN";
}

TEST_F(FastCgiHandlerTest, LargeBodyStreamsAsStdin) {
  auto b = unix_backend(test::ResponderMode::Normal);
  std::string big(300000, 'q');
  auto sink = std::make_unique<test::FakeSink>(f.loop);
  FastCgiHandler h(f.request(), b, script(), big.size(), *sink);
  h.start();
  for (size_t off = 0; off < big.size(); off += 50000) {
    while (!h.accepts_body()) {
      f.loop.add_timer(5, [&] { f.loop.stop(); });
      (void)f.loop.run();
    }
    h.on_request_body(std::string_view(big).substr(off, 50000), off + 50000 >= big.size());
  }
  ASSERT_TRUE(f.run(*sink, 5000));
  EXPECT_EQ(sink->body, "POST /srv/a/x.php body=" + big);
}

TEST_F(FastCgiHandlerTest, BackloggedSinkPausesReading) {
  auto b = unix_backend(test::ResponderMode::Normal);
  auto sink = std::make_unique<test::FakeSink>(f.loop);
  FastCgiHandler h(f.request(), b, script(), 3, *sink);
  sink->backlog = true;
  h.start();
  h.on_request_body("abc", true);
  f.loop.add_timer(100, [&] { f.loop.stop(); });
  (void)f.loop.run();
  EXPECT_FALSE(sink->done);
  EXPECT_FALSE(sink->head_sent);
  sink->backlog = false;
  h.on_sink_drained();
  ASSERT_TRUE(f.run(*sink, 5000));
  EXPECT_EQ(sink->body, "POST /srv/a/x.php body=abc");
}

TEST_F(FastCgiHandlerTest, TcpBackend) {
  FcgiBackend b;
  b.host = "127.0.0.1";
  responders.push_back(test::start_tcp_responder(b.port, test::ResponderMode::Normal));
  auto sink = run(b);
  EXPECT_EQ(sink->body, "POST /srv/a/x.php body=abc");
}

TEST_F(FastCgiHandlerTest, DeadBackendIs503) {
  FcgiBackend b;
  b.unix_path = dir.path() + "/missing.sock";
  auto sink = run(b);
  EXPECT_EQ(sink->fail_status, 503);
  EXPECT_EQ(sink->fail_reason, "FastCGI backend unix:" + b.unix_path + ": No such file or directory");
  // A socket file nobody listens on any more.
  b.unix_path = dir.path() + "/stale.sock";
  int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, b.unix_path.c_str());
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::close(s);
  sink = run(b);
  EXPECT_EQ(sink->fail_status, 503);
  EXPECT_EQ(sink->fail_reason, "FastCGI backend unix:" + b.unix_path + ": Connection refused");
  FcgiBackend tcp;
  tcp.host = "127.0.0.1";
  tcp.port = 1;  // nothing listens on port 1
  sink = run(tcp);
  EXPECT_EQ(sink->fail_status, 503);
  EXPECT_EQ(sink->fail_reason, "FastCGI backend 127.0.0.1:1: Connection refused");
}

TEST_F(FastCgiHandlerTest, SlowBackendIs504AfterProxyTimeout) {
  f.vhost.proxy_timeout_s = 1;
  auto b = unix_backend(test::ResponderMode::Silent);
  auto sink = run(b);
  EXPECT_EQ(sink->fail_status, 504);
  EXPECT_EQ(sink->fail_reason, "FastCGI backend " + b.describe() + ": no answer within 1s");
}

TEST_F(FastCgiHandlerTest, OverloadedAndClosedBackends) {
  auto b = unix_backend(test::ResponderMode::Overloaded);
  auto sink = run(b);
  EXPECT_EQ(sink->fail_status, 503);
  EXPECT_NE(sink->fail_reason.find("refused the request: overloaded"), std::string::npos);
  EXPECT_EQ(BackendPool::instance().idle_count(b.describe()), 0u);

  FcgiBackend c;
  c.unix_path = dir.path() + "/close.sock";
  responders.push_back(test::start_responder(c.unix_path, test::ResponderMode::CloseEarly));
  sink = run(c);
  EXPECT_EQ(sink->fail_status, 502);
  EXPECT_NE(sink->fail_reason.find("closed the connection before sending headers"), std::string::npos);
}

}  // namespace
}  // namespace itkd
