#include "front/front.h"

#include <fcntl.h>
#include <poll.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <list>
#include <memory>
#include <optional>
#include <unordered_map>

#include "common/batch_scheduling.h"
#include "common/socket_address.h"
#include "common/unique_fd.h"
#include "config/vhost_router.h"
#include "event/event_loop.h"
#include "front/front_limits.h"
#include "http/proxy_protocol.h"
#include "http/request_head.h"
#include "http/response_head.h"
#include "ipc/channel.h"
#include "ipc/finished_counters.h"
#include "ipc/messages.h"
#include "ipc/process_layout.h"
#include "ipc/vhost_counters.h"
#include "log/error_log.h"
#include "sandbox/enter_sandbox.h"
#include "tls/client_hello.h"

namespace itkd {

namespace {

struct PendingConnection {
  uint64_t id = 0;
  UniqueFd fd;
  std::string buffer;
  sockaddr_storage local{};
  sockaddr_storage peer{};
  EventLoop::TimerId timer = 0;
  uint64_t waiting_since_ms = 0;
  size_t vhost = 0;        // set once routed
  bool routed = false;     // head complete, waiting for a worker of the pool
  bool in_loop = false;
  bool tls = false;        // TLS listener: only the ClientHello is peeked, never read
  bool awaiting_proxy = false;  // RemoteIPProxyProtocol: its PROXY header comes first
  bool nodelay = false;    // handed back with TCP_NODELAY already set
  size_t peeked = 0;
};

struct WorkerLink {
  uint32_t id = 0;
  pid_t pid = 0;
  UniqueFd channel;
  uint64_t handed = 0;           // connections handed to it over this channel
  FinishedCounterView finished;  // how many of them it has finished (its page)
  bool retiring = false;

  // Connections it holds now. Until its page arrives (the first message on the channel)
  // every handed connection counts; a worker writing nonsense only skews its own pool.
  uint64_t active() const {
    uint64_t done = finished.finished();
    return done >= handed ? 0 : handed - done;
  }
};

struct PoolLinks {
  std::vector<std::unique_ptr<WorkerLink>> workers;
  std::list<uint64_t> waiting;  // routed connections waiting for a worker
  bool dispatch_queued = false;  // in dispatch_queue_, sent at the end of this turn
  uint64_t start_requested_ms = 0;
  bool start_requested = false;
};

struct RoutedConnection {
  size_t pool = 0;
  uint32_t worker_id = 0;
  size_t vhost = 0;
};

class Front {
 public:
  Front(ServerConfig config, const FrontOptions& options)
      : config_(std::move(config)), router_(config_), options_(options) {}
  int run();

 private:
  void on_accept(int listener_fd);
  void on_readable(uint64_t id);
  void watch(PendingConnection& conn);
  bool drain_worker_reports();
  std::optional<std::string> over_client_limit(size_t vhost);
  void queue_for_worker(PendingConnection& conn, size_t vhost);
  // MSG_PEEK: the bytes (0 at end of stream), or nullopt when the connection is now
  // being watched (nothing yet) or dropped (an error).
  std::optional<size_t> peek(PendingConnection& conn, char* buf, size_t size);
  // RemoteIPProxyProtocol: false when the connection waits for more or was dropped.
  bool use_proxy_header(PendingConnection& conn, const http::ProxyHeader& header);
  void peek_proxy_header(PendingConnection& conn);
  void peek_client_hello(PendingConnection& conn);
  void refuse_tls(PendingConnection& conn, const std::string& reason);
  void process(PendingConnection& conn);
  void route(PendingConnection& conn, const http::RequestHead& head);
  void dispatch_pool(size_t pool);
  void dispatch_queued_pools();
  WorkerLink* pick_worker(size_t pool);
  void refuse(PendingConnection& conn, int status, const std::string& reason, bool log_it = true);
  void drop(uint64_t id);
  void on_control();
  void on_worker_message(size_t pool, uint32_t worker_id);
  void remove_worker(size_t pool, uint32_t worker_id);
  void request_pool(size_t pool);
  void connection_finished(uint64_t id, size_t pool, uint32_t worker_id);
  void on_signal();
  void maybe_exit();
  PendingConnection& add_connection(UniqueFd fd, std::string bytes, const sockaddr_storage* peer,
                                    const sockaddr_storage* local);
  WorkerLink* find_worker(size_t pool, uint32_t id);

