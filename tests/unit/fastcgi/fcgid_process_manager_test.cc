#include "worker/fastcgi/fcgid_process_manager.h"

#include <signal.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <climits>
#include <memory>

#include "cgi/handler_test_support.h"
#include "worker/fastcgi/fastcgi_handler.h"

namespace itkd {
namespace {

std::string self_exe() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

std::string header(const std::string& headers, const std::string& name) {
  size_t at = headers.find(name + ": ");
  if (at == std::string::npos) return "";
  size_t end = headers.find("\r\n", at);
  return headers.substr(at + name.size() + 2, end - at - name.size() - 2);
}

class FcgidTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::signal(SIGPIPE, SIG_IGN);
    cls.command = self_exe();  // this binary turns into a FastCGI app (fcgi_test_responder.cc)
    cls.working_directory = dir.path();
    cls.settings.initial_env = {{"ITKD_TEST_FCGI_APP", "1"}};
    cls.settings.max_processes_per_class = 1;
    cls.error_log = &f.log;
  }

  CgiScript script(const std::string& path = "/srv/a/app.fcgi") {
    CgiScript s;
    s.filename = path;
    s.script_name = "/app.fcgi";
    return s;
  }

  // Runs requests to completion, all started together.
  std::vector<std::unique_ptr<test::FakeSink>> run(size_t n, const CgiScript& s) { return run(n, s, manager); }
  std::vector<std::unique_ptr<test::FakeSink>> run(size_t n, const CgiScript& s, FcgidProcessManager& m) {
    std::vector<std::unique_ptr<test::FakeSink>> sinks;
    std::vector<std::unique_ptr<FastCgiHandler>> handlers;
    for (size_t i = 0; i < n; ++i) {
      sinks.push_back(std::make_unique<test::FakeSink>(f.loop));
      handlers.push_back(std::make_unique<FastCgiHandler>(f.request(), m, cls, s, std::nullopt, *sinks.back()));
    }
    for (auto& h : handlers) h->start();
    for (auto& h : handlers) h->on_request_body({}, true);
    for (auto& sink : sinks) {
      EXPECT_TRUE(f.run(*sink, 10000));
      // Done requests give their process back, as a connection destroying its handler.
      for (size_t i = 0; i < n; ++i)
        if (sinks[i]->done) handlers[i].reset();
    }
    return sinks;
  }

  test::RequestFixture f{"GET /app.fcgi HTTP/1.1\r\nHost: a\r\n\r\n"};
  test::TempDir dir;
  FcgidClass cls;
  FcgidProcessManager manager{f.loop};
};

