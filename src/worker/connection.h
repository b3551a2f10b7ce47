// One client connection inside a worker: reads request heads (parsing again: the worker
// trusts nothing the front did), runs the handler, writes the response (sendfile for
// files), logs it, and keeps the connection for the next request. A request for another
// owner's vhost sends the socket back to the front with the unread bytes.
#pragma once

#include <sys/socket.h>
#include <sys/time.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/shared_fd.h"
#include "common/unique_fd.h"
#include "event/deadline_timer.h"
#include "http/request_head.h"
#include "tls/tls_session.h"
#include "worker/dynamic_target.h"
#include "worker/handler.h"
#include "worker/header_edits.h"
#include "worker/htaccess_views.h"
#include "worker/request_env.h"
#include "worker/rewrite_engine.h"
#include "worker/static/static_handler.h"
#include "worker/worker_context.h"

namespace itkd {

class Connection : public ResponseSink {
 public:
  Connection(WorkerContext& worker, uint64_t id, UniqueFd fd, std::string initial_bytes, size_t front_index,
             uint64_t front_connection_id, const sockaddr_storage& local, const sockaddr_storage& peer,
             bool tls = false, size_t handoff_vhost = 0);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Registers with the event loop and processes the bytes the front passed along.
  void start();
  // Graceful stop: close now if idle between requests, else after the current response.
  void on_stop();

  uint64_t id() const { return id_; }
  bool nodelay() const { return nodelay_; }
  void nodelay_already_set() { nodelay_ = true; }
  // Sends what a handler queued this turn of the loop (see request_flush).
  void flush_queued();
  size_t front_index() const { return front_index_; }
  uint64_t front_connection_id() const { return front_connection_id_; }
  size_t last_vhost() const { return vhost_; }
  size_t handoff_vhost() const { return handoff_vhost_; }
  const sockaddr_storage& local() const { return local_; }
  const sockaddr_storage& peer() const { return peer_; }

 public:
  // ResponseSink, for the CGI and FastCGI handlers (connection_dynamic.cc).
  void send_head(int status, std::string headers) override;
  void send_body(std::string_view data) override;
  bool backlogged() const override;
  void end_body() override;
  void fail(int status, const std::string& reason) override;
  void internal_redirect(const std::string& url) override;
  void resume_request_body() override;

 private:
  // Handling: an async handler (CGI, FastCGI) runs; the body flows to it and its
  // response flows back.
  enum class State { Handshaking, ReadingHead, Writing, DiscardingBody, Handling, Lingering, Closed };

  void on_event(uint32_t events);
  void read_head();
  bool fill_buffer();  // false on EOF/error (connection closed)
  void process_buffer();
  void handle_request();
  void serve_request();
  // `reason` empty: nothing is logged (a 401 asking for credentials); `extra_headers`
  // (e.g. WWW-Authenticate) go into the response head.
  void respond_error(int status, const std::string& reason, bool log_to_vhost, std::string_view extra_headers = {});
  void start_response(StaticResponse response);
  // mod_expires then mod_headers on the handler's field lines `headers`: `success`, the
  // handler's own answer, so "onsuccess" rules apply (and mod_expires, unless `status` is
  // an error); `fs_path`, the file answered, whose <Directory> and <Files> sections'
  // settings apply (empty: none).
  std::string edit_response_headers(std::string_view headers, int status, bool success,
                                    std::string_view fs_path) const;
  // RequestHeader: the rules of the vhost and its <Location> blocks applied to head_'s
  // fields, whose new values then live in request_field_store_.
  void edit_request_headers();
  // Status line, Date, Server, the handler's headers, Keep-Alive/Connection into out_.
  void write_response_head(int status, std::string_view headers, size_t body_reserve);
  void continue_writing();
  void inline_small_file();
  void finish_response();
  void discard_body();
  void after_request();
  void arm_timer(uint64_t ms, bool idle);
  void timed_out();
  void wait_writable();
  bool watch();  // registers the socket with the loop if it isn't yet
  void close(bool handed_back = false);
  void linger();
  void write_access_log();
  void log_error(LogLevel level, const std::string& message);

