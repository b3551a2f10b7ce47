// Turns a script's output stream (CGI stdout, FastCGI STDOUT records) into calls on the
// ResponseSink: parses the header block, then forwards the body as it comes. Shared by
// the CGI and FastCGI handlers so both answer the same way.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "worker/cgi/cgi_response.h"
#include "worker/handler.h"

namespace itkd {

// A sink call may end the response and with it destroy the handler that made it (the
// connection owns handlers). Code that keeps going after a sink call holds a token and
// checks it: `auto alive = guard_.token(); sink.send_body(x); if (!*alive) return;`.
class LifeGuard {
 public:
  LifeGuard() : alive_(std::make_shared<bool>(true)) {}
  ~LifeGuard() { *alive_ = false; }
  LifeGuard(const LifeGuard&) = delete;
  LifeGuard& operator=(const LifeGuard&) = delete;
  std::shared_ptr<const bool> token() const { return alive_; }

 private:
  std::shared_ptr<bool> alive_;
};

class ResponseRelay {
 public:
  // `script` names the script in messages ("/srv/a/cgi-bin/x.cgi").
  ResponseRelay(ResponseSink& sink, std::string script) : sink_(sink), script_(std::move(script)) {}

  // Output bytes. Returns false once the response is settled without a body to stream
  // (malformed header -> fail(500), local redirect -> internal_redirect): stop the script.
  // The sink may have destroyed the caller during the call; callers check their guard.
  bool feed(std::string_view data);
  // The output ended: end_body(), or fail(500) if the header block never completed.
  void finish();
  bool head_sent() const { return head_sent_; }
  bool settled() const { return settled_; }

 private:
  ResponseSink& sink_;
  std::string script_;
  CgiResponseParser parser_;
  bool head_sent_ = false;
  bool settled_ = false;
  LifeGuard guard_;
};

}  // namespace itkd