  ServerConfig config_;
  VhostRouter router_;
  FrontOptions options_;
  EventLoop loop_;
  ErrorLog log_;
  UniqueFd signal_fd_;
  std::vector<int> listeners_;
  std::unordered_map<uint64_t, std::unique_ptr<PendingConnection>> pending_;
  std::unordered_map<uint64_t, RoutedConnection> routed_;
  std::vector<PoolLinks> pools_;
  std::vector<size_t> dispatch_queue_;  // pools with connections routed this turn
  VhostCounters counters_;
  // Listening addresses; a wildcard one (any address) needs getsockname per connection.
  struct ListenerInfo {
    sockaddr_storage address{};
    bool wildcard = false;
    bool tls = false;
    const Listener* config = nullptr;  // for RemoteIPProxyProtocol; null if unknown
  };
  std::unordered_map<int, ListenerInfo> listener_addresses_;
  http::ParseLimits limits_;
  uint64_t header_timeout_ms_ = 20000;
  uint64_t next_id_ = 1;
  bool stopping_ = false;
  bool accept_paused_ = false;
  uint32_t pool_grow_threshold_ = kPoolGrowThreshold;
  unsigned pool_max_workers_ = 1;
};

PendingConnection& Front::add_connection(UniqueFd fd, std::string bytes, const sockaddr_storage* peer,
                                        const sockaddr_storage* local) {
  auto conn = std::make_unique<PendingConnection>();
  conn->id = next_id_++;
  conn->fd = std::move(fd);
  conn->buffer = std::move(bytes);
  socklen_t len = sizeof conn->local;
  if (local) {
    conn->local = *local;
  } else {
    ::getsockname(conn->fd.get(), reinterpret_cast<sockaddr*>(&conn->local), &len);
  }
  if (peer) {
    conn->peer = *peer;
  } else {
    len = sizeof conn->peer;
    ::getpeername(conn->fd.get(), reinterpret_cast<sockaddr*>(&conn->peer), &len);
  }
  uint64_t id = conn->id;
  conn->timer = loop_.add_timer(header_timeout_ms_, [this, id] {
    auto it = pending_.find(id);
    if (it == pending_.end()) return;
    PendingConnection& c = *it->second;
    c.timer = 0;
    if (c.routed && c.tls) {
      refuse_tls(c, "no worker of the site's pool became available in time");
    } else if (c.routed) {
      refuse(c, 503, "no worker of the site's pool became available in time");
    } else if (c.awaiting_proxy) {
      log_.log(LogLevel::Info, "remoteip", address_text(c.peer), "PROXY header read timeout");
      drop(id);
    } else if (c.tls) {
      if (c.peeked) log_.log(LogLevel::Info, "ssl", address_text(c.peer), "ClientHello read timeout");
      drop(id);
    } else if (!c.buffer.empty()) {
      refuse(c, 408, "request header read timeout");
    } else {
      drop(id);  // nothing was sent: close silently, as Apache does
    }
  });
  PendingConnection& ref = *conn;
  pending_.emplace(id, std::move(conn));
  return ref;
}

void Front::on_accept(int listener_fd) {
  // Up to a handoff's worth of connections per wake-up: under load the backlog holds
  // several, and taking them together saves an epoll_wait each and lets them travel to
  // the worker in one message. Idle, it costs one failing accept4 per wake-up.
  for (uint32_t i = 0; i < ipc::kMaxHandoffs; ++i) {
    sockaddr_storage peer{};
    socklen_t peer_len = sizeof peer;
    int fd = ::accept4(listener_fd, reinterpret_cast<sockaddr*>(&peer), &peer_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of fds: stop accepting for a moment rather than spin on the listener.
        if (!accept_paused_) {
          log_.log(LogLevel::Error, "mpm_itkd", {}, errno_message("accept") + "; pausing accept for 100 ms");
          accept_paused_ = true;
          for (int l : listeners_) loop_.modify(l, 0);
          loop_.add_timer(100, [this] {
            accept_paused_ = false;
            if (!stopping_)
              for (int l : listeners_) loop_.modify(l, EPOLLIN | EPOLLEXCLUSIVE);
          });
        }
      }
      return;
    }
    if (pending_.size() >= kMaxPendingPerFront) {
      ::close(fd);
      continue;
    }
    const ListenerInfo& bound = listener_addresses_[listener_fd];
    PendingConnection& conn = add_connection(UniqueFd(fd), {}, &peer, bound.wildcard ? nullptr : &bound.address);
    conn.tls = bound.tls;
    conn.awaiting_proxy = bound.config && bound.config->proxy_protocol &&
                          !address_in_ranges(peer, bound.config->proxy_protocol_exceptions);
    // Clients usually send the request with the handshake's last ACK: try reading now,
    // and only watch the socket if the head isn't complete yet.
    on_readable(conn.id);
  }
}

void Front::on_readable(uint64_t id) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  PendingConnection& conn = *it->second;
  if (conn.routed) return;  // waiting for a worker; the bytes stay in the socket
  if (conn.tls) {
    if (conn.awaiting_proxy) peek_proxy_header(conn);
    else peek_client_hello(conn);
    return;
  }
  static char scratch[16384];  // appended from, so the buffer is never zero-filled
  for (;;) {
    size_t old = conn.buffer.size();
    if (old >= kMaxHeadBytes) break;
    size_t want = std::min<size_t>(kMaxHeadBytes - old, sizeof scratch);
    ssize_t n = ::recv(conn.fd.get(), scratch, want, 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == EINTR) continue;
      drop(id);
      return;
    }
    conn.buffer.append(scratch, static_cast<size_t>(n));
    if (n == 0) {
      if (!conn.buffer.empty())
        log_.log(LogLevel::Info, "http", address_text(conn.peer), "client closed the connection before sending a complete request head");
      drop(id);
      return;
    }
    if (static_cast<size_t>(n) < want) break;
  }
  if (conn.awaiting_proxy) {
    // Read with the request (no extra syscall), then cut from the buffer.
    const http::ProxyHeader header = http::parse_proxy_header(conn.buffer);
    if (!use_proxy_header(conn, header)) return;
    conn.buffer.erase(0, header.length);
  }
  process(conn);
}