  // Socket I/O, plain or through TLS; errno EAGAIN when it would block.
  void handshake();
  ssize_t io_recv(char* buf, size_t len);
  ssize_t io_send(const char* buf, size_t len, bool more);
  ssize_t io_sendfile(int file, uint64_t* offset, uint64_t* remaining);
  bool io_pending() const;
  ssize_t tls_write_result(tls::IoStatus status, size_t progressed);
  // One read of request-body bytes: Data (n set), Wait (registered, timer armed), or
  // Gone (the connection was closed: return at once).
  enum class BodyRead { Data, Wait, Gone };
  BodyRead read_body_bytes(char* buf, size_t len, size_t* n);

  // connection_dynamic.cc
  void start_dynamic(DynamicTarget target);
  void launch_handler(std::optional<uint64_t> content_length);
  void collect_chunked_body();
  void feed_body();
  void flush_dynamic();
  void request_flush();
  void dynamic_done();
  void release_handler();
  void restore_reading_interest();
  void update_interest();
  void on_handling_event(uint32_t events);
  // The request the handlers serve: a script's local redirect, else the URL the rewrite
  // rules gave, else the client's.
  const http::RequestHead& current_head() const {
    return redirected_ ? redirect_head_ : rewritten_ ? rewrite_head_ : head_;
  }
  // mod_rewrite (connection.cc): runs the vhost's rules on the client's request.
  void apply_rewrites();
  // .htaccess (worker/htaccess_views.h): the vhost as the access files on the way to a
  // mapped file make it; answers are reused within the request.
  DirectoryView view_for_file(const std::string& fs_path);
  // The same for a decoded, normalized URL path, mapped as the handlers map it.
  DirectoryView view_for_url(const std::string& url_path);
  // Makes view_ the view of `head`'s URL; an error (an unreadable or bad .htaccess) is
  // returned as status and reason for the caller to answer.
  std::pair<int, std::string> select_view(const http::RequestHead& head);
  // ErrorDocument naming a script (/404.php): runs it for the error `status` with the
  // original request's URI, as Apache's internal redirect does; `headers` (a 401's
  // challenge) join the script's.
  void run_error_document(int status, const std::string& url, std::string headers);
  // SetEnvIf / BrowserMatch of the <Directory> (and .htaccess) blocks of the file the
  // request maps to, into request_env_ after the vhost's.
  void apply_directory_setenvif();
  // Redirect / RedirectMatch of the <Directory> (and .htaccess) blocks of the file the
  // request maps to: the answer goes into rewrite_, as a rule's redirect does.
  void apply_directory_redirects();
  // The vhost this request is served by: the .htaccess view, else the config's.
  const VirtualHost& request_vhost() const { return view_ ? *view_ : worker_.config().vhosts[vhost_]; }
  bool request_has_dynamic() const { return view_ ? view_has_dynamic_ : worker_.has_dynamic(vhost_); }
  // Host as the client sent it, else ServerName[:port]: for absolute redirect URLs.
  std::string request_authority() const;
  void use_client(const sockaddr_storage& client);

  WorkerContext& worker_;
  uint64_t id_;
  UniqueFd fd_;
  size_t front_index_;
  uint64_t front_connection_id_;
  sockaddr_storage local_{};
  sockaddr_storage peer_{};
  // The client of the current request: the connection's peer, or the address a proxy
  // named in RemoteIPHeader (then client_overridden_). The three fields below follow it.
  sockaddr_storage request_peer_{};
  bool client_overridden_ = false;
  std::string peer_ip_;
  ClientAddresses client_;  // for Require ip / local and Allow / Deny
  std::string remote_user_;  // who authenticated for the current request (%u), if anyone
  std::string local_ip_;
  std::string client_text_;
  State state_ = State::ReadingHead;
  bool in_loop_ = false;
  bool write_interest_ = false;
  bool nodelay_ = false;
  DeadlineTimer timer_;          // the wait arm_timer() set up
  bool deadline_idle_ = false;   // an idle wait: close quietly when it ends

