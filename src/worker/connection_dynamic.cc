// The connection as a ResponseSink: runs CGI and FastCGI handlers, streams the request
// body to them (with back-pressure) and their response to the client (chunked when they
// give no length), without ever blocking the worker's loop.
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "http/response_head.h"
#include "worker/cgi/cgi_handler.h"
#include "worker/connection.h"
#include "worker/fastcgi/fastcgi_handler.h"

namespace itkd {

namespace {

// Unsent response bytes above which the handler is asked to pause.
constexpr size_t kBacklogBytes = 256 * 1024;

bool has_header(std::string_view headers, std::string_view name) {
  size_t pos = 0;
  while (pos < headers.size()) {
    size_t end = headers.find("\r\n", pos);
    if (end == std::string_view::npos) end = headers.size();
    std::string_view line = headers.substr(pos, end - pos);
    if (line.size() > name.size() && line[name.size()] == ':' &&
        strncasecmp(line.data(), name.data(), name.size()) == 0)
      return true;
    pos = end + 2;
  }
  return false;
}

}  // namespace

void Connection::start_dynamic(DynamicTarget target) {
  remote_user_ = target.remote_user;
  if (target.error_status) {
    respond_error(target.error_status, target.reason, true, target.extra_headers);
    return;
  }
  target_ = std::move(target);
  decoded_path_ = target_.decoded_path;
  response_started_ = response_chunked_ = response_no_body_ = response_ended_ = false;
  body_delivered_ = collecting_body_ = was_backlogged_ = reads_muted_ = false;
  collected_body_.clear();
  state_ = State::Handling;
  // What epoll watches for this socket right now (update_interest changes it).
  interest_ = in_loop_ ? ((write_interest_ ? uint32_t{EPOLLOUT} : uint32_t{EPOLLIN}) | EPOLLRDHUP) : 0u;
  const http::RequestHead& head = current_head();
  if (body_framing_ != http::BodyFraming::None && head.expect_continue) {
    // The client waits for our go-ahead before sending the body the program will read.
    static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
    [[maybe_unused]] ssize_t n = io_send(kContinue, sizeof kContinue - 1, false);
  }
  if (body_framing_ == http::BodyFraming::Chunked) {
    // CGI needs CONTENT_LENGTH up front: read the whole (bounded) body first.
    collecting_body_ = true;
    collect_chunked_body();
    return;
  }
  launch_handler(body_framing_ == http::BodyFraming::ContentLength ? std::optional<uint64_t>(body_remaining_)
                                                                   : std::nullopt);
}

void Connection::collect_chunked_body() {
  static char scratch[16384];
  bool from_buffer = body_pos_ < in_.size();
  for (;;) {
    std::string_view data;
    if (from_buffer) {
      data = std::string_view(in_).substr(body_pos_);
    } else {
      size_t got = 0;
      if (read_body_bytes(scratch, sizeof scratch, &got) != BodyRead::Data) return;
      data = std::string_view(scratch, got);
    }
    auto step = chunked_->feed(data, collected_body_);
    if (step.error) {
      respond_error(400, "bad chunked request body: " + step.reason, true);
      return;
    }
    if (body_limit_ && chunked_->total_size() > body_limit_) {
      respond_error(413, "chunked request body larger than LimitRequestBody " + std::to_string(body_limit_), true);
      return;
    }
    if (from_buffer) {
      body_pos_ += step.consumed;
    } else if (step.done) {
      leftover_.assign(data.substr(step.consumed));
    }
    from_buffer = false;
    if (step.done) {
      timer_.disarm();
      collecting_body_ = false;
      body_framing_ = http::BodyFraming::None;
      chunked_.reset();
      launch_handler(static_cast<uint64_t>(collected_body_.size()));
      return;
    }
  }
}

void Connection::launch_handler(std::optional<uint64_t> content_length) {
  const ServerConfig& config = worker_.config();
  const VirtualHost& vh = request_vhost();
  const VhostLogs& logs = worker_.logs(vhost_);
  HandlerRequest request{config, vh, vhost_, current_head(), decoded_path_, local_, request_peer_,
                         tls_ != nullptr, worker_.loop(), logs.error};
  request.vhost_owner = view_;
  request.remote_user = remote_user_;
  // Apache's order: SetEnvIf's variables, then the rewrite rules' [E=], then SetEnv.
  bool rewrite_env = !rewrite_.env.empty() && !redirected_;
  if (vh.has_script_env || !request_env_.empty() || rewrite_env) {
    script_env_ = request_env_;
    for (auto& e : script_env_) e.first = script_env_name(e.first);
    if (rewrite_env)
      for (const auto& e : rewrite_.env) apply_script_env_ops(script_env_, {{e.first, e.second}});
    if (vh.has_script_env) script_env_ = script_env_for(vh, target_.script.filename, decoded_path_, std::move(script_env_));
    request.script_env = &script_env_;
  }
  if (error_document_status_) {
    request.redirect_status = error_document_status_;
    request.request_uri = client_uri_;
    request.redirect_url = client_path_;
  } else if (rewritten_ && !redirected_) {
    // Scripts see what the client asked for as REQUEST_URI (WordPress routes on it), and
    // a <Directory> rewrite as an internal redirect, as Apache shows it.
    request.request_uri = client_uri_;
    if (rewrite_.internal_redirect) request.redirect_url = client_path_;
  }
  if (tls_) {
    tls_sni_ = tls_->sni();
    request.ssl_protocol = tls_->protocol();
    request.ssl_cipher = tls_->cipher();
    request.ssl_sni = tls_sni_;
  }
  switch (target_.choice.kind) {
    case HandlerChoice::Kind::Cgi:
      handler_ = std::make_shared<CgiHandler>(request, target_.script, content_length, *this);
      break;
    case HandlerChoice::Kind::ProxyFcgi:
      handler_ = std::make_shared<FastCgiHandler>(request, target_.choice.backend, target_.script, content_length, *this);
      break;
    case HandlerChoice::Kind::Fcgid: {
      handler_ = std::make_shared<FastCgiHandler>(
          request, worker_.fcgid(), fcgid_class_for(vh, target_.choice.wrapper, target_.script.filename, logs.error),
          target_.script, content_length, *this);
      break;
    }
    default:
      respond_error(500, "no handler for " + target_.script.filename, true);
      return;
  }
  std::shared_ptr<AsyncHandler> keep = handler_;
  keep->start();
  if (state_ != State::Handling || handler_ != keep) return;
  feed_body();
}

void Connection::feed_body() {
  if (!handler_ || body_delivered_ || collecting_body_ || state_ != State::Handling) return;
  std::shared_ptr<AsyncHandler> keep = handler_;
  if (!collected_body_.empty() || body_framing_ == http::BodyFraming::None) {
    // No body, or a chunked one read completely beforehand.
    body_delivered_ = true;
    std::string body = std::move(collected_body_);
    collected_body_.clear();
    keep->on_request_body(body, true);
    update_interest();
    return;
  }
  // Content-Length: first what is buffered after the head, then the socket.
  static char scratch[65536];
  while (body_remaining_ > 0 && keep->accepts_body()) {
    std::string_view data;
    if (body_pos_ < in_.size()) {
      data = std::string_view(in_).substr(body_pos_, static_cast<size_t>(std::min<uint64_t>(body_remaining_, in_.size() - body_pos_)));
      body_pos_ += data.size();
    } else {
      size_t n = 0;
      if (read_body_bytes(scratch, sizeof scratch, &n) != BodyRead::Data) return;
      size_t take = static_cast<size_t>(std::min<uint64_t>(body_remaining_, n));
      if (take < n) leftover_.assign(scratch + take, n - take);
      data = std::string_view(scratch, take);
    }
    body_remaining_ -= data.size();
    bool last = body_remaining_ == 0;
    if (last) {
      body_delivered_ = true;
      body_framing_ = http::BodyFraming::None;
    }
    keep->on_request_body(data, last);
    if (state_ != State::Handling || handler_ != keep) return;
  }
  if (body_remaining_ == 0 && !body_delivered_) {
    body_delivered_ = true;
    body_framing_ = http::BodyFraming::None;
    keep->on_request_body({}, true);
  }
  if (body_delivered_) timer_.disarm();
  update_interest();
}

void Connection::update_interest() {
  if (state_ != State::Handling) return;
  bool want_body = (collecting_body_ || (!body_delivered_ && handler_ && handler_->accepts_body()));
  // Reads stay on while a handler runs even when nothing wants them, saving two
  // epoll_ctl per request; a client that sends meanwhile gets muted (on_handling_event).
  bool reads = want_body || !reads_muted_;
  uint32_t events = (reads ? uint32_t{EPOLLIN | EPOLLRDHUP} : 0u) | (out_sent_ < out_.size() ? uint32_t{EPOLLOUT} : 0u);
  if (!in_loop_ && !want_body && !(events & EPOLLOUT) && !keep_alive_) {
    // The last request of the connection, read whole: nothing to wait for on the socket
    // until the answer backs up. Watching it anyway cost an epoll_ctl to add and one to
    // remove per Connection: close request, to learn at most of a client's FIN, which
    // only mutes reads.
    return;
  }
  if (!in_loop_) {
    write_interest_ = false;
    if (!watch()) return;
    interest_ = EPOLLIN | EPOLLRDHUP;
  }
  if (events != interest_) {
    worker_.loop().modify(fd_.get(), events);
    interest_ = events;
  }
}

void Connection::on_handling_event(uint32_t events) {
  if (events & EPOLLERR) {
    close();
    return;
  }
  if ((events & EPOLLOUT) && out_sent_ < out_.size()) {
    flush_dynamic();
    if (state_ != State::Handling) return;
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) {
    if (collecting_body_) {
      collect_chunked_body();
    } else if (!body_delivered_) {
      feed_body();
    } else if (events & EPOLLHUP) {
      close();
    } else {
      // Pipelined bytes or a half-close while the answer is being made: read them later.
      reads_muted_ = true;
      update_interest();
    }
  }
}

void Connection::send_head(int status, std::string headers) {
  if (state_ != State::Handling || response_started_) return;
  response_started_ = true;
  if (error_document_status_) {
    // An ErrorDocument script answers with the error's status unless it sets its own.
    if (status == 200) status = error_document_status_;
    headers.insert(0, error_document_headers_);
  }
  status_ = status;
  // Whatever a script answers is the handler's own answer: "onsuccess" rules apply too,
  // and mod_expires unless it is an error.
  if (const VirtualHost& vh = request_vhost(); vh.has_header_rules || vh.has_expires)
    headers = edit_response_headers(headers, status, true, target_.script.filename);
  const http::RequestHead& head = current_head();
  response_no_body_ = head.method == http::Method::Head || status == 204 || status == 304 || status < 200;
  if (!response_no_body_ && !has_header(headers, "Content-Length")) {
    if (head.version_minor == 1) {
      response_chunked_ = true;
      headers += "Transfer-Encoding: chunked\r\n";
    } else {
      keep_alive_ = false;  // the end of the body is the end of the connection
    }
  }
  response_headers_ = headers;
  write_response_head(status, headers, 0);
  request_flush();
}

void Connection::send_body(std::string_view data) {
  if (state_ != State::Handling || !response_started_ || response_ended_ || response_no_body_ || data.empty()) return;
  if (response_chunked_) {
    char size[20];  // to_chars, not snprintf: 0.7 % of a PHP request's worker CPU
    char* end = std::to_chars(size, size + sizeof size, data.size(), 16).ptr;
    out_.append(size, static_cast<size_t>(end - size));
    out_ += "\r\n";
    out_.append(data);
    out_ += "\r\n";
  } else {
    out_.append(data);
  }
  body_bytes_sent_ += data.size();
  bytes_out_ += data.size();
  if (backlogged()) flush_dynamic();  // a big answer: start sending now
  else request_flush();
}

bool Connection::backlogged() const { return out_.size() - out_sent_ > kBacklogBytes; }

void Connection::end_body() {
  if (state_ != State::Handling || !response_started_ || response_ended_) return;
  response_ended_ = true;
  if (response_chunked_) out_ += "0\r\n\r\n";
  flush_dynamic();
}

// The head and body parts a handler produces in one turn of the loop (usually the whole
// answer of a small script) are sent together at its end, in one send instead of three.
void Connection::request_flush() {
  if (flush_requested_) return;
  flush_requested_ = true;
  worker_.flush_later(id_);
}

void Connection::flush_queued() {
  flush_requested_ = false;
  if (state_ == State::Handling && out_sent_ < out_.size()) flush_dynamic();
}

void Connection::flush_dynamic() {
  const VirtualHost& vh = worker_.config().vhosts[vhost_];
  while (out_sent_ < out_.size()) {
    ssize_t n = io_send(out_.data() + out_sent_, out_.size() - out_sent_, false);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (backlogged()) was_backlogged_ = true;
        update_interest();
        arm_timer(static_cast<uint64_t>(vh.limits.timeout_s) * 1000, false);
        return;
      }
      close();
      return;
    }
    out_sent_ += static_cast<size_t>(n);
  }
  out_.clear();
  out_sent_ = 0;
  if (body_delivered_) timer_.disarm();
  if (response_ended_) {
    dynamic_done();
    return;
  }
  update_interest();
  if (was_backlogged_ && handler_) {
    was_backlogged_ = false;
    std::shared_ptr<AsyncHandler> keep = handler_;
    keep->on_sink_drained();
  }
}

