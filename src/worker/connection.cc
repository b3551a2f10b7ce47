#include "worker/connection.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "common/socket_address.h"
#include "front/front_limits.h"
#include "http/response_head.h"
#include "worker/expires_headers.h"
#include "worker/header_edits.h"
#include "worker/remote_ip.h"
#include "worker/static/path_mapping.h"

namespace itkd {

namespace {

// Longest time a closing connection waits for the client to read our answer.
constexpr uint64_t kLingerMs = 2000;

std::string_view request_line_of(const http::RequestHead& head) {
  if (head.method_text.empty()) return {};
  const char* start = head.method_text.data();
  const char* end = static_cast<const char*>(std::memchr(start, '\r', head.head_length));
  if (!end) return {};
  return std::string_view(start, static_cast<size_t>(end - start));
}

std::string_view header_value(std::string_view headers, std::string_view name) {
  size_t pos = 0;
  while (pos < headers.size()) {
    size_t end = headers.find("\r\n", pos);
    if (end == std::string_view::npos) end = headers.size();
    std::string_view line = headers.substr(pos, end - pos);
    size_t colon = line.find(':');
    if (colon == name.size() && strncasecmp(line.data(), name.data(), name.size()) == 0) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      return value;
    }
    pos = end + 2;
  }
  return {};
}

}  // namespace

Connection::Connection(WorkerContext& worker, uint64_t id, UniqueFd fd, std::string initial_bytes,
                       size_t front_index, uint64_t front_connection_id, const sockaddr_storage& local,
                       const sockaddr_storage& peer, bool tls, size_t handoff_vhost)
    : worker_(worker),
      id_(id),
      fd_(std::move(fd)),
      front_index_(front_index),
      front_connection_id_(front_connection_id),
      local_(local),
      peer_(peer),
      timer_(worker.loop(), [this] { timed_out(); }),
      in_(std::move(initial_bytes)),
      tls_requested_(tls),
      handoff_vhost_(handoff_vhost) {}

Connection::~Connection() {
  if (in_loop_ && fd_) worker_.loop().remove(fd_.get());
}

void Connection::use_client(const sockaddr_storage& client) {
  request_peer_ = client;
  peer_ip_ = address_ip(client);
  client_text_ = address_text(client);
  client_ = ClientAddresses::from(client, local_);
}