std::optional<size_t> Front::peek(PendingConnection& conn, char* buf, size_t size) {
  ssize_t n = ::recv(conn.fd.get(), buf, size, MSG_PEEK);
  if (n >= 0) return static_cast<size_t>(n);
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) watch(conn);
  else drop(conn.id);
  return std::nullopt;
}

bool Front::use_proxy_header(PendingConnection& conn, const http::ProxyHeader& header) {
  if (header.status == http::ProxyHeaderStatus::Incomplete) {
    watch(conn);
    return false;
  }
  if (header.status == http::ProxyHeaderStatus::Malformed) {
    // As mod_remoteip: no answer (the peer speaks no HTTP yet), the connection closed.
    log_.log(LogLevel::Error, "remoteip", address_text(conn.peer),
             "RemoteIPProxyProtocol: " + header.reason + "; connection closed");
    drop(conn.id);
    return false;
  }
  if (header.source) {
    if (log_.enabled(LogLevel::Debug))
      log_.log(LogLevel::Debug, "remoteip", address_text(conn.peer), "PROXY header: client " + address_text(*header.source));
    conn.peer = *header.source;
  }
  conn.awaiting_proxy = false;
  return true;
}

void Front::peek_proxy_header(PendingConnection& conn) {
  // On a TLS listener: peeked, then exactly the header consumed, so the ClientHello after
  // it stays in the socket for the worker's OpenSSL.
  static char bytes[http::kMaxProxyHeaderBytes];
  auto n = peek(conn, bytes, sizeof bytes);
  if (!n) return;
  if (*n == 0) {
    log_.log(LogLevel::Info, "remoteip", address_text(conn.peer), "connection closed before its PROXY header");
    drop(conn.id);
    return;
  }
  const http::ProxyHeader header = http::parse_proxy_header(std::string_view(bytes, *n));
  if (!use_proxy_header(conn, header)) return;
  if (::recv(conn.fd.get(), bytes, header.length, 0) != static_cast<ssize_t>(header.length)) {
    drop(conn.id);
    return;
  }
  on_readable(conn.id);
}

void Front::peek_client_hello(PendingConnection& conn) {
  // The ClientHello stays in the socket for the owner's worker to read with OpenSSL: the
  // front only peeks at it for the SNI, never decrypts and never holds a key.
  static char hello[tls::kMaxClientHelloBytes];
  auto peeked = peek(conn, hello, sizeof hello);
  if (!peeked) return;
  const size_t n = *peeked;
  if (n == 0) {
    if (conn.peeked)
      log_.log(LogLevel::Info, "ssl", address_text(conn.peer), "client closed the connection during the ClientHello");
    drop(conn.id);
    return;
  }
  conn.peeked = n;
  tls::ClientHelloResult hello_result = tls::read_client_hello(std::string_view(hello, n));
  switch (hello_result.status) {
    case tls::ClientHelloStatus::Incomplete:
      if (n >= sizeof hello) {
        refuse_tls(conn, "ClientHello larger than " + std::to_string(sizeof hello) + " bytes");
        return;
      }
      watch(conn);
      return;
    case tls::ClientHelloStatus::NotTls:
      // Plain HTTP on a TLS port, as Apache answers it.
      refuse(conn, 400, "plain HTTP request sent to a TLS port (" + hello_result.reason + ")");
      return;
    case tls::ClientHelloStatus::Malformed:
      refuse_tls(conn, "malformed ClientHello: " + hello_result.reason);
      return;
    case tls::ClientHelloStatus::Complete:
      break;
  }
  std::string sni = hello_result.sni.value_or(std::string());
  size_t vhost = router_.route(conn.local, sni);
  if (auto why = over_client_limit(vhost)) {
    refuse_tls(conn, *why);
    return;
  }
  queue_for_worker(conn, vhost);
}

