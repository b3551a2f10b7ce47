// Handlers that answer asynchronously (CGI, FastCGI): the connection feeds them the
// request body and they stream the response back through a ResponseSink. A handler never
// blocks the worker's loop; it registers its own fds (pipes, backend sockets) with the
// EventLoop and calls the sink when it has something.
#pragma once

#include <sys/socket.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "config/server_config.h"
#include "event/event_loop.h"
#include "http/request_head.h"
#include "log/error_log.h"

namespace itkd {

// Implemented by the connection.
class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  // Starts the response. `headers` are complete lines "Name: value\r\n" without Date,
  // Server, Connection and Transfer-Encoding. Without a Content-Length among them, the
  // body is sent chunked (HTTP/1.1) or close-delimited (HTTP/1.0).
  virtual void send_head(int status, std::string headers) = 0;
  // Appends body bytes (copied). Call after send_head.
  virtual void send_body(std::string_view data) = 0;
  // True while the connection holds more unsent bytes than it wants: stop producing until
  // AsyncHandler::on_sink_drained() is called.
  virtual bool backlogged() const = 0;
  // The response is complete.
  virtual void end_body() = 0;
  // Before send_head: answer with this error status instead (500, 502, 503, 504), logged
  // with the reason. After send_head: the response is cut short and the connection closed.
  virtual void fail(int status, const std::string& reason) = 0;
  // Before send_head: serve `path` (a local URL, "/x?y") as a new GET inside the same
  // vhost instead (CGI "Location: /path" with no Status).
  virtual void internal_redirect(const std::string& url) = 0;
  // After AsyncHandler::accepts_body() returned false: the handler can take body bytes again.
  virtual void resume_request_body() = 0;
};

// What an async handler knows about the request. Views stay valid until the handler is
// destroyed.
struct HandlerRequest {
  const ServerConfig& config;
  const VirtualHost& vhost;
  size_t vhost_index = 0;
  const http::RequestHead& head;
  std::string_view decoded_path;   // percent-decoded, dot segments removed
  const sockaddr_storage& local;
  const sockaddr_storage& peer;
  bool https = false;
  EventLoop& loop;
  const ErrorLog& error_log;       // the vhost's error log (CGI stderr goes here)
  // mod_ssl's basic variables when https: "TLSv1.3", the cipher name, the SNI sent.
  std::string_view ssl_protocol = {};
  std::string_view ssl_cipher = {};
  std::string_view ssl_sni = {};
  // Who authenticated (AuthType Basic): REMOTE_USER and AUTH_TYPE for the program.
  std::string_view remote_user = {};
  // SetEnv's variables for this script (null: none), read when the handler starts.
  const ScriptEnv* script_env = nullptr;
  // After a rewrite: the client's target for REQUEST_URI (empty: the head's), and for a
  // <Directory> rewrite, the client's decoded path for REDIRECT_URL.
  std::string_view request_uri = {};
  std::string_view redirect_url = {};
  // REDIRECT_STATUS: 200, or the error an ErrorDocument script answers for (404, ...).
  int redirect_status = 200;
  // When `vhost` is a copy with .htaccess settings (worker/htaccess_views.h): keeps it
  // alive as long as the handler.
  std::shared_ptr<const VirtualHost> vhost_owner = {};
};

class AsyncHandler {
 public:
  virtual ~AsyncHandler() = default;
  // Called once; the handler starts its work (spawn, connect). It may call the sink
  // from here on, including synchronously.
  virtual void start() = 0;
  // Request body bytes, already de-chunked, in order; `last` after the final piece. A
  // request without a body gets one call with empty data and last = true.
  virtual void on_request_body(std::string_view data, bool last) = 0;
  // False while the handler holds as much request body as it wants to buffer (its
  // script or backend is not reading): the connection stops reading the socket until
  // the handler calls ResponseSink::resume_request_body().
  virtual bool accepts_body() const { return true; }
  // The sink drained after backlogged() was true.
  virtual void on_sink_drained() = 0;
};

}  // namespace itkd