void Connection::start() {
  local_ip_ = address_ip(local_);
  use_client(peer_);
  vhost_ = handoff_vhost_;
  if (tls_requested_) {
    // The ClientHello is still in the socket: this worker, as the owner, does the
    // handshake with the owner's own key.
    const tls::TlsContextSet* contexts = worker_.tls_contexts();
    if (!contexts || !contexts->find(handoff_vhost_)) {
      log_error(LogLevel::Error, "TLS connection for a vhost without a usable certificate/key (see the log at worker start)");
      close();
      return;
    }
    auto session = tls::TlsSession::accept(*contexts, handoff_vhost_, fd_.get());
    if (!session) {
      log_error(LogLevel::Error, "TLS: " + session.error().message);
      close();
      return;
    }
    tls_ = std::move(*session);
    // The handshake is a ping-pong of small flights (and tickets follow the client's
    // Finished): Nagle would hold them back waiting for ACKs.
    int one = 1;
    ::setsockopt(fd_.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    nodelay_ = true;
    state_ = State::Handshaking;
    handshake();
    return;
  }
  // The front passed a complete head: answer it before registering with epoll, so a
  // Connection: close request costs no epoll_ctl at all. Every wait goes through
  // arm_timer(), which registers the socket then.
  process_buffer();
}

bool Connection::watch() {
  if (in_loop_) return true;
  uint32_t events = (write_interest_ ? EPOLLOUT : EPOLLIN) | EPOLLRDHUP;
  auto added = worker_.loop().add(fd_.get(), events, [this](uint32_t ev) { on_event(ev); });
  if (!added) {
    worker_.worker_log().log(LogLevel::Error, "mpm_itkd", client_text_, added.error().message);
    return false;
  }
  in_loop_ = true;
  return true;
}

void Connection::handshake() {
  switch (tls_->handshake()) {
    case tls::IoStatus::Ok:
      timer_.disarm();
      state_ = State::ReadingHead;
      if (write_interest_) {
        worker_.loop().modify(fd_.get(), EPOLLIN | EPOLLRDHUP);
        write_interest_ = false;
      }
      read_head();
      return;
    case tls::IoStatus::WantRead:
      if (write_interest_) {
        worker_.loop().modify(fd_.get(), EPOLLIN | EPOLLRDHUP);
        write_interest_ = false;
      }
      arm_timer(static_cast<uint64_t>(worker_.config().vhosts[0].limits.request_header_timeout_s) * 1000, true);
      return;
    case tls::IoStatus::WantWrite:
      write_interest_ = true;
      if (in_loop_) worker_.loop().modify(fd_.get(), EPOLLOUT | EPOLLRDHUP);
      arm_timer(static_cast<uint64_t>(worker_.config().vhosts[0].limits.request_header_timeout_s) * 1000, true);
      return;
    case tls::IoStatus::Closed:
    case tls::IoStatus::Error:
      log_error(LogLevel::Info, "TLS handshake failed: " + tls_->last_error());
      close();
      return;
  }
}

ssize_t Connection::io_recv(char* buf, size_t len) {
  if (!tls_) return ::recv(fd_.get(), buf, len, 0);
  size_t n = 0;
  switch (tls_->read(buf, len, &n)) {
    case tls::IoStatus::Ok:
      return static_cast<ssize_t>(n);
    case tls::IoStatus::WantRead:
    case tls::IoStatus::WantWrite:
      errno = EAGAIN;
      return -1;
    case tls::IoStatus::Closed:
      return 0;
    case tls::IoStatus::Error:
      log_error(LogLevel::Info, "TLS read: " + tls_->last_error());
      errno = EIO;
      return -1;
  }
  return -1;
}

ssize_t Connection::tls_write_result(tls::IoStatus status, size_t progressed) {
  switch (status) {
    case tls::IoStatus::Ok:
      return static_cast<ssize_t>(progressed);
    case tls::IoStatus::WantRead:
    case tls::IoStatus::WantWrite:
      if (progressed) return static_cast<ssize_t>(progressed);
      errno = EAGAIN;
      return -1;
    case tls::IoStatus::Closed:
      errno = EPIPE;
      return -1;
    case tls::IoStatus::Error:
      log_error(LogLevel::Info, "TLS write: " + tls_->last_error());
      errno = EIO;
      return -1;
  }
  return -1;
}

ssize_t Connection::io_send(const char* buf, size_t len, bool more) {
  if (!tls_) return ::send(fd_.get(), buf, len, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
  size_t n = 0;
  tls::IoStatus status = tls_->write(buf, len, &n);
  return tls_write_result(status, n);
}

ssize_t Connection::io_sendfile(int file, uint64_t* offset, uint64_t* remaining) {
  if (!tls_) {
    auto off = static_cast<off_t>(*offset);
    size_t chunk = *remaining > (1u << 30) ? (1u << 30) : static_cast<size_t>(*remaining);
    ssize_t n = ::sendfile(fd_.get(), file, &off, chunk);
    if (n > 0) {
      *offset += static_cast<uint64_t>(n);
      *remaining -= static_cast<uint64_t>(n);
    }
    return n;
  }
  uint64_t before = *remaining;
  tls::IoStatus status = tls_->write_file(file, offset, remaining);
  return tls_write_result(status, static_cast<size_t>(before - *remaining));
}

Connection::BodyRead Connection::read_body_bytes(char* buf, size_t len, size_t* n) {
  const VirtualHost& vh = worker_.config().vhosts[vhost_];
  for (;;) {
    ssize_t got = io_recv(buf, len);
    if (got > 0) {
      *n = static_cast<size_t>(got);
      return BodyRead::Data;
    }
    if (got < 0 && errno == EINTR) continue;
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      update_interest();  // only changes anything while a handler runs
      arm_timer(static_cast<uint64_t>(vh.limits.timeout_s) * 1000, false);
      return BodyRead::Wait;
    }
    close();
    return BodyRead::Gone;
  }
}

bool Connection::io_pending() const { return tls_ && tls_->pending(); }

void Connection::log_error(LogLevel level, const std::string& message) {
  const VhostLogs& logs = worker_.logs(vhost_);
  logs.error.log(level, "core", client_text_, message);
}

void Connection::arm_timer(uint64_t ms, bool idle) {
  // If the socket can't be watched (logged), the timer below still ends the wait.
  watch();
  deadline_idle_ = idle;
  timer_.arm(ms);
}

void Connection::timed_out() {
  if (state_ == State::Lingering || deadline_idle_) {
    close();
    return;
  }
  if (state_ == State::ReadingHead && !in_.empty()) {
    respond_error(408, "request header read timeout", true);
    return;
  }
  log_error(LogLevel::Info, "connection timed out (Timeout) while " +
                                std::string(state_ == State::Writing ? "writing the response" : "reading the request body"));
  close();
}

void Connection::on_event(uint32_t events) {
  switch (state_) {
    case State::Handshaking:
      handshake();
      return;
    case State::ReadingHead:
      if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) read_head();
      return;
    case State::Writing:
      if (events & (EPOLLERR | EPOLLHUP)) {
        close();
        return;
      }
      if (events & EPOLLOUT) continue_writing();
      return;
    case State::DiscardingBody:
      discard_body();
      return;
    case State::Handling:
      on_handling_event(events);
      return;
    case State::Lingering:
      linger();
      return;
    case State::Closed:
      return;
  }
}

bool Connection::fill_buffer() {
  // Read into a shared scratch buffer and append only what came: resizing in_ by 16 KiB
  // per read zero-filled it every time (memset showed in the profile).
  static char scratch[16384];
  for (;;) {
    size_t old = in_.size();
    if (old >= kMaxHeadBytes) return true;
    size_t want = std::min<size_t>(kMaxHeadBytes - old, sizeof scratch);
    ssize_t n = io_recv(scratch, want);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
      if (errno == EINTR) continue;
      close();
      return false;
    }
    in_.append(scratch, static_cast<size_t>(n));
    if (n == 0) {
      close();
      return false;
    }
    // A short read drained the socket, unless TLS still holds decrypted bytes.
    if (static_cast<size_t>(n) < want && !io_pending()) return true;
  }
}

void Connection::read_head() {
  if (!fill_buffer()) return;
  process_buffer();
}