void Front::refuse_tls(PendingConnection& conn, const std::string& reason) {
  log_.log(LogLevel::Error, "ssl", address_text(conn.peer), "TLS connection refused: " + reason);
  [[maybe_unused]] ssize_t n = ::send(conn.fd.get(), tls::kDecodeErrorAlert.data(), tls::kDecodeErrorAlert.size(), MSG_NOSIGNAL);
  ::shutdown(conn.fd.get(), SHUT_WR);
  char sink[4096];
  while (::recv(conn.fd.get(), sink, sizeof sink, MSG_DONTWAIT) > 0) {
  }
  drop(conn.id);
}

bool Front::drain_worker_reports() {
  std::vector<std::pair<size_t, uint32_t>> links;
  for (size_t p = 0; p < pools_.size(); ++p)
    for (auto& w : pools_[p].workers) links.emplace_back(p, w->id);
  for (auto [pool, id] : links) {
    // Bounded: a worker can't keep us here by flooding its channel.
    for (int i = 0; i < 64; ++i) {
      WorkerLink* w = find_worker(pool, id);
      if (!w || !w->channel) break;
      pollfd pfd{w->channel.get(), POLLIN, 0};
      if (::poll(&pfd, 1, 0) <= 0) break;
      on_worker_message(pool, id);
    }
  }
  return true;
}

void Front::watch(PendingConnection& conn) {
  if (conn.in_loop) return;
  uint64_t id = conn.id;
  // A peeked ClientHello stays readable: edge-triggered, so only new bytes wake us.
  uint32_t events = EPOLLIN | EPOLLRDHUP | (conn.tls ? uint32_t{EPOLLET} : 0u);
  if (!loop_.add(conn.fd.get(), events, [this, id](uint32_t) { on_readable(id); })) {
    drop(id);
    return;
  }
  conn.in_loop = true;
}

void Front::process(PendingConnection& conn) {
  http::RequestHead head;
  http::ParseOutcome outcome = http::parse_request_head(conn.buffer, limits_, head);
  if (outcome.status == http::ParseStatus::Incomplete) {
    if (conn.buffer.size() >= kMaxHeadBytes) {
      refuse(conn, 431, "request header fields too large (more than 64 KiB in all)");
      return;
    }
    watch(conn);
    return;
  }
  if (outcome.status == http::ParseStatus::Error) {
    refuse(conn, outcome.http_status, outcome.reason);
    return;
  }
  route(conn, head);
}

void Front::route(PendingConnection& conn, const http::RequestHead& head) {
  size_t vhost = router_.route(conn.local, head.host);
  if (auto why = over_client_limit(vhost)) {
    refuse(conn, 503, *why);
    return;
  }
  queue_for_worker(conn, vhost);
}

// MaxClientsVHost: a slot is counted from here until the worker reports the connection
// done. At the limit, first read what the workers already reported: a slot may have been
// freed just now. Returns why the connection is refused, if it is.
std::optional<std::string> Front::over_client_limit(size_t vhost) {
  const VirtualHost& vh = config_.vhosts[vhost];
  if (!vh.max_clients) return std::nullopt;  // nothing to count: the workers report no ends
  if (counters_.try_acquire(options_.index, vhost, vh.max_clients) ||
      (drain_worker_reports() && counters_.try_acquire(options_.index, vhost, vh.max_clients)))
    return std::nullopt;
  return "MaxClientsVHost " + std::to_string(vh.max_clients) + " reached for " +
         (vh.server_name.empty() ? std::string("the main server") : vh.server_name);
}

// Routed: the connection waits for one of the vhost's pool's workers, which reads the
// rest, so the front stops watching the socket.
void Front::queue_for_worker(PendingConnection& conn, size_t vhost) {
  conn.vhost = vhost;
  conn.routed = true;
  conn.waiting_since_ms = loop_.now_ms();
  if (conn.in_loop) {
    loop_.remove(conn.fd.get());
    conn.in_loop = false;
  }
  size_t pool = config_.vhosts[vhost].pool;
  PoolLinks& links = pools_[pool];
  links.waiting.push_back(conn.id);
  // Sent at the end of the turn, together with whatever else this turn routes there.
  if (!links.dispatch_queued) {
    links.dispatch_queued = true;
    dispatch_queue_.push_back(pool);
  }
}

void Front::dispatch_queued_pools() {
  std::vector<size_t> pools;
  pools.swap(dispatch_queue_);
  for (size_t pool : pools) {
    pools_[pool].dispatch_queued = false;
    dispatch_pool(pool);
  }
}

