#include "worker/fastcgi/fastcgi_handler.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "common/socket_address.h"
#include "worker/fastcgi/fcgi_client.h"
#include "worker/static/static_handler.h"

namespace itkd {

namespace {
constexpr uint16_t kRequestId = 1;
constexpr size_t kReadChunk = 64 * 1024;
constexpr int kReadsPerEvent = 16;

std::string directory_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}
}  // namespace

FastCgiHandler::FastCgiHandler(const HandlerRequest& request, FcgiBackend backend, CgiScript script,
                               std::optional<uint64_t> content_length, ResponseSink& sink)
    : request_(request),
      backend_(std::move(backend)),
      script_(std::move(script)),
      content_length_(content_length),
      sink_(sink),
      relay_(sink, script_.filename),
      stderr_log_(request.error_log, "proxy_fcgi", address_text(request.peer), script_.filename),
      timer_(request_.loop, [this] { timed_out(); }) {
  timeout_s_ = request.vhost.proxy_timeout_s ? request.vhost.proxy_timeout_s : request.vhost.limits.timeout_s;
  keep_conn_ = backend_.reuse;
}

FastCgiHandler::FastCgiHandler(const HandlerRequest& request, FcgidProcessManager& manager,
                               FcgidClass cls, CgiScript script,
                               std::optional<uint64_t> content_length, ResponseSink& sink)
    : request_(request),
      manager_(&manager),
      fcgid_class_(std::move(cls)),
      script_(std::move(script)),
      content_length_(content_length),
      sink_(sink),
      relay_(sink, script_.filename),
      stderr_log_(request.error_log, "fcgid", address_text(request.peer), script_.filename),
      timer_(request_.loop, [this] { timed_out(); }) {
  timeout_s_ = request.vhost.fcgid.io_timeout_s;
  // One connection per managed process, kept across its requests (php-cgi honours
  // FCGI_KEEP_CONN): saves socket, connect and close here and accept and close there.
  keep_conn_ = true;
  if (fcgid_class_->working_directory.empty()) fcgid_class_->working_directory = directory_of(script_.filename);
  if (!fcgid_class_->error_log) fcgid_class_->error_log = &request.error_log;
}

FastCgiHandler::~FastCgiHandler() { stop(); }

void FastCgiHandler::start() {
  if (timeout_s_ == 0) timeout_s_ = 60;
  // BEGIN_REQUEST and PARAMS go first; body records are appended behind them as they come.
  std::string head;
  fcgi::append_begin_request(head, kRequestId, fcgi::kRoleResponder, keep_conn_);
  std::string params;
  params.reserve(1024);
  for_each_cgi_variable(request_, script_, content_length_, [&params](std::string_view n, std::string_view v) {
    fcgi::append_name_value(params, n, v);
  });
  if (!manager_) {
    // php-fpm takes php_value & co. per request (php-cgi got them on its command line).
    std::vector<PhpIniSetting> ini = php_ini_for_directory(request_.vhost, directory_of(script_.filename));
    if (std::string v = php_fpm_ini_param(ini, false); !v.empty()) fcgi::append_name_value(params, "PHP_VALUE", v);
    if (std::string v = php_fpm_ini_param(ini, true); !v.empty()) fcgi::append_name_value(params, "PHP_ADMIN_VALUE", v);
  }
  fcgi::append_stream(head, fcgi::kParams, kRequestId, params);
  fcgi::append_stream(head, fcgi::kParams, kRequestId, {});
  // No request body (a GET): the empty STDIN goes in the same send, not in a second one
  // (strace: an 8-byte send per request), and the backend reads the request at once.
  if (!content_length_ || *content_length_ == 0) {
    fcgi::append_stream(head, fcgi::kStdin, kRequestId, {});
    body_done_ = true;
  }
  out_.insert(0, head);
  arm_timer();
  if (!manager_) {
    begin_connect();
    return;
  }
  auto alive = guard_.token();
  ticket_ = manager_->acquire(*fcgid_class_, [this, alive](Result<FcgidLease> got) {
    if (!*alive) return;
    ticket_ = 0;
    if (!got) {
      fail(503, got.error().message);
      return;
    }
    lease_ = std::move(*got);
    backend_ = FcgiBackend{};
    backend_.unix_path = lease_.socket_path();
    begin_connect();
  });
}