void Connection::process_buffer() {
  const HttpLimits& limits = worker_.config().vhosts[0].limits;
  http::ParseLimits parse_limits{limits.limit_request_line, limits.limit_request_field_size, limits.limit_request_fields};
  head_ = http::RequestHead{};
  have_head_ = false;
  // The previous request's rewritten copy views a buffer that has moved on, and its
  // SetEnvIf variables are not this request's: answers given before this request gets
  // its own (a 421, a parse error) must read neither.
  rewritten_ = false;
  request_env_.clear();
  view_.reset();  // a 421 or 400 for this head uses no earlier request's .htaccess
  views_seen_.clear();
  logged_ = false;  // a 400 for this head is logged too, not only a first request's
  http::ParseOutcome outcome = http::parse_request_head(in_, parse_limits, head_);
  if (outcome.status == http::ParseStatus::Incomplete) {
    if (in_.size() >= kMaxHeadBytes) {
      respond_error(431, "request header fields too large (more than 64 KiB in all)", false);
      return;
    }
    // Stopping now closes idle keep-alive connections; a client whose first request is
    // still on its way (e.g. right after the TLS handshake) gets it answered.
    if (worker_.closing_idle() && in_.empty() && requests_ > 0) {
      close();
      return;
    }
    // Between requests the keep-alive timeout applies; inside a head, the header timeout.
    if (in_.empty()) {
      const HttpLimits& vl = worker_.config().vhosts[vhost_].limits;
      arm_timer(static_cast<uint64_t>(requests_ ? vl.keep_alive_timeout_s : vl.request_header_timeout_s) * 1000, true);
    } else {
      arm_timer(static_cast<uint64_t>(limits.request_header_timeout_s) * 1000, false);
    }
    return;
  }
  if (outcome.status == http::ParseStatus::Error) {
    respond_error(outcome.http_status, outcome.reason, false);
    return;
  }
  have_head_ = true;
  handle_request();
}

void Connection::handle_request() {
  // Route again: the worker must not trust the front's choice. A keep-alive client sends
  // the same Host each time, and the local address is the connection's: reuse the answer.
  if (!routed_ || head_.host != routed_host_) {
    routed_vhost_ = worker_.router().route(local_, head_.host);
    routed_host_ = head_.host;
    routed_ = true;
  }
  size_t vhost = routed_vhost_;
  const ServerConfig& config = worker_.config();
  if (tls_ && config.vhosts[vhost].pool != worker_.pool()) {
    // The TLS session carries this owner's certificate: another owner's site can't be
    // served on it, and the socket can't move (RFC 9110 15.5.20).
    vhost_ = handoff_vhost_;
    respond_error(421, "Host " + head_.host + " is not served with the certificate negotiated for this connection (SNI " +
                           tls_->sni() + ")", true);
    return;
  }
  if (config.vhosts[vhost].pool != worker_.pool()) {
    // Another owner's site: give the socket and everything unread back to the front.
    timer_.disarm();
    if (in_loop_) {
      worker_.loop().remove(fd_.get());
      in_loop_ = false;
    }
    if (worker_.hand_back(*this, fd_, in_)) {
      state_ = State::Closed;
      worker_.connection_closed(*this, true);
      return;
    }
    respond_error(503, "could not hand the connection back to the front", false);
    return;
  }
  vhost_ = vhost;
  const VirtualHost& vh = config.vhosts[vhost];
  ::gettimeofday(&request_start_, nullptr);
  request_start_mono_ms_ = worker_.loop().now_ms();
  ++requests_;
  remote_user_.clear();
  logged_ = false;
  // mod_remoteip runs first (post_read_request): everything below sees its client.
  if (client_overridden_) {
    use_client(peer_);
    client_overridden_ = false;
  }
  if (!vh.remote_ip.header.empty()) {
    if (auto named = client_from_proxy_header(vh.remote_ip, peer_, head_)) {
      use_client(*named);
      client_overridden_ = true;
    }
  }
  // SetEnvIf sees the request as the client sent it: Apache runs it before mod_headers'
  // RequestHeader (a fixup).
  request_env_.clear();
  if (!vh.setenvif.empty()) {
    std::string decoded, path;
    if (percent_decode_path(head_.path, decoded) && remove_dot_segments(decoded, path))
      apply_setenvif(vh.setenvif, RequestAttributes{head_, path, peer_ip_, local_ip_}, request_env_);
  }
  if (vh.has_request_header_rules) edit_request_headers();
  rewritten_ = false;
  rewrite_.kind = RewriteOutcome::Kind::Unchanged;
  rewrite_.env.clear();
  auto answering = [this] { return rewrite_.kind == RewriteOutcome::Kind::Respond; };
  auto view_of = [this](const http::RequestHead& h) {
    if (auto [status, reason] = select_view(h); status != 0) {
      // Answered (and logged) by the static handler, as a rewrite's refusal is.
      rewrite_.kind = RewriteOutcome::Kind::Respond;
      rewrite_.status = status;
      rewrite_.location.clear();
      rewrite_.log_reason = std::move(reason);
      rewrite_.extra_headers.clear();
    }
  };
  // The client's URL first: its .htaccess files and <Directory> SetEnvIf lines apply
  // before any rewrite, as in Apache (header_parser runs before the fixups that rewrite),
  // so per-directory rules see those variables.
  if (vh.reads_htaccess) view_of(head_);
  if (!answering() && request_vhost().has_directory_setenvif) apply_directory_setenvif();
  if (!answering() && (vh.has_rewrite || vh.reads_htaccess)) apply_rewrites();
  if (!answering() && rewritten_ && vh.reads_htaccess) view_of(current_head());
  if (!answering() && request_vhost().has_directory_redirects) apply_directory_redirects();

  error_document_status_ = 0;
  error_document_headers_.clear();
  body_framing_ = head_.framing;
  body_remaining_ = 0;
  body_limit_ = vh.limits.limit_request_body;
  chunked_.reset();
  if (head_.framing == http::BodyFraming::ContentLength) {
    if (body_limit_ && head_.content_length > body_limit_) {
      respond_error(413, "request body of " + std::to_string(head_.content_length) +
                             " bytes is larger than LimitRequestBody " + std::to_string(body_limit_), true);
      return;
    }
    body_remaining_ = head_.content_length;
  } else if (head_.framing == http::BodyFraming::Chunked) {
    chunked_ = std::make_unique<http::ChunkedDecoder>();
  }

  keep_alive_ = head_.keep_alive && vh.limits.keep_alive && !worker_.stopping() &&
                (vh.limits.max_keep_alive_requests == 0 || requests_ < vh.limits.max_keep_alive_requests);
  // BrowserMatch ... nokeepalive, as Apache honours it.
  if (!request_env_.empty() && env_has(request_env_, "nokeepalive")) keep_alive_ = false;
  body_pos_ = head_.head_length;
  leftover_.clear();
  redirected_ = false;
  fallback_allowed_ = true;
  if (request_has_dynamic() && rewrite_.kind != RewriteOutcome::Kind::Respond) {
    bool fallback_blocked = false;
    if (auto target = find_dynamic_target(request_vhost(), current_head(), &worker_.open_files(),
                                          &worker_.handler_memo(), worker_.loop().now_ms(),
                                          &fallback_blocked, client_)) {
      start_dynamic(std::move(*target));
      return;
    }
    fallback_allowed_ = !fallback_blocked;
  }
  if (body_framing_ != http::BodyFraming::None) {
    if (head_.expect_continue) {
      // The client waits for 100-continue and may never send the body we would have to
      // skip: answer without reading it, and close.
      keep_alive_ = false;
      body_framing_ = http::BodyFraming::None;
    } else {
      // Read (and drop) the body before answering, as Apache's default handler does, so
      // a malformed or oversized body gets its 400/413 instead of a 200.
      state_ = State::DiscardingBody;
      discard_body();
      return;
    }
  }
  serve_request();
}