WorkerLink* Front::find_worker(size_t pool, uint32_t id) {
  for (auto& w : pools_[pool].workers)
    if (w->id == id) return w.get();
  return nullptr;
}

void Front::request_pool(size_t pool) {
  PoolLinks& links = pools_[pool];
  // One request in flight per pool; ask again if the master didn't answer in time.
  if (links.start_requested && loop_.now_ms() - links.start_requested_ms < 2000) return;
  std::string error;
  auto status = send_message(kControlFd, ipc::encode(ipc::MessageType::StartPool, ipc::PoolRequest{static_cast<uint32_t>(pool)}), -1, &error);
  if (status == ChannelStatus::Ok) {
    links.start_requested = true;
    links.start_requested_ms = loop_.now_ms();
  }
}

void Front::dispatch_pool(size_t pool) {
  PoolLinks& links = pools_[pool];
  while (!links.waiting.empty()) {
    // Deal the waiting connections out as the balancing picks (it counts each as handed
    // at once), then send every worker its share in one message.
    struct Share {
      WorkerLink* worker;
      std::vector<PendingConnection*> conns;
      size_t bytes = 0;
    };
    std::vector<Share> shares;
    while (!links.waiting.empty()) {
      auto it = pending_.find(links.waiting.front());
      if (it == pending_.end()) {
        links.waiting.pop_front();
        continue;
      }
      PendingConnection& conn = *it->second;
      WorkerLink* worker = pick_worker(pool);
      if (!worker) break;
      Share* share = nullptr;
      for (Share& s : shares)
        if (s.worker == worker) share = &s;
      if (!share) share = &shares.emplace_back(Share{worker, {}, 0});
      // A full share goes first; the rest are dealt in the next round.
      if (share->conns.size() == ipc::kMaxHandoffs ||
          ipc::handoff_message_size(share->conns.size() + 1, share->bytes + conn.buffer.size()) > kMaxMessageBytes)
        break;
      share->conns.push_back(&conn);
      share->bytes += conn.buffer.size();
      worker->handed++;
      links.waiting.pop_front();
    }
    if (shares.empty()) {
      if (!links.waiting.empty()) request_pool(pool);  // no usable worker yet
      return;
    }
    bool retry_later = false;
    for (Share& share : shares) {
      if (share.conns.empty()) continue;
      WorkerLink* worker = share.worker;
      std::vector<ipc::Handoff> handoffs;
      std::vector<int> fds;
      for (PendingConnection* conn : share.conns) {
        uint32_t flags = (conn->tls ? ipc::kHandoffTls : 0u) | (conn->nodelay ? ipc::kHandoffNoDelay : 0u);
        handoffs.push_back(ipc::Handoff{
            ipc::ConnectionRef{conn->id, static_cast<uint32_t>(conn->vhost), flags, conn->local, conn->peer}, conn->buffer});
        fds.push_back(conn->fd.get());
      }
      std::string error;
      auto status = send_message(worker->channel.get(), ipc::encode_handoffs(ipc::MessageType::Handoff, handoffs), fds, &error);
      if (status != ChannelStatus::Ok) {
        // Not sent: these connections wait again, first in line.
        worker->handed -= share.conns.size();
        for (auto c = share.conns.rbegin(); c != share.conns.rend(); ++c) links.waiting.push_front((*c)->id);
        if (status == ChannelStatus::WouldBlock) {
          retry_later = true;  // the worker's queue is full
        } else {
          log_.log(LogLevel::Warn, "mpm_itkd", {}, "worker pid " + std::to_string(worker->pid) + " channel failed: " + error);
          remove_worker(pool, worker->id);
        }
        continue;
      }
      for (PendingConnection* conn : share.conns) {
        // Only a MaxClientsVHost slot needs the connection's end reported by id.
        if (config_.vhosts[conn->vhost].max_clients) routed_[conn->id] = RoutedConnection{pool, worker->id, conn->vhost};
        if (conn->timer) loop_.cancel_timer(conn->timer);
        pending_.erase(conn->id);  // closes our copy of the socket; the worker has its own
      }
    }
    if (retry_later) {
      // Retry shortly instead of blocking everyone.
      loop_.add_timer(5, [this, pool] { dispatch_pool(pool); });
      maybe_exit();
      return;
    }
    maybe_exit();
  }
}

WorkerLink* Front::pick_worker(size_t pool) {
  PoolLinks& links = pools_[pool];
  // Fill workers in order up to the grow threshold, then the least busy: an owner's
  // traffic stays on one warm worker (its PHP processes and opcache live there) until
  // it needs more, and the others stay idle long enough to retire.
  WorkerLink* best = nullptr;
  WorkerLink* first_free = nullptr;
  size_t usable = 0;
  for (auto& w : links.workers) {
    if (w->retiring || !w->channel) continue;
    ++usable;
    uint64_t active = w->active();
    if (!first_free && active < pool_grow_threshold_) first_free = w.get();
    if (!best || active < best->active()) best = w.get();
  }
  if (first_free) return first_free;
  // Grow the pool while every worker is busy, so all cores get used.
  if (best && usable < pool_max_workers_) request_pool(pool);
  return best;
}