TEST_F(FcgidTest, OneProcessServesQueuedRequestsInTurn) {
  auto sinks = run(3, script());
  std::string pid = header(sinks[0]->headers, "X-Pid");
  ASSERT_FALSE(pid.empty()) << sinks[0]->fail_reason;
  for (auto& s : sinks) {
    EXPECT_TRUE(s->ended) << s->fail_reason;
    EXPECT_EQ(s->body, "GET /srv/a/app.fcgi body=");
    EXPECT_EQ(header(s->headers, "X-Pid"), pid);
  }
  EXPECT_EQ(manager.process_count(cls.key()), 1u);
  // The socket lives in a private directory.
  struct stat st {};
  ASSERT_EQ(::stat(manager.directory().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_EQ(st.st_uid, ::geteuid());
}

TEST_F(FcgidTest, AKeptConnectionTheProcessClosesWhileIdleDoesNotFailTheNextRequest) {
  // The process answers and closes the kept connection, staying alive: the idle
  // connection the worker watches reports it, and the next request connects afresh to
  // the same process instead of sending into a dead connection.
  cls.settings.initial_env = {{"ITKD_TEST_FCGI_APP", "close-after-answer"}};
  std::string pid;
  for (int i = 0; i < 3; ++i) {
    auto sinks = run(1, script());
    ASSERT_TRUE(sinks[0]->ended) << sinks[0]->fail_reason;
    EXPECT_EQ(sinks[0]->body, "GET /srv/a/app.fcgi body=");
    if (pid.empty()) pid = header(sinks[0]->headers, "X-Pid");
    EXPECT_EQ(header(sinks[0]->headers, "X-Pid"), pid) << "request " << i;
    // Let the loop see the close of the idle connection before the next request.
    f.loop.add_timer(20, [&] { f.loop.stop(); });
    ASSERT_TRUE(f.loop.run());
  }
  EXPECT_EQ(manager.process_count(cls.key()), 1u);
}

TEST_F(FcgidTest, TwoProcessesWhenAllowed) {
  cls.settings.max_processes_per_class = 2;
  auto sinks = run(2, script());
  EXPECT_NE(header(sinks[0]->headers, "X-Pid"), header(sinks[1]->headers, "X-Pid"));
  EXPECT_EQ(manager.process_count(cls.key()), 2u);
}

// A pool of two workers: each may start half of FcgidMaxProcessesPerClass, so the owner
// never runs more than the admin allowed however the pool grows.
TEST_F(FcgidTest, EachWorkerOfAPoolStartsItsShareOfTheLimit) {
  FcgidProcessManager one_of_two{f.loop, 2};
  cls.settings.max_processes_per_class = 4;
  auto sinks = run(4, script(), one_of_two);
  for (auto& s : sinks) EXPECT_TRUE(s->ended) << s->fail_reason;
  EXPECT_EQ(one_of_two.process_count(cls.key()), 2u);
}

TEST(FcgidShare, SplitsMaxAndMinAcrossThePoolsWorkers) {
  EventLoop loop;
  FcgidSettings s;
  s.max_processes_per_class = 4;
  s.min_processes_per_class = 3;
  EXPECT_EQ(FcgidProcessManager(loop, 1).max_processes(s), 4u);
  EXPECT_EQ(FcgidProcessManager(loop, 2).max_processes(s), 2u);
  EXPECT_EQ(FcgidProcessManager(loop, 3).max_processes(s), 1u);  // 3 x 1 <= 4: rounded down
  EXPECT_EQ(FcgidProcessManager(loop, 8).max_processes(s), 1u);  // a worker needs one to serve
  EXPECT_EQ(FcgidProcessManager(loop, 1).min_processes(s), 3u);
  EXPECT_EQ(FcgidProcessManager(loop, 2).min_processes(s), 1u);
  EXPECT_EQ(FcgidProcessManager(loop, 4).min_processes(s), 0u);
  s.max_processes_per_class = 0;  // unset: one
  EXPECT_EQ(FcgidProcessManager(loop, 2).max_processes(s), 1u);
}

TEST_F(FcgidTest, RetiredAfterMaxRequests) {
  cls.settings.max_requests_per_process = 1;
  auto a = run(1, script());
  auto b = run(1, script());
  EXPECT_TRUE(a[0]->ended);
  EXPECT_TRUE(b[0]->ended);
  EXPECT_NE(header(a[0]->headers, "X-Pid"), header(b[0]->headers, "X-Pid"));
}

TEST_F(FcgidTest, ReplacedAfterDeath) {
  auto a = run(1, script());
  pid_t pid = std::stoi(header(a[0]->headers, "X-Pid"));
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  // Let the manager see the exit through the pidfd.
  for (int i = 0; i < 100 && manager.process_count(cls.key()) > 0; ++i) {
    f.loop.add_timer(10, [&] { f.loop.stop(); });
    (void)f.loop.run();
  }
  EXPECT_EQ(manager.process_count(cls.key()), 0u);
  auto b = run(1, script());
  EXPECT_TRUE(b[0]->ended) << b[0]->fail_reason;
  EXPECT_NE(header(b[0]->headers, "X-Pid"), std::to_string(pid));
}

TEST_F(FcgidTest, StoppedWhenIdle) {
  cls.settings.idle_timeout_s = 1;
  cls.settings.min_processes_per_class = 0;
  auto a = run(1, script());
  EXPECT_EQ(manager.process_count(cls.key()), 1u);
  pid_t pid = std::stoi(header(a[0]->headers, "X-Pid"));
  f.loop.add_timer(2500, [&] { f.loop.stop(); });
  (void)f.loop.run();
  EXPECT_EQ(manager.process_count(cls.key()), 0u);
  EXPECT_EQ(test::wait_group_gone(pid, 2000), 0);
}

TEST_F(FcgidTest, ClassFromTheVhost) {
  VirtualHost v;
  v.fcgid.max_processes_per_class = 7;
  v.script_limits.nproc = ResourceLimit{true, 20, std::nullopt};
  FcgidClass a = fcgid_class_for(v, "/usr/bin/php-cgi", "/srv/a/x/index.php", f.log);
  EXPECT_EQ(a.command, "/usr/bin/php-cgi");
  EXPECT_EQ(a.working_directory, "/srv/a/x");
  EXPECT_EQ(a.settings.max_processes_per_class, 7u);
  EXPECT_EQ(a.error_log, &f.log);
  FcgidClass b = fcgid_class_for(v, "", "/srv/a/app.fcgi", f.log);
  EXPECT_EQ(b.command, "/srv/a/app.fcgi");
  // Different programs never share processes; one wrapper serves every directory.
  EXPECT_NE(a.key(), b.key());
  EXPECT_EQ(a.key(), fcgid_class_for(v, "/usr/bin/php-cgi", "/srv/a/y/index.php", f.log).key());
  v.fcgid.initial_env = {{"PHPRC", "/etc/php-alt"}};
  EXPECT_NE(a.key(), fcgid_class_for(v, "/usr/bin/php-cgi", "/srv/a/x/index.php", f.log).key());
}

TEST_F(FcgidTest, PhpSettingsOfTheScriptsDirectoryGoToPhpCgiOnly) {
  VirtualHost v;
  v.php_ini = {{"memory_limit", "64M", false}};
  DirectoryBlock up;
  up.path = "/srv/a/uploads";
  up.php_ini = {{"engine", "0", true}};
  v.directories.push_back(up);
  FcgidClass top = fcgid_class_for(v, "/usr/bin/php-cgi", "/srv/a/index.php", f.log);
  EXPECT_EQ(top.extra_args, (std::vector<std::string>{"-d", "memory_limit=64M"}));
  FcgidClass uploads = fcgid_class_for(v, "/usr/bin/php-cgi", "/srv/a/uploads/x.php", f.log);
  EXPECT_EQ(uploads.extra_args, (std::vector<std::string>{"-d", "memory_limit=64M", "-d", "engine=0"}));
  // Different settings, different processes: an uploads script never runs in a php-cgi
  // started with the engine on.
  EXPECT_NE(top.key(), uploads.key());
  EXPECT_TRUE(fcgid_class_for(v, "/usr/local/bin/wrapper.sh", "/srv/a/index.php", f.log).extra_args.empty());
}

TEST_F(FcgidTest, MissingProgramIs503) {
  cls.command = dir.path() + "/no-such-program";
  auto a = run(1, script());
  EXPECT_EQ(a[0]->fail_status, 503);
  EXPECT_NE(a[0]->fail_reason.find("No such file or directory"), std::string::npos) << a[0]->fail_reason;
}

TEST_F(FcgidTest, PhpCgiRunsAsUsWithAWarmOpcache) {
  if (::access("/usr/bin/php-cgi", X_OK) != 0) GTEST_SKIP() << "php-cgi not installed";
  cls.command = "/usr/bin/php-cgi";
  cls.settings.initial_env = {{"PHP_FCGI_CHILDREN", "0"}};
  std::string php = dir.write("info.php",
                              "<?php $s = opcache_get_status(false);\n"
                              "echo posix_geteuid(), ' ', getmypid(), ' ', "
                              "$s['opcache_statistics']['hits'] > 0 ? 'hit' : 'miss';",
                              0644);
  // opcache skips files changed in the last 2 s (opcache.file_update_protection).
  struct timespec old[2] = {{::time(nullptr) - 60, 0}, {::time(nullptr) - 60, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, php.c_str(), old, 0), 0);
  auto a = run(1, script(php));
  auto b = run(1, script(php));
  ASSERT_TRUE(a[0]->ended) << a[0]->fail_reason;
  ASSERT_TRUE(b[0]->ended) << b[0]->fail_reason;
  std::string uid = std::to_string(::geteuid());
  EXPECT_EQ(a[0]->body.substr(0, uid.size() + 1), uid + " ") << a[0]->body;
  // Same process both times, and the second hit comes from the opcode cache.
  std::string pid_a = a[0]->body.substr(uid.size() + 1, a[0]->body.rfind(' ') - uid.size() - 1);
  std::string pid_b = b[0]->body.substr(uid.size() + 1, b[0]->body.rfind(' ') - uid.size() - 1);
  EXPECT_EQ(pid_a, pid_b);
  EXPECT_TRUE(a[0]->body.ends_with(" miss")) << a[0]->body;
  EXPECT_TRUE(b[0]->body.ends_with(" hit")) << b[0]->body;
}

}  // namespace
}  // namespace itkd