void FastCgiHandler::begin_connect() {
  if (stopped_) return;
  if (keep_conn_ && !retried_) {
    bool watched = false;
    UniqueFd idle = manager_ ? lease_.take_connection(&watched)
                             : BackendPool::instance().take(backend_.describe(), request_.loop.now_ms());
    if (idle) {
      fd_ = std::move(idle);
      connected_ = true;
      reused_ = true;
      // Still registered for EPOLLIN from its last request: take it over, no epoll_ctl.
      if (watched && request_.loop.rebind(fd_.get(), [this](uint32_t e) { on_event(e); })) {
        registered_ = true;
        registered_events_ = EPOLLIN;
      }
    }
  }
  if (!fd_) {
    auto c = connect_backend(backend_);
    if (!c) {
      fail(503, c.error().message);
      return;
    }
    fd_ = std::move(c->fd);
    connecting_ = c->in_progress;
    connected_ = !c->in_progress;
  }
  if (connected_) {
    on_connected();
    return;
  }
  update_interest();  // wait for the connect to complete
}

// The request goes out at once (a unix socket connects synchronously and its buffer
// takes it), so the backend socket is registered once, for the answer.
void FastCgiHandler::on_connected() {
  if (stopped_) return;
  if (out_.empty()) update_interest();
  else write_out();
}

void FastCgiHandler::on_request_body(std::string_view data, bool last) {
  if (body_done_ || stopped_) return;
  if (!data.empty()) fcgi::append_stream(out_, fcgi::kStdin, kRequestId, data);
  if (last) {
    fcgi::append_stream(out_, fcgi::kStdin, kRequestId, {});
    body_done_ = true;
  }
  if (out_.size() >= kMaxPendingBody) body_paused_ = true;
  if (connected_) write_out();
}

bool FastCgiHandler::accepts_body() const { return stopped_ || out_.size() < kMaxPendingBody; }

void FastCgiHandler::on_sink_drained() {
  if (stopped_ || reading_) return;
  reading_ = true;
  arm_timer();
  update_interest();
}

void FastCgiHandler::update_interest() {
  if (!fd_ || stopped_) return;
  uint32_t ev = 0;
  if (connecting_) ev = EPOLLOUT;
  else {
    if (reading_) ev |= EPOLLIN;
    if (!out_.empty()) ev |= EPOLLOUT;
  }
  // Nothing wanted: leave the loop, since a closed socket reports EPOLLHUP regardless.
  if (ev == 0) {
    if (registered_) request_.loop.remove(fd_.get());
    registered_ = false;
    return;
  }
  if (registered_) {
    if (ev != registered_events_) request_.loop.modify(fd_.get(), ev);
    registered_events_ = ev;
    return;
  }
  auto added = request_.loop.add(fd_.get(), ev, [this](uint32_t e) { on_event(e); });
  if (!added) {
    fail(502, "FastCGI backend " + backend_.describe() + ": " + added.error().message);
    return;
  }
  registered_ = true;
  registered_events_ = ev;
}

void FastCgiHandler::on_event(uint32_t events) {
  if (stopped_) return;
  if (connecting_) {
    if (auto r = finish_connect(fd_.get(), backend_); !r) {
      fail(503, r.error().message);
      return;
    }
    connecting_ = false;
    connected_ = true;
    on_connected();
    return;
  }
  if (events & EPOLLOUT) {
    write_out();
    if (stopped_) return;
  }
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) read_in();
}

void FastCgiHandler::write_out() {
  if (stopped_ || !connected_) return;
  size_t written = 0;
  while (written < out_.size()) {
    ssize_t n = ::send(fd_.get(), out_.data() + written, out_.size() - written, MSG_NOSIGNAL);
    if (n > 0) {
      // Kept until the backend answers, to replay on a fresh connection if this reused
      // one turns out to be closed (php-fpm recycles children).
      if (reused_ && !received_any_) {
        replay_.append(out_, written, static_cast<size_t>(n));
        if (replay_.size() > kMaxPendingBody) reused_ = false;
      }
      written += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EPIPE || errno == ECONNRESET) && retry_fresh()) return;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    // The backend stopped reading (it may already have answered): drop the rest of
    // the body and keep reading its response.
    out_.clear();
    written = 0;
    keep_conn_ = false;
    break;
  }
  out_.erase(0, written);
  if (written > 0) arm_timer();
  update_interest();
  if (body_paused_ && out_.size() < kMaxPendingBody / 2) {
    body_paused_ = false;
    sink_.resume_request_body();
  }
}