void Front::refuse(PendingConnection& conn, int status, const std::string& reason, bool log_it) {
  if (log_it) {
    log_.log(LogLevel::Error, "http", address_text(conn.peer),
             "request refused with " + std::to_string(status) + ": " + reason);
  }
  std::string response = http::simple_error_response(status, false, {});
  [[maybe_unused]] ssize_t n = ::send(conn.fd.get(), response.data(), response.size(), MSG_NOSIGNAL);
  // Half-close and let the kernel deliver the answer before the FIN; unread client bytes
  // would otherwise turn the close into a reset that can destroy it.
  ::shutdown(conn.fd.get(), SHUT_WR);
  int fd = conn.fd.get();
  char sink[4096];
  while (::recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0) {
  }
  drop(conn.id);
}

void Front::drop(uint64_t id) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  PendingConnection& conn = *it->second;
  if (conn.in_loop) loop_.remove(conn.fd.get());
  if (conn.timer) loop_.cancel_timer(conn.timer);
  pending_.erase(it);
  maybe_exit();
}

void Front::connection_finished(uint64_t id, size_t pool, uint32_t worker_id) {
  auto it = routed_.find(id);
  // A worker can end only what it was handed, not another pool's slots.
  if (it == routed_.end() || it->second.pool != pool || it->second.worker_id != worker_id) return;
  counters_.release(options_.index, it->second.vhost);
  routed_.erase(it);
}

void Front::remove_worker(size_t pool, uint32_t worker_id) {
  auto& workers = pools_[pool].workers;
  for (size_t i = 0; i < workers.size(); ++i) {
    if (workers[i]->id != worker_id) continue;
    if (workers[i]->channel) loop_.remove(workers[i]->channel.get());
    workers.erase(workers.begin() + static_cast<long>(i));
    break;
  }
  // Connections the worker held are gone with it.
  for (auto it = routed_.begin(); it != routed_.end();) {
    if (it->second.pool == pool && it->second.worker_id == worker_id) {
      counters_.release(options_.index, it->second.vhost);
      it = routed_.erase(it);
    } else {
      ++it;
    }
  }
  maybe_exit();
}

void Front::on_worker_message(size_t pool, uint32_t worker_id) {
  WorkerLink* worker = find_worker(pool, worker_id);
  if (!worker) return;
  const Pool& pool_config = config_.pools[pool];
  // One message per wake-up: the channel is level-triggered, so more wake us again
  // within the same epoll_wait batch, and we save a failing recvmsg per message.
  for (int budget = 1; budget > 0; --budget) {
    ReceivedMessage msg;
    std::string error;
    ChannelStatus status = receive_message(worker->channel.get(), msg, &error, ipc::kMaxHandoffs);
    if (status == ChannelStatus::WouldBlock) return;
    if (status != ChannelStatus::Ok) {
      if (status == ChannelStatus::Failed)
        log_.log(LogLevel::Error, "mpm_itkd", {}, "worker pid " + std::to_string(worker->pid) + ": " + error);
      remove_worker(pool, worker_id);
      return;
    }
    // Only that worker, as its pool's owner, may speak on this channel.
    if (msg.pid != worker->pid || msg.uid != pool_config.uid) {
      log_.log(LogLevel::Error, "mpm_itkd", {}, "message from unexpected sender pid " + std::to_string(msg.pid) + " on a worker channel; dropping the channel");
      remove_worker(pool, worker_id);
      return;
    }
    auto type = ipc::message_type(msg.bytes);
    if (type == ipc::MessageType::ConnectionsDone && msg.fd_count() == 0) {
      std::vector<uint64_t> ids;
      if (!ipc::decode_done(msg.bytes, &ids)) {
        remove_worker(pool, worker_id);
        return;
      }
      for (uint64_t id : ids) connection_finished(id, pool, worker_id);
    } else if (type == ipc::MessageType::Handback) {
      auto handbacks = ipc::decode_handoffs(msg.bytes);
      bool valid = handbacks && handbacks->size() == msg.fd_count();
      for (size_t i = 0; valid && i < handbacks->size(); ++i) valid = (*handbacks)[i].bytes.size() <= kMaxHeadBytes;
      if (!valid) {
        log_.log(LogLevel::Error, "mpm_itkd", {}, "worker pid " + std::to_string(worker->pid) + " sent a malformed hand-back; dropping its channel");
        remove_worker(pool, worker_id);
        return;
      }
      for (size_t i = 0; i < handbacks->size(); ++i) {
        const ipc::Handoff& h = (*handbacks)[i];
        UniqueFd fd = i == 0 ? std::move(msg.fd) : std::move(msg.more_fds[i - 1]);
        connection_finished(h.ref.connection_id, pool, worker_id);
        // The next request on this connection is for another owner: route it afresh.
        ipc::ConnectionRef ref = h.ref;
        PendingConnection& conn = add_connection(std::move(fd), std::string(h.bytes), &ref.peer, &ref.local);
        conn.nodelay = (ref.flags & ipc::kHandoffNoDelay) != 0;
        process(conn);
      }
      worker = find_worker(pool, worker_id);
      if (!worker) return;
    } else if (type == ipc::MessageType::FinishedCounters && ipc::is_empty_message(msg.bytes) && msg.fd_count() == 1 &&
               !worker->finished.mapped()) {
      auto view = FinishedCounterView::map(msg.fd.get(), options_.index);
      if (!view) {
        log_.log(LogLevel::Error, "mpm_itkd", {}, "worker pid " + std::to_string(worker->pid) + ": " + view.error().message + "; dropping its channel");
        remove_worker(pool, worker_id);
        return;
      }
      worker->finished = std::move(*view);
    } else if (type == ipc::MessageType::RetireRequest && ipc::is_empty_message(msg.bytes) && msg.fd_count() == 0) {
      worker->retiring = true;
      send_message(worker->channel.get(), ipc::encode_empty(ipc::MessageType::RetireAck), -1, &error);
    } else {
      log_.log(LogLevel::Error, "mpm_itkd", {}, "worker pid " + std::to_string(worker->pid) + " sent a message not allowed from a worker; dropping its channel");
      remove_worker(pool, worker_id);
      return;
    }
  }
}