std::string Connection::request_authority() const {
  const VirtualHost& vh = worker_.config().vhosts[vhost_];
  std::string authority;
  if (const auto* host = head_.find("Host"); host && !host->value.empty()) {
    authority.assign(host->value);
  } else {
    authority = vh.server_name.empty() ? local_ip_ : vh.server_name;
    uint16_t port = address_port(local_);
    if (port != 80) authority += ":" + std::to_string(port);
  }
  return authority;
}

void Connection::apply_rewrites() {
  const VirtualHost& vh = worker_.config().vhosts[vhost_];
  std::string decoded;
  client_path_.clear();
  // A target that does not decode is left to the handlers, which answer 400 for it.
  if (head_.form == http::TargetForm::Asterisk || !percent_decode_path(head_.path, decoded) ||
      !remove_dot_segments(decoded, client_path_))
    return;
  std::string authority = request_authority();
  RewriteRequest request{vh, head_, tls_ ? "https" : "http", authority, local_ip_, address_port(local_),
                         peer_ip_, address_port(request_peer_), request_start_.tv_sec, &request_env_};
  if (vh.reads_htaccess) request.views = [this](const std::string& fs_path) { return view_for_file(fs_path); };
  rewrite_ = apply_rewrite_rules(request, client_path_, head_.query, head_.has_query);
  // A refusal or redirect is answered (and its reason logged) by the static handler.
  if (rewrite_.kind == RewriteOutcome::Kind::Respond) return;
  if (rewrite_.kind != RewriteOutcome::Kind::Rewritten) return;
  // The access rules of the URL the client asked for still hold: Apache judges them
  // before its <Directory> rules rewrite, and its <Location> blocks see that URL (with
  // the .htaccess files on its way, which may hold Require lines).
  DirectoryView client_view;
  if (vh.reads_htaccess) client_view = view_for_url(client_path_);
  const VirtualHost& judged = client_view.vhost ? *client_view.vhost : vh;
  bool restricted = has_location_access_rules(judged) || has_files_access_rules(judged) ||
                    std::any_of(judged.directories.begin(), judged.directories.end(),
                                [](const DirectoryBlock& d) { return !d.access.empty(); }) ||
                    client_path_.find("/.ht") != std::string::npos;  // denied by default
  if (restricted) {
    AccessVerdict verdict = judge_url_access(judged, client_path_, head_, client_);
    if (verdict.status != 0) {
      rewrite_.kind = RewriteOutcome::Kind::Respond;
      rewrite_.status = verdict.status;
      rewrite_.location.clear();
      rewrite_.log_reason = std::move(verdict.log_reason);
      rewrite_.extra_headers = std::move(verdict.extra_headers);
      return;
    }
  }
  rewrite_raw_path_ = escape_url_path(rewrite_.path);
  rewrite_head_ = head_;
  rewrite_head_.path = rewrite_raw_path_;
  rewrite_head_.query = rewrite_.query;
  rewrite_head_.has_query = rewrite_.has_query;
  client_uri_.assign(head_.path);
  if (head_.has_query) {
    client_uri_ += '?';
    client_uri_ += head_.query;
  }
  rewritten_ = true;
  if (worker_.logs(vhost_).error.enabled(LogLevel::Debug))
    log_error(LogLevel::Debug, "rewrite " + client_uri_ + " -> " + rewrite_raw_path_ +
                                   (rewrite_.has_query ? "?" + rewrite_.query : std::string()));
}

