// FastCGI responder client as an AsyncHandler: php-fpm and other external backends
// (SetHandler "proxy:...", ProxyPassMatch) with keep-conn reuse, and mod_fcgid-style
// managed processes (FcgidProcessManager). Sends the CGI environment as PARAMS, streams
// the body as STDIN, relays STDOUT through the CGI response parser, logs STDERR.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/unique_fd.h"
#include "event/deadline_timer.h"
#include "event/event_loop.h"
#include "worker/cgi/cgi_environment.h"
#include "worker/cgi/response_relay.h"
#include "worker/cgi/script_stderr.h"
#include "worker/fastcgi/fcgi_record.h"
#include "worker/fastcgi/fcgid_process_manager.h"
#include "worker/handler.h"

namespace itkd {

class FastCgiHandler : public AsyncHandler {
 public:
  // Request body held for a backend that is not reading, before accepts_body() says no.
  static constexpr size_t kMaxPendingBody = 256 * 1024;

  // An external backend (php-fpm): `backend` from HandlerChoice or ProxyPassTarget.
  // Timeout: ProxyTimeout, else Timeout.
  FastCgiHandler(const HandlerRequest& request, FcgiBackend backend, CgiScript script,
                 std::optional<uint64_t> content_length, ResponseSink& sink);
  // A managed process of `cls` (FcgidWrapper / fcgid-script). Timeout: FcgidIOTimeout.
  FastCgiHandler(const HandlerRequest& request, FcgidProcessManager& manager, FcgidClass cls,
                 CgiScript script, std::optional<uint64_t> content_length, ResponseSink& sink);
  ~FastCgiHandler() override;
  FastCgiHandler(const FastCgiHandler&) = delete;
  FastCgiHandler& operator=(const FastCgiHandler&) = delete;

  void start() override;
  void on_request_body(std::string_view data, bool last) override;
  bool accepts_body() const override;
  void on_sink_drained() override;

  // For tests: the managed process serving this request (-1 if none).
  pid_t process_pid() const { return lease_.pid(); }

 private:
  void begin_connect();
  void on_event(uint32_t events);
  void on_connected();
  void write_out();
  void read_in();
  bool handle_record(fcgi::Record& record);  // false: stop (the sink may be gone)
  bool retry_fresh();  // a reused connection failed before any answer: reconnect once
  void update_interest();
  void arm_timer();
  void timed_out();
  void fail(int status, const std::string& reason);
  void stop();

  HandlerRequest request_;
  FcgiBackend backend_;
  FcgidProcessManager* manager_ = nullptr;
  std::optional<FcgidClass> fcgid_class_;
  FcgidLease lease_;
  uint64_t ticket_ = 0;
  CgiScript script_;
  std::optional<uint64_t> content_length_;
  ResponseSink& sink_;
  ResponseRelay relay_;
  ScriptStderr stderr_log_;
  unsigned timeout_s_ = 60;
  bool keep_conn_ = false;

  UniqueFd fd_;
  bool registered_ = false;
  uint32_t registered_events_ = 0;  // what epoll watches for fd_ while registered_
  bool connecting_ = false;
  bool connected_ = false;
  std::string out_;            // bytes for the backend not yet written
  bool body_done_ = false;     // the empty STDIN record is in out_
  bool body_paused_ = false;
  bool reading_ = true;        // false while the sink is backlogged
  bool ended_ = false;         // END_REQUEST seen
  bool reused_ = false;        // fd_ came from the BackendPool
  bool received_any_ = false;  // the backend has sent something on fd_
  bool retried_ = false;
  std::string replay_;         // bytes sent on a reused connection before any answer
  bool stopped_ = false;
  fcgi::RecordDecoder decoder_;
  DeadlineTimer timer_;  // FcgidIOTimeout / ProxyTimeout since the backend's last sign of life
  LifeGuard guard_;
};

}  // namespace itkd
