// Test doubles for async handlers: a recording ResponseSink and a request with a real
// EventLoop, addresses and an error log captured in a temporary file.
#pragma once

#include <netinet/in.h>

#include <functional>
#include <string>

#include "common/unique_fd.h"
#include "config/server_config.h"
#include "event/event_loop.h"
#include "http/request_head.h"
#include "log/error_log.h"
#include "worker/handler.h"

namespace itkd::test {

class FakeSink : public ResponseSink {
 public:
  explicit FakeSink(EventLoop& loop) : loop_(loop) {}
  void send_head(int s, std::string h) override {
    status = s;
    headers = std::move(h);
    head_sent = true;
  }
  void send_body(std::string_view data) override { body.append(data); }
  bool backlogged() const override { return backlog; }
  void end_body() override { finish(); ended = true; }
  void fail(int s, const std::string& reason) override {
    fail_status = s;
    fail_reason = reason;
    finish();
  }
  void internal_redirect(const std::string& url) override {
    redirect = url;
    finish();
  }
  void resume_request_body() override { ++resumes; }

  bool done = false;
  bool head_sent = false;
  bool ended = false;
  bool backlog = false;
  int status = 0;
  int fail_status = 0;
  int resumes = 0;
  std::string headers, body, fail_reason, redirect;
  std::function<void()> on_done;  // e.g. destroy the handler, as a connection would

 private:
  void finish() {
    done = true;
    if (on_done) on_done();
    loop_.stop();
  }
  EventLoop& loop_;
};

// A parsed request and everything a HandlerRequest points to.
class RequestFixture {
 public:
  explicit RequestFixture(std::string raw = "GET /cgi-bin/x.cgi HTTP/1.1\r\nHost: a.example\r\n\r\n");
  void set_request(std::string raw);
  HandlerRequest request();
  std::string log_text() const;
  // Runs the loop until the sink is done or `timeout_ms` passed (then false).
  bool run(FakeSink& sink, uint64_t timeout_ms);

  ServerConfig config;
  VirtualHost vhost;
  std::string raw;
  http::RequestHead head;
  std::string decoded_path;
  sockaddr_storage local{}, peer{};
  EventLoop loop;
  UniqueFd log_fd;
  ErrorLog log;
};

// Live (not zombie) processes whose process group is `pgid`.
int live_in_group(pid_t pgid);
// Polls until no live process is left in the group or `ms` passed; the count left.
int wait_group_gone(pid_t pgid, int ms);

// A fresh directory under /tmp, removed (recursively) when destroyed.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  // Writes `name` with `content` and mode `mode`; returns the full path.
  std::string write(const std::string& name, const std::string& content, unsigned mode = 0755) const;

 private:
  std::string path_;
};

}  // namespace itkd::test