namespace {

// The directory whose <Directory> blocks apply to the decoded URL path: the mapped file's,
// or the one a URL ending in '/' names. Empty when a vhost Redirect answers instead.
// The decoded, normalized URL path of `head` ("" for '*' or a path that doesn't decode).
std::string decoded_path_of(const http::RequestHead& head) {
  std::string decoded, path;
  if (head.form == http::TargetForm::Asterisk || !percent_decode_path(head.path, decoded) ||
      !remove_dot_segments(decoded, path))
    return {};
  return path;
}

std::string mapped_directory(const VirtualHost& vh, const std::string& url_path) {
  UrlMapping mapping = map_url(vh, url_path, {}, false, "http", {});
  if (mapping.redirect_status != 0) return {};
  std::string relative = mapping.relative;
  bool names_directory = relative.empty() || relative.back() == '/';
  while (!relative.empty() && relative.back() == '/') relative.pop_back();
  std::string dir = mapping.base + (relative.empty() ? "" : "/" + relative);
  if (!names_directory) dir.erase(std::max<size_t>(dir.rfind('/'), 1));
  return dir;
}

}  // namespace

void Connection::apply_directory_setenvif() {
  const VirtualHost& vh = request_vhost();
  std::string path = decoded_path_of(current_head());
  if (path.empty()) return;
  std::string dir = mapped_directory(vh, path);
  if (dir.empty()) return;
  // The headers as the client sent them, as at vhost level.
  RequestAttributes attributes{head_, path, peer_ip_, local_ip_};
  for (const DirectoryBlock* block : directory_blocks_for(vh, dir))
    if (!block->setenvif.empty()) apply_setenvif(block->setenvif, attributes, request_env_);
}

void Connection::apply_directory_redirects() {
  const VirtualHost& vh = request_vhost();
  const http::RequestHead& head = current_head();
  std::string path = decoded_path_of(head);
  if (path.empty()) return;
  std::string dir = mapped_directory(vh, path);
  if (dir.empty()) return;  // the vhost's own Redirect answers first
  std::vector<const DirectoryBlock*> blocks = directory_blocks_for(vh, dir);
  std::string authority = request_authority();
  UrlMapping m;
  // mod_alias merges a directory's redirects before its parent's: the deepest first.
  for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) {
    if (!(*it)->redirects.empty() && match_redirects((*it)->redirects, vh, path, head.query, head.has_query,
                                                     tls_ ? "https" : "http", authority, m))
      break;
  }
  if (m.redirect_status == 0) return;
  // Apache redirects from its fixups, after the access checks: a refusal wins.
  AccessVerdict verdict = judge_url_access(vh, path, head, client_);
  rewrite_.kind = RewriteOutcome::Kind::Respond;
  rewrite_.status = verdict.status ? verdict.status : m.redirect_status;
  rewrite_.location = verdict.status ? std::string() : std::move(m.location);
  rewrite_.log_reason = std::move(verdict.log_reason);
  rewrite_.extra_headers = std::move(verdict.extra_headers);
}

DirectoryView Connection::view_for_file(const std::string& fs_path) {
  for (const auto& [path, seen] : views_seen_)
    if (path == fs_path) return seen;
  DirectoryView view =
      worker_.htaccess().view_for(vhost_, worker_.config().vhosts[vhost_], fs_path, worker_.config().server_root);
  // Said once, when the file is read, not on every request it serves.
  for (const std::string& w : view.warnings) log_error(LogLevel::Warn, ".htaccess: " + w);
  view.warnings.clear();
  if (views_seen_.size() < 8) views_seen_.emplace_back(fs_path, view);
  return view;
}

DirectoryView Connection::view_for_url(const std::string& url_path) {
  const VirtualHost& vh = worker_.config().vhosts[vhost_];
  UrlMapping mapping = map_url(vh, url_path, {}, false, "http", {});
  if (mapping.redirect_status != 0) return {};
  std::string relative = mapping.relative;
  while (!relative.empty() && relative.back() == '/') relative.pop_back();
  return view_for_file(mapping.base + (relative.empty() ? "" : "/" + relative));
}

std::pair<int, std::string> Connection::select_view(const http::RequestHead& head) {
  view_.reset();
  // A target that does not decode gets its 400 from the handlers; no file applies.
  std::string path = decoded_path_of(head);
  if (path.empty()) return {0, {}};
  DirectoryView view = view_for_url(path);
  if (view.error_status) return {view.error_status, view.error_reason};
  view_ = view.vhost;
  view_has_dynamic_ = view.has_dynamic;
  return {0, {}};
}

void Connection::serve_request() {
  const VirtualHost& vh = request_vhost();
  std::string authority = request_authority();
  StaticRequest request{vh, current_head(), worker_.mime(), tls_ ? "https" : "http", authority,
                        &worker_.open_files(), worker_.loop().now_ms(), fallback_allowed_, client_};
  if (rewrite_.kind == RewriteOutcome::Kind::Respond && !redirected_) {
    request.forced_status = rewrite_.status;
    request.forced_location = rewrite_.location;
    request.forced_reason = rewrite_.log_reason;
    request.forced_headers = rewrite_.extra_headers;
  }
  if (request_has_dynamic()) {
    request.runs_handler = [this](const std::string& url_path, const std::string& fs_path, bool via_script_alias) {
      if (via_script_alias || match_proxy_pass(request_vhost(), url_path)) return true;
      return worker_.handler_memo().by_name(request_vhost(), fs_path).choice.kind != HandlerChoice::Kind::Static;
    };
  }
  StaticResponse response = serve_static(request);
  remote_user_ = std::move(response.remote_user);
  if (!response.log_reason.empty()) {
    log_error(response.status >= 500 ? LogLevel::Error : LogLevel::Error, response.log_reason);
  }
  if (!response.error_document_script.empty()) {
    run_error_document(response.status, response.error_document_script, std::move(response.headers));
    return;
  }
  start_response(std::move(response));
}