void Connection::dynamic_done() {
  release_handler();
  // A body the program never read is still on its way: this connection can't carry
  // another request.
  if (!body_delivered_ || collecting_body_) keep_alive_ = false;
  redirected_ = false;
  restore_reading_interest();
  state_ = State::Writing;
  finish_response();
}

void Connection::restore_reading_interest() {
  // Back to the plain registration the rest of the connection code expects.
  if (in_loop_ && interest_ != (EPOLLIN | EPOLLRDHUP)) worker_.loop().modify(fd_.get(), EPOLLIN | EPOLLRDHUP);
  write_interest_ = false;
  interest_ = 0;
}

void Connection::release_handler() {
  if (!handler_) return;
  // The handler may be on the call stack (it called us): destroy it at the end of the
  // turn. (A zero-delay timer did the same at the cost of a timer and a heap-held
  // closure per request.)
  worker_.destroy_later(std::move(handler_));
}

void Connection::fail(int status, const std::string& reason) {
  if (state_ != State::Handling) return;
  release_handler();
  restore_reading_interest();
  if (!response_started_) {
    redirected_ = false;
    respond_error(status, reason, true);
    return;
  }
  log_error(LogLevel::Error, reason + " (response cut short)");
  close();
}

void Connection::internal_redirect(const std::string& url) {
  if (state_ != State::Handling || response_started_) return;
  release_handler();
  restore_reading_interest();
  if (!body_delivered_) keep_alive_ = false;
  // Serve the local URL as a fresh GET in the same vhost (CGI "Location: /path").
  const http::RequestHead& original = head_;
  redirect_buf_ = "GET " + url + " HTTP/1.1\r\nHost: " + (original.host.empty() ? std::string("localhost") : original.host) +
                  "\r\n\r\n";
  redirect_head_ = http::RequestHead{};
  http::ParseOutcome outcome = http::parse_request_head(redirect_buf_, http::ParseLimits{}, redirect_head_);
  if (outcome.status != http::ParseStatus::Complete || redirected_) {
    // A bad URL, or a redirect from a redirect: stop here, as Apache limits the chain.
    redirected_ = false;
    respond_error(500, "bad or repeated internal redirect to " + url, true);
    return;
  }
  redirected_ = true;
  body_framing_ = http::BodyFraming::None;
  if (worker_.config().vhosts[vhost_].reads_htaccess) {
    // A new URL, maybe in another directory: its own .htaccess files apply, as in Apache.
    if (auto [status, reason] = select_view(redirect_head_); status != 0) {
      redirected_ = false;
      respond_error(status, reason, true);
      return;
    }
  }
  const VirtualHost& vh = request_vhost();
  fallback_allowed_ = true;
  if (request_has_dynamic()) {
    bool fallback_blocked = false;
    if (auto target = find_dynamic_target(vh, redirect_head_, &worker_.open_files(),
                                          &worker_.handler_memo(), worker_.loop().now_ms(),
                                          &fallback_blocked, client_)) {
      body_delivered_ = false;
      start_dynamic(std::move(*target));
      return;
    }
    fallback_allowed_ = !fallback_blocked;
  }
  state_ = State::Writing;
  serve_request();
  redirected_ = false;
}