  std::string in_;
  http::RequestHead head_;
  HeaderStore request_field_store_;  // RequestHeader's new values, which head_.fields view
  bool have_head_ = false;
  size_t vhost_ = 0;
  unsigned requests_ = 0;
  bool keep_alive_ = false;

  // Body of the current request, discarded after the response (static content).
  http::BodyFraming body_framing_ = http::BodyFraming::None;
  uint64_t body_remaining_ = 0;
  uint64_t body_limit_ = 0;
  std::unique_ptr<http::ChunkedDecoder> chunked_;
  size_t body_pos_ = 0;    // where the unread body starts in in_
  std::string leftover_;   // bytes after the body that arrived while skipping it

  // Response in flight.
  std::string out_;
  size_t out_sent_ = 0;
  bool flush_requested_ = false;  // queued output goes out at the end of the loop turn
  bool reads_muted_ = false;  // a handler runs and the client sent more: stop reading
  SharedFd file_;  // may be shared with the worker's open-file cache
  uint64_t file_offset_ = 0;
  uint64_t file_remaining_ = 0;
  int status_ = 0;
  uint64_t body_bytes_sent_ = 0;
  uint64_t bytes_out_ = 0;
  std::string response_headers_;
  std::string filename_;
  struct timeval request_start_{};
  uint64_t request_start_mono_ms_ = 0;
  bool logged_ = false;

  // Async handler state.
  std::shared_ptr<AsyncHandler> handler_;
  DynamicTarget target_;
  std::string decoded_path_;
  ScriptEnv script_env_;  // SetEnv's variables for the running script
  bool response_started_ = false;
  bool response_chunked_ = false;
  bool response_no_body_ = false;
  bool response_ended_ = false;
  bool body_delivered_ = false;   // the handler got the whole request body
  bool collecting_body_ = false;  // a chunked body is read fully before a CGI starts
  bool was_backlogged_ = false;
  uint32_t interest_ = 0;
  std::string collected_body_;
  bool redirected_ = false;
  // Running an ErrorDocument script: the error it answers for (its status unless the
  // script sets another) and the headers the error carried.
  int error_document_status_ = 0;
  std::string error_document_headers_;
  bool fallback_allowed_ = true;  // FallbackResource may apply to this request's static answer
  std::string redirect_buf_;
  http::RequestHead redirect_head_;
  // SetEnvIf's variables for this request (worker/request_env.h).
  ScriptEnv request_env_;
  // What the rewrite rules made of this request (worker/rewrite_engine.h).
  RewriteOutcome rewrite_;
  bool rewritten_ = false;          // rewrite_head_ serves instead of head_
  http::RequestHead rewrite_head_;  // head_ with the rewritten path and query
  std::string rewrite_raw_path_;    // its path, escaped again
  std::string client_uri_;          // REQUEST_URI: what the client asked for
  std::string client_path_;         // REDIRECT_URL: its decoded path
  // This request's .htaccess view (null: none applies) and the last one looked up.
  std::shared_ptr<const VirtualHost> view_;
  bool view_has_dynamic_ = false;
  // The views this request looked up (a rewrite asks for the client's path, the rewritten
  // one and the client's again for its access check): each path's files are checked once.
  std::vector<std::pair<std::string, DirectoryView>> views_seen_;
  bool tls_requested_ = false;
  size_t handoff_vhost_ = 0;
  // The last Host routed on this connection and its vhost.
  bool routed_ = false;
  std::string routed_host_;
  size_t routed_vhost_ = 0;
  std::unique_ptr<tls::TlsSession> tls_;
  std::string tls_sni_;
  // Expires with the connection, for callbacks scheduled on the loop.
  std::shared_ptr<int> life_ = std::make_shared<int>(0);
};

}  // namespace itkd