void Connection::respond_error(int status, const std::string& reason, bool log_to_vhost,
                               std::string_view extra_headers) {
  if (reason.empty()) {
    // Nothing worth the admin's attention (a browser's first request to a protected area).
  } else if (log_to_vhost) {
    log_error(LogLevel::Error, "request refused with " + std::to_string(status) + ": " + reason);
  } else {
    worker_.logs(vhost_).error.log(LogLevel::Error, "http", client_text_,
                                   "request refused with " + std::to_string(status) + ": " + reason);
  }
  keep_alive_ = false;
  if (!have_head_) {
    ::gettimeofday(&request_start_, nullptr);
    request_start_mono_ms_ = worker_.loop().now_ms();
  }
  std::string edited;
  if (request_vhost().has_header_rules) {
    // The server's own answer: only the "always" rules, and no file's sections.
    edited = edit_response_headers(extra_headers, status, false, {});
    extra_headers = edited;
  }
  out_ = http::simple_error_response(status, false, {}, extra_headers);
  out_sent_ = 0;
  file_.reset();
  file_remaining_ = 0;
  status_ = status;
  size_t head_end = out_.find("\r\n\r\n");
  body_bytes_sent_ = head_end == std::string::npos ? 0 : out_.size() - head_end - 4;
  bytes_out_ = out_.size();
  response_headers_.clear();
  filename_.clear();
  body_framing_ = http::BodyFraming::None;
  state_ = State::Writing;
  continue_writing();
}

void Connection::write_response_head(int status, std::string_view headers, size_t body_reserve) {
  const VirtualHost& vh = worker_.config().vhosts[vhost_];
  out_.clear();
  out_sent_ = 0;
  out_.reserve(256 + headers.size() + body_reserve);
  // HTTP/1.1 to HTTP/1.0 clients too (RFC 9110 2.5), as Apache and nginx answer; what
  // the request's version changes is the framing (no chunks) and keep-alive's default.
  out_ += "HTTP/1.1 ";
  out_ += std::to_string(status);
  out_ += ' ';
  out_ += http::reason_phrase(status);
  out_ += "\r\nDate: ";
  out_ += http::http_date_now();
  out_ += "\r\nServer: itkd\r\n";
  out_ += headers;
  if (keep_alive_) {
    // Apache's form, so clients and proxies see the same limits they would there.
    out_ += "Keep-Alive: timeout=" + std::to_string(vh.limits.keep_alive_timeout_s);
    if (vh.limits.max_keep_alive_requests)
      out_ += ", max=" + std::to_string(vh.limits.max_keep_alive_requests - requests_);
    out_ += "\r\nConnection: Keep-Alive\r\n\r\n";
  } else {
    out_ += "Connection: close\r\n\r\n";
  }
  bytes_out_ = out_.size();
  body_bytes_sent_ = 0;
}

namespace {

// The decoded, normalized URL path <Location> blocks match ("" when the vhost has none,
// or the path does not decode: no <Location> applies then).
std::string location_path(const VirtualHost& vh, std::string_view raw_path) {
  std::string decoded;
  std::string out;
  if (vh.locations.empty() || !percent_decode_path(raw_path, decoded) || !remove_dot_segments(decoded, out)) return {};
  return out;
}

int64_t micros(const struct timeval& t) { return int64_t{t.tv_sec} * 1000000 + t.tv_usec; }

}  // namespace

std::string Connection::edit_response_headers(std::string_view headers, int status, bool success,
                                              std::string_view fs_path) const {
  const VirtualHost& vh = request_vhost();
  std::string url_path = have_head_ ? location_path(vh, current_head().path) : std::string();
  std::string lines(headers);
  // mod_expires first, so a Header line can still change what it added (Apache's filter order).
  if (vh.has_expires && success && status < 400) {
    ExpiresSettings scratch;
    add_expires_headers(lines, expires_for(vh, fs_path, url_path, scratch), request_start_.tv_sec);
  }
  if (!vh.has_header_rules) return lines;
  std::vector<const HeaderRule*> rules = header_rules_for(vh, fs_path, url_path);
  if (rules.empty()) return lines;
  HeaderRuleContext context;
  context.success = success;
  context.https = tls_ != nullptr;
  context.env = &request_env_;
  context.request = have_head_ ? &current_head() : nullptr;
  context.request_start_us = micros(request_start_);
  struct timeval now{};
  ::gettimeofday(&now, nullptr);
  context.now_us = micros(now);
  return apply_header_rules(lines, rules, context);
}

void Connection::edit_request_headers() {
  const VirtualHost& vh = worker_.config().vhosts[vhost_];
  std::vector<const HeaderRule*> rules = request_header_rules_for(vh, location_path(vh, head_.path));
  if (rules.empty()) return;
  HeaderRuleContext context;
  context.success = true;
  context.https = tls_ != nullptr;
  context.env = &request_env_;
  context.request = &head_;
  context.request_start_us = micros(request_start_);
  context.now_us = context.request_start_us;
  request_field_store_.clear();
  apply_header_rules(head_.fields, request_field_store_, rules, context);
}