void Connection::run_error_document(int status, const std::string& url, std::string headers) {
  if (redirected_) {
    // An error of an internal redirect: Apache limits the chain too.
    log_error(LogLevel::Error, "ErrorDocument " + url + " for " + std::to_string(status) +
                                   ": not run for an error of an internal redirect");
    respond_error(status, {}, true, headers);
    return;
  }
  // The original request's URI stays REQUEST_URI; the script runs as a GET (a HEAD stays
  // a HEAD), as Apache runs an ErrorDocument.
  if (!rewritten_) {
    client_uri_.assign(head_.path);
    if (head_.has_query) {
      client_uri_ += '?';
      client_uri_ += head_.query;
    }
    std::string decoded;
    if (!percent_decode_path(head_.path, decoded) || !remove_dot_segments(decoded, client_path_)) client_path_.clear();
  }
  const char* method = head_.method == http::Method::Head ? "HEAD " : "GET ";
  redirect_buf_ = method + url + " HTTP/1.1\r\nHost: " + (head_.host.empty() ? std::string("localhost") : head_.host) +
                  "\r\n\r\n";
  redirect_head_ = http::RequestHead{};
  http::ParseOutcome outcome = http::parse_request_head(redirect_buf_, http::ParseLimits{}, redirect_head_);
  auto builtin = [&](const std::string& why) {
    redirected_ = false;
    error_document_status_ = 0;
    log_error(LogLevel::Error, "ErrorDocument " + url + " for " + std::to_string(status) + ": " + why);
    respond_error(status, {}, true, headers);
  };
  if (outcome.status != http::ParseStatus::Complete) return builtin("not a usable local URL");
  redirected_ = true;
  body_framing_ = http::BodyFraming::None;
  if (worker_.config().vhosts[vhost_].reads_htaccess) {
    if (auto [view_status, reason] = select_view(redirect_head_); view_status != 0) return builtin(reason);
  }
  auto target = find_dynamic_target(request_vhost(), redirect_head_, &worker_.open_files(), &worker_.handler_memo(),
                                    worker_.loop().now_ms(), nullptr, client_);
  if (!target || target->error_status) {
    return builtin(target ? "answers " + std::to_string(target->error_status) + " itself" +
                                (target->reason.empty() ? std::string() : ": " + target->reason)
                          : std::string("is not a script"));
  }
  error_document_status_ = status;
  error_document_headers_ = std::move(headers);
  body_delivered_ = false;
  start_dynamic(std::move(*target));
}

void Connection::resume_request_body() {
  // Called from inside the handler: continue on the next turn of the loop.
  std::weak_ptr<int> alive = life_;
  worker_.loop().add_timer(0, [this, alive, keep = handler_] {
    if (alive.expired()) return;
    if (handler_ == keep && state_ == State::Handling) feed_body();
  });
}

}  // namespace itkd