void Front::on_control() {
  for (;;) {
    ReceivedMessage msg;
    std::string error;
    ChannelStatus status = receive_message(kControlFd, msg, &error);
    if (status == ChannelStatus::WouldBlock) return;
    if (status != ChannelStatus::Ok) {
      // The master is gone: nobody can start or reap workers any more.
      log_.log(LogLevel::Error, "mpm_itkd", {}, "lost the master's channel (" + error + "); front exiting");
      std::exit(1);
    }
    if (msg.uid != 0 || msg.pid != ::getppid()) {
      log_.log(LogLevel::Error, "mpm_itkd", {}, "control message from a process other than the master; ignored");
      continue;
    }
    auto type = ipc::message_type(msg.bytes);
    if (type == ipc::MessageType::WorkerChannel) {
      auto offer = ipc::decode<ipc::ChannelOffer>(msg.bytes);
      if (!offer || !msg.fd || offer->pool >= pools_.size() || offer->uid != config_.pools[offer->pool].uid) continue;
      // The worker made this socketpair after dropping privileges: its kernel-recorded
      // creator must be that worker, as that pool's owner.
      ucred cred{};
      socklen_t len = sizeof cred;
      if (::getsockopt(msg.fd.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.pid != offer->pid ||
          cred.uid != offer->uid) {
        log_.log(LogLevel::Error, "mpm_itkd", {}, "worker channel with wrong peer credentials; refused");
        continue;
      }
      if (!enable_credentials(msg.fd.get())) continue;
      auto link = std::make_unique<WorkerLink>();
      link->id = offer->worker_id;
      link->pid = offer->pid;
      link->channel = std::move(msg.fd);
      size_t pool = offer->pool;
      uint32_t id = link->id;
      int channel_fd = link->channel.get();
      pools_[pool].workers.push_back(std::move(link));
      pools_[pool].start_requested = false;
      if (!loop_.add(channel_fd, EPOLLIN, [this, pool, id](uint32_t) { on_worker_message(pool, id); })) {
        remove_worker(pool, id);
        continue;
      }
      dispatch_pool(pool);
    } else if (type == ipc::MessageType::WorkerGone) {
      auto ref = ipc::decode<ipc::WorkerRef>(msg.bytes);
      if (!ref || ref->pool >= pools_.size()) continue;
      if (ref->worker_id == UINT32_MAX) {
        // The pool could not start: answer its waiting clients now.
        PoolLinks& links = pools_[ref->pool];
        links.start_requested = false;
        if (links.workers.empty()) {
          while (!links.waiting.empty()) {
            auto it = pending_.find(links.waiting.front());
            links.waiting.pop_front();
            if (it != pending_.end())
              refuse(*it->second, 503, "the site's worker pool failed to start (see the log above)");
          }
        }
      } else {
        remove_worker(ref->pool, ref->worker_id);
      }
    }
  }
}

void Front::maybe_exit() {
  if (stopping_ && pending_.empty()) std::exit(0);
}

void Front::on_signal() {
  signalfd_siginfo info{};
  while (::read(signal_fd_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    if (info.ssi_signo == SIGTERM || info.ssi_signo == SIGINT) {
      stopping_ = true;
      for (int l : listeners_) {
        loop_.remove(l);
        ::close(l);
      }
      listeners_.clear();
      maybe_exit();
    }
  }
}

int Front::run() {
  ErrorLog boot_log(kErrorLogFd, parse_log_level(config_.log_level));
  log_ = boot_log;
  auto identity = resolve_identity(config_.front_user, config_.front_group);
  if (!identity) {
    log_.log(LogLevel::Emerg, "mpm_itkd", {}, "front: FrontUser/FrontGroup: " + identity.error().message);
    return 1;
  }
  // Load the time zone while /etc is still visible; the chroot is empty.
  ::tzset();
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&now, &tm);
  (void)http::http_date_now();

  if (::chroot(config_.front_chroot.c_str()) != 0 || ::chdir("/") != 0) {
    log_.log(LogLevel::Emerg, "mpm_itkd", {}, errno_message("front: chroot(" + config_.front_chroot + ")"));
    return 1;
  }
  if (auto r = use_batch_scheduling(); !r) log_.log(LogLevel::Warn, "mpm_itkd", {}, "front: " + r.error().message);
  auto signals = enter_sandbox(*identity, SeccompProfile::Front);
  if (!signals) {
    log_.log(LogLevel::Emerg, "mpm_itkd", {}, "front: " + signals.error().message);
    return 1;
  }
  signal_fd_ = std::move(*signals);

  const HttpLimits& limits = config_.vhosts[0].limits;
  limits_.max_request_line = limits.limit_request_line;
  limits_.max_field_size = limits.limit_request_field_size;
  limits_.max_fields = limits.limit_request_fields;
  header_timeout_ms_ = static_cast<uint64_t>(limits.request_header_timeout_s) * 1000;
  pools_.resize(config_.pools.size());
  auto counters = VhostCounters::map(kFirstExtraFd + static_cast<int>(options_.listener_count),
                                     options_.front_count, config_.vhosts.size());
  if (!counters) {
    log_.log(LogLevel::Emerg, "mpm_itkd", {}, "front: " + counters.error().message);
    return 1;
  }
  counters_ = std::move(*counters);
  pool_max_workers_ = pool_worker_limit(config_);

  ::fcntl(kControlFd, F_SETFL, O_NONBLOCK);
  if (!enable_credentials(kControlFd)) return 1;
  loop_.set_batch_end([this] { dispatch_queued_pools(); });
  if (!loop_.add(kControlFd, EPOLLIN, [this](uint32_t) { on_control(); }) ||
      !loop_.add(signal_fd_.get(), EPOLLIN, [this](uint32_t) { on_signal(); })) {
    log_.log(LogLevel::Emerg, "mpm_itkd", {}, "front: could not set up its event loop");
    return 1;
  }
  for (unsigned i = 0; i < options_.listener_count; ++i) {
    int fd = kFirstExtraFd + static_cast<int>(i);
    listeners_.push_back(fd);
    sockaddr_storage bound{};
    socklen_t bound_len = sizeof bound;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_len);
    bool wildcard = (bound.ss_family == AF_INET &&
                     reinterpret_cast<sockaddr_in*>(&bound)->sin_addr.s_addr == htonl(INADDR_ANY)) ||
                    (bound.ss_family == AF_INET6 &&
                     IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<sockaddr_in6*>(&bound)->sin6_addr));
    const Listener* listener = i < config_.listeners.size() ? &config_.listeners[i] : nullptr;
    listener_addresses_[fd] = ListenerInfo{bound, wildcard, listener && listener->tls, listener};
    if (auto r = loop_.add(fd, EPOLLIN | EPOLLEXCLUSIVE, [this, fd](uint32_t) { on_accept(fd); }); !r) {
      log_.log(LogLevel::Emerg, "mpm_itkd", {}, "front: " + r.error().message);
      return 1;
    }
  }
  std::string error;
  send_message(kControlFd, ipc::encode_empty(ipc::MessageType::FrontReady), -1, &error);
  auto result = loop_.run();
  return result ? 0 : 1;
}

}  // namespace

int run_front(const FrontOptions& options) {
  auto config = load_config_from_snapshot(kSnapshotFd);
  if (!config) {
    ErrorLog(kErrorLogFd, LogLevel::Error).log(LogLevel::Emerg, "mpm_itkd", {}, "front: " + config.error().message);
    return 1;
  }
  Front front(std::move(*config), options);
  return front.run();
}

}  // namespace itkd