void Connection::start_response(StaticResponse response) {
  status_ = response.status;
  if (const VirtualHost& vh = request_vhost(); vh.has_header_rules || vh.has_expires) {
    // mod_headers' "onsuccess" means the handler's own answer: a 2xx or 304 file, not
    // the server's errors and redirects.
    bool success = (response.status >= 200 && response.status < 300) || response.status == 304;
    response.headers = edit_response_headers(response.headers, response.status, success, response.filename);
  }
  if (response.close_connection) keep_alive_ = false;
  write_response_head(response.status, response.headers,
                      head_.method == http::Method::Head ? 0 : response.body.size());
  body_bytes_sent_ = 0;
  response_headers_ = std::move(response.headers);
  filename_ = std::move(response.filename);
  if (head_.method != http::Method::Head) {
    out_ += response.body;
    body_bytes_sent_ = response.body.size();
    bytes_out_ += response.body.size();
  }
  out_sent_ = 0;
  file_ = std::move(response.file);
  file_offset_ = response.file_offset;
  file_remaining_ = file_ ? response.file_length : 0;
  inline_small_file();
  state_ = State::Writing;
  continue_writing();
}

// A small file goes out with the head in one send. Over TLS that is one SSL_write and one
// record. Over plain TCP, pread + one send costs 10-15% less CPU per request than
// send(MSG_MORE) + sendfile for a 1 KiB file (measured on 2 cores, keep-alive, wrk -c32):
// splicing a few hundred bytes costs more than copying them. Larger files use sendfile.
void Connection::inline_small_file() {
  constexpr size_t kMaxInline = 16384;  // one TLS record
  if (!file_ || file_remaining_ == 0 || out_.size() + file_remaining_ > kMaxInline) return;
  const size_t head = out_.size();
  const auto want = static_cast<size_t>(file_remaining_);
  out_.resize(head + want);
  ssize_t got;
  do {
    got = ::pread(file_.get(), out_.data() + head, want, static_cast<off_t>(file_offset_));
  } while (got < 0 && errno == EINTR);
  if (got != static_cast<ssize_t>(want)) {
    out_.resize(head);  // the usual path reads it again and reports what went wrong
    return;
  }
  body_bytes_sent_ += want;
  bytes_out_ += want;
  file_offset_ += want;
  file_remaining_ = 0;
  file_.reset();
}

// The socket is full: continue on EPOLLOUT, within Timeout.
void Connection::wait_writable() {
  if (!write_interest_) {
    worker_.loop().modify(fd_.get(), EPOLLOUT | EPOLLRDHUP);
    write_interest_ = true;
  }
  arm_timer(static_cast<uint64_t>(worker_.config().vhosts[vhost_].limits.timeout_s) * 1000, false);
}

void Connection::continue_writing() {
  while (out_sent_ < out_.size()) {
    // MSG_MORE keeps the head and the first file bytes in one segment.
    int flags = MSG_NOSIGNAL | (file_remaining_ ? MSG_MORE : 0);
    ssize_t n = io_send(out_.data() + out_sent_, out_.size() - out_sent_, (flags & MSG_MORE) != 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return wait_writable();
      close();
      return;
    }
    out_sent_ += static_cast<size_t>(n);
  }
  while (file_remaining_ > 0) {
    ssize_t n = io_sendfile(file_.get(), &file_offset_, &file_remaining_);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return wait_writable();
      log_error(LogLevel::Info, errno_message("sendfile"));
      close();
      return;
    }
    if (n == 0) {
      // The file shrank under us: the length we promised can't be kept.
      log_error(LogLevel::Error, "file shrank while being sent: " + filename_);
      close();
      return;
    }
    body_bytes_sent_ += static_cast<uint64_t>(n);
    bytes_out_ += static_cast<uint64_t>(n);
  }
  finish_response();
}

void Connection::write_access_log() {
  if (logged_) return;
  logged_ = true;
  const VhostLogs& logs = worker_.logs(vhost_);
  if (logs.access.empty()) return;
  AccessLogRecord record;
  record.remote_ip = peer_ip_;
  record.remote_port = address_port(request_peer_);
  record.remote_user = remote_user_;
  record.local_ip = local_ip_;
  record.local_port = address_port(local_);
  const VirtualHost& vh = worker_.config().vhosts[vhost_];
  record.server_name = vh.server_name;
  record.host_header = head_.host;
  if (have_head_) {
    record.request_line = request_line_of(head_);
    record.method = head_.method_text;
    record.url_path = head_.path;
    record.protocol = head_.version_minor == 0 ? "HTTP/1.0" : "HTTP/1.1";
  }
  std::string query;
  if (head_.has_query) {
    query = "?";
    query += head_.query;
  }
  record.query = query;
  record.filename = filename_;
  record.status = status_;
  record.bytes_sent = body_bytes_sent_;
  record.bytes_out = bytes_out_;
  record.bytes_in = have_head_ ? head_.head_length : 0;
  record.request_start = request_start_;
  record.duration_us = (worker_.loop().now_ms() - request_start_mono_ms_) * 1000;
  static const int pid = ::getpid();
  record.pid = pid;
  record.keepalive_count = requests_ ? requests_ - 1 : 0;
  record.keepalive_connection = keep_alive_;
  const http::RequestHead* head = have_head_ ? &head_ : nullptr;
  record.request_header = [head](std::string_view name) -> std::string_view {
    if (!head) return {};
    const auto* field = head->find(name);
    return field ? field->value : std::string_view{};
  };
  const std::string& response_headers = response_headers_;
  record.response_header = [&response_headers](std::string_view name) { return header_value(response_headers, name); };
  for (const auto& access : logs.access) {
    if (!access.env_condition.empty() && env_has(request_env_, access.env_condition) == access.env_negated) continue;
    std::string line = access.format.format(record);
    line += '\n';
    worker_.log_access(access.fd, line);
  }
}

