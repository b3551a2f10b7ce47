// CGI/1.1 as an AsyncHandler: spawns the script as the worker's user (the owner), feeds
// it the request body with back-pressure, relays its output, logs its stderr, and kills
// its process group on Timeout or when the request goes away.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "event/event_loop.h"
#include "worker/cgi/cgi_environment.h"
#include "worker/cgi/response_relay.h"
#include "worker/cgi/script_process.h"
#include "worker/cgi/script_stderr.h"
#include "worker/handler.h"

namespace itkd {

class CgiHandler : public AsyncHandler {
 public:
  // Request body bytes held for a script that is not reading, before accepts_body() says no.
  static constexpr size_t kMaxPendingBody = 256 * 1024;

  // `script`: what runs and the URL split (see split_path_info / script_name_for).
  // `content_length`: the body length (de-chunked), nullopt without a body.
  CgiHandler(const HandlerRequest& request, CgiScript script,
             std::optional<uint64_t> content_length, ResponseSink& sink);
  ~CgiHandler() override;
  CgiHandler(const CgiHandler&) = delete;
  CgiHandler& operator=(const CgiHandler&) = delete;

  void start() override;
  void on_request_body(std::string_view data, bool last) override;
  bool accepts_body() const override;
  void on_sink_drained() override;

  // For tests: the script's pid once started.
  pid_t pid() const { return process_.pid(); }

 private:
  void on_stdout();
  void on_stderr();
  void on_stdin_writable(uint32_t events);
  void on_exit();
  void write_body();
  void close_stdin();
  void arm_timer();
  void timed_out();
  // Stops everything: fds out of the loop, timer cancelled, the process group killed.
  void stop();

  HandlerRequest request_;
  CgiScript script_;
  std::optional<uint64_t> content_length_;
  ResponseSink& sink_;
  ResponseRelay relay_;
  ScriptStderr stderr_log_;
  ScriptProcess process_;
  std::string body_;          // request body not yet written to the script
  bool body_done_ = false;    // the last body piece arrived
  bool body_paused_ = false;  // accepts_body() said false
  bool stdin_dropped_ = false;  // the script closed its stdin: discard the rest
  bool reading_ = false;      // stdout registered in the loop (not while the sink is backlogged)
  bool stdout_done_ = false;
  bool stopped_ = false;
  bool timer_armed_ = false;
  EventLoop::TimerId timer_ = 0;
  LifeGuard guard_;
};

}  // namespace itkd