void FastCgiHandler::read_in() {
  char buf[kReadChunk];
  for (int i = 0; i < kReadsPerEvent; ++i) {
    if (sink_.backlogged()) {
      // The client is slow; the backend waits on its socket buffer meanwhile.
      reading_ = false;
      timer_.disarm();
      update_interest();
      return;
    }
    ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {
      if (retry_fresh()) return;
      std::string why = n == 0 ? "closed the connection" : errno_message("recv");
      if (relay_.head_sent()) {
        fail(502, "FastCGI backend " + backend_.describe() + " " + why + " before the end of the response");
      } else {
        fail(502, "FastCGI backend " + backend_.describe() + " " + why + " before sending headers (" +
                      script_.filename + ")");
      }
      return;
    }
    arm_timer();
    received_any_ = true;
    replay_.clear();
    decoder_.append(std::string_view(buf, static_cast<size_t>(n)));
    fcgi::Record record;
    for (;;) {
      auto st = decoder_.next(record);
      if (st == fcgi::RecordDecoder::Status::NeedMore) break;
      if (st == fcgi::RecordDecoder::Status::Error) {
        fail(502, "FastCGI backend " + backend_.describe() + ": " + decoder_.error());
        return;
      }
      if (!handle_record(record)) return;
    }
  }
}

bool FastCgiHandler::handle_record(fcgi::Record& r) {
  if (r.request_id != kRequestId) {
    // Management records (id 0) and others are not ours; a responder never sends them
    // unasked, so this is a confused backend.
    fail(502, "FastCGI backend " + backend_.describe() + ": record for request " +
                  std::to_string(r.request_id));
    return false;
  }
  switch (r.type) {
    case fcgi::kStdout: {
      if (r.content.empty()) return true;  // end of the stream; END_REQUEST follows
      auto alive = guard_.token();
      bool more = relay_.feed(r.content);
      if (!*alive) return false;
      if (!more) {
        stop();
        return false;
      }
      return true;
    }
    case fcgi::kStderr:
      stderr_log_.feed(r.content);
      return true;
    case fcgi::kEndRequest: {
      stderr_log_.flush();
      auto end = fcgi::decode_end_request(r.content);
      if (!end) {
        fail(502, "FastCGI backend " + backend_.describe() + ": " + end.error().message);
        return false;
      }
      if (end->protocol_status != fcgi::kRequestComplete) {
        fail(503, "FastCGI backend " + backend_.describe() + " refused the request: " +
                      std::string(fcgi::protocol_status_text(end->protocol_status)));
        return false;
      }
      ended_ = true;
      // Reusable only if nothing of this request is left in either direction.
      bool clean = body_done_ && out_.empty() && decoder_.buffered() == 0;
      if (clean) lease_.mark_clean();
      if (clean && keep_conn_) {
        // A managed process's connection stays registered for its next request (the
        // manager watches it meanwhile); a php-fpm pool's idle list is not watched.
        bool watched = manager_ && lease_ && registered_ && registered_events_ == EPOLLIN;
        if (registered_ && !watched) request_.loop.remove(fd_.get());
        registered_ = false;
        if (manager_) lease_.keep_connection(std::move(fd_), watched);
        else BackendPool::instance().put(backend_.describe(), std::move(fd_), request_.loop.now_ms(),
                                         backend_.max_idle);
      }
      stop();
      relay_.finish();
      return false;
    }
    default:
      return true;  // FastCGI 1.0: unknown record types are ignored by the receiver
  }
}

bool FastCgiHandler::retry_fresh() {
  if (!reused_ || received_any_ || retried_ || stopped_) return false;
  // The idle connection was closed by the backend before it saw our request: send it
  // all again on a new connection.
  retried_ = true;
  reused_ = false;
  if (registered_) request_.loop.remove(fd_.get());
  registered_ = false;
  fd_.reset();
  connected_ = false;
  out_.insert(0, replay_);
  replay_.clear();
  begin_connect();
  return true;
}

void FastCgiHandler::arm_timer() {
  if (!stopped_) timer_.arm(uint64_t{timeout_s_} * 1000);
}

void FastCgiHandler::timed_out() {
  fail(504, "FastCGI backend " + (backend_.unix_path.empty() && backend_.host.empty()
                                      ? std::string("process for ") + script_.filename
                                      : backend_.describe()) +
                ": no answer within " + std::to_string(timeout_s_) + "s");
}

void FastCgiHandler::fail(int status, const std::string& reason) {
  if (stopped_) return;
  stop();
  // Before the head the client gets `status`; after it the sink cuts the response.
  sink_.fail(status, reason);
}

void FastCgiHandler::stop() {
  if (stopped_) return;
  stopped_ = true;
  timer_.disarm();
  if (ticket_ && manager_) manager_->cancel(ticket_);
  ticket_ = 0;
  if (registered_) request_.loop.remove_before_close(fd_.get());  // ours alone, closed now
  registered_ = false;
  fd_.reset();
  // An unclean lease retires its process: it may be stuck in the middle of our request.
  lease_ = FcgidLease();
}

}  // namespace itkd