void Connection::finish_response() {
  timer_.disarm();
  file_.reset();
  out_.clear();
  out_sent_ = 0;
  if (write_interest_) {
    worker_.loop().modify(fd_.get(), EPOLLIN | EPOLLRDHUP);
    write_interest_ = false;
  }
  write_access_log();
  // The client a RemoteIPHeader named was this request's: the connection's next one
  // (and anything logged before it is parsed) is the proxy's again.
  if (client_overridden_) {
    use_client(peer_);
    client_overridden_ = false;
  }
  if (!keep_alive_) {
    linger();
    return;
  }
  // Kept alive: from now on small answers must not wait for Nagle (nginx sets
  // TCP_NODELAY at the same point; a closing connection never needs it).
  if (!nodelay_) {
    int one = 1;
    ::setsockopt(fd_.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    nodelay_ = true;
  }
  // Drop the head and the body; what follows is the next request.
  if (have_head_) {
    in_.erase(0, std::min(body_pos_, in_.size()));
    in_ += leftover_;
    leftover_.clear();
  }
  have_head_ = false;
  after_request();
}

void Connection::discard_body() {
  // Body bytes already buffered after the head come first; the head's views into in_
  // must stay valid, so later bytes go to a scratch buffer, never into in_.
  std::string scratch;
  bool from_buffer = body_pos_ < in_.size();
  for (;;) {
    std::string_view data = from_buffer ? std::string_view(in_).substr(body_pos_) : std::string_view(scratch);
    size_t consumed = 0;
    bool done = false;
    if (body_framing_ == http::BodyFraming::ContentLength) {
      consumed = static_cast<size_t>(std::min<uint64_t>(body_remaining_, data.size()));
      body_remaining_ -= consumed;
      done = body_remaining_ == 0;
    } else {
      std::string sink;
      auto step = chunked_->feed(data, sink);
      consumed = step.consumed;
      if (step.error) {
        respond_error(400, "bad chunked request body: " + step.reason, true);
        return;
      }
      if (body_limit_ && chunked_->total_size() > body_limit_) {
        respond_error(413, "chunked request body larger than LimitRequestBody " + std::to_string(body_limit_), true);
        return;
      }
      done = step.done;
    }
    if (from_buffer) {
      body_pos_ += consumed;
    } else if (done) {
      leftover_.assign(data.substr(consumed));
    }
    if (done) {
      timer_.disarm();
      body_framing_ = http::BodyFraming::None;
      chunked_.reset();
      state_ = State::Writing;
      serve_request();
      return;
    }
    from_buffer = false;
    scratch.resize(16384);
    size_t n = 0;
    if (read_body_bytes(scratch.data(), scratch.size(), &n) != BodyRead::Data) return;
    scratch.resize(n);
  }
}

void Connection::after_request() {
  timer_.disarm();
  if (worker_.stopping()) {
    linger();
    return;
  }
  state_ = State::ReadingHead;
  // Pipelined requests may already be buffered; parse them before reading more. With
  // nothing buffered, wait for epoll (level-triggered) rather than try a read that
  // almost always finds the socket empty while the client reads our answer.
  if (!in_.empty() || !io_pending()) {
    process_buffer();
  } else {
    read_head();
  }
}

void Connection::on_stop() {
  if (state_ == State::ReadingHead && in_.empty() && requests_ > 0) close();
}

void Connection::linger() {
  if (state_ != State::Lingering) {
    // Unread input turns close() into a reset that can destroy the answer still in
    // flight, so after an error or an unread body we half-close and wait for the client's
    // FIN. After a normal answer with nothing waiting in the socket (the usual
    // Connection: close request) we close at once, as nginx does.
    bool may_send_more = body_framing_ != http::BodyFraming::None || status_ >= 400;
    // A client that said "Connection: close" sends nothing more: no need to look.
    bool client_closes = have_head_ && !head_.keep_alive;
    if (!may_send_more && client_closes && in_.size() <= body_pos_) {
      if (tls_) tls_->shutdown();
      close();
      return;
    }
    if (!may_send_more) {
      char probe;
      ssize_t n = ::recv(fd_.get(), &probe, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n == 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))) {
        if (tls_) tls_->shutdown();
        close();
        return;
      }
    }
    state_ = State::Lingering;
    if (tls_) tls_->shutdown();
    ::shutdown(fd_.get(), SHUT_WR);
    arm_timer(kLingerMs, true);
  }
  char buf[16384];
  for (;;) {
    ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
    if (n > 0) continue;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    close();
    return;
  }
}

void Connection::close(bool handed_back) {
  if (state_ == State::Closed && !fd_) {
    worker_.connection_closed(*this, handed_back);
    return;
  }
  state_ = State::Closed;
  release_handler();
  timer_.disarm();
  if (in_loop_) {
    worker_.loop().remove(fd_.get());
    in_loop_ = false;
  }
  // Report first, close second: for a vhost with MaxClientsVHost the front hears of the
  // end before the client can see it and come back (the object is destroyed later).
  worker_.connection_closed(*this, handed_back);
  fd_.reset();
}

}  // namespace itkd
