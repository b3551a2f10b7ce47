#include "worker/worker.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <unordered_map>

#include "common/batch_scheduling.h"
#include "ipc/channel.h"
#include "ipc/finished_counters.h"
#include "ipc/messages.h"
#include "ipc/process_layout.h"
#include "sandbox/enter_sandbox.h"
#include "sandbox/private_tmp.h"
#include "worker/access_log_buffer.h"
#include "worker/connection.h"
#include "worker/static/open_file_cache.h"
#include "worker/dynamic_target.h"
#include "worker/handler_memo.h"
#include "worker/htaccess_views.h"
#include "worker/owner_confinement.h"
#include "worker/fastcgi/fcgid_process_manager.h"
#include "tls/tls_context.h"
#include "worker/worker_context.h"

namespace itkd {

namespace {

// A connection going back to its front at the end of this turn.
struct PendingHandback {
  ipc::ConnectionRef ref;
  UniqueFd fd;
  std::string unread;
};

struct FrontLink {
  UniqueFd channel;
  std::vector<PendingHandback> handbacks;  // sent together at the end of the turn
  size_t handback_bytes = 0;
  bool retire_acked = false;
  std::vector<uint64_t> done;  // ended MaxClientsVHost connections not yet reported
  uint64_t counted_from = 0;   // local connection ids below this came over an older channel
};

class Worker : public WorkerContext {
 public:
  Worker(WorkerPreload preload, const WorkerOptions& options)
      : loaded_(std::move(preload.config)),
        options_(options),
        preloaded_mime_(std::move(preload.mime)),
        seccomp_(std::move(preload.seccomp)) {}
  int run();

  const ServerConfig& config() const override { return config_; }
  const VhostRouter& router() const override { return router_; }
  const MimeTypes& mime() const override { return mime_; }
  OpenFileCache& open_files() override { return open_files_; }
  HandlerMemo& handler_memo() override { return handler_memo_; }
  HtaccessViews& htaccess() override { return htaccess_; }
  EventLoop& loop() override { return loop_; }
  size_t pool() const override { return options_.pool; }
  const VhostLogs& logs(size_t vhost) const override { return vhost_logs_[vhost]; }
  const ErrorLog& worker_log() const override { return log_; }
  void log_access(int fd, std::string_view line) override { access_logs_.append(fd, line); }
  void flush_later(uint64_t connection_id) override { to_flush_.push_back(connection_id); }
  void destroy_later(std::shared_ptr<AsyncHandler> handler) override { finished_.push_back(std::move(handler)); }
  bool stopping() const override { return stopping_ || draining_; }
  bool closing_idle() const override { return stopping_; }
  bool has_dynamic(size_t vhost) const override { return vhost < has_dynamic_.size() && has_dynamic_[vhost]; }
  FcgidProcessManager& fcgid() override { return *fcgid_; }
  const tls::TlsContextSet* tls_contexts() const override { return tls_.get(); }
  void connection_closed(Connection& conn, bool handed_back) override;
  bool hand_back(Connection& conn, UniqueFd& fd, std::string_view unread) override;

 private:
  Result<void> setup_logs();
  Result<void> read_pool_secrets();
  void on_front_message(size_t front);
  void load_tls();
  void flush_done();
  void flush_handbacks();
  void flush_handbacks(FrontLink& front);
  void end_of_turn();
  void on_control();
  Result<void> offer_channel(unsigned front);
  void on_signal();
  void check_idle();
  void ask_fronts_to_retire();
  void maybe_exit();

  std::unique_ptr<const WorkerConfig> loaded_;
  const ServerConfig& config_ = loaded_->config;
  const VhostRouter& router_ = loaded_->router;
  WorkerOptions options_;
  std::optional<MimeTypes> preloaded_mime_;
  std::optional<SeccompProgram> seccomp_;
  MimeTypes mime_;
  OpenFileCache open_files_;
  HandlerMemo handler_memo_;
  HtaccessViews htaccess_;
  EventLoop loop_;
  ErrorLog log_;
  std::vector<VhostLogs> vhost_logs_;
  AccessLogBuffer access_logs_;
  std::vector<uint64_t> to_flush_;  // connections with queued dynamic output
  std::vector<FrontLink> fronts_;
  FinishedCounterPage finished_counts_;  // what each front reads to count this worker's connections
  std::unordered_map<uint64_t, std::unique_ptr<Connection>> connections_;
  std::vector<std::unique_ptr<Connection>> closed_;  // destroyed at the end of the loop's turn
  UniqueFd signal_fd_;
  uint64_t next_id_ = 1;
  uint64_t last_active_ms_ = 0;
  bool stopping_ = false;
  bool draining_ = false;  // SIGQUIT: finish everything, keep-alive clients included
  bool retiring_ = false;
  uid_t expected_front_uid_ = 0;
  std::vector<bool> has_dynamic_;
  std::unique_ptr<FcgidProcessManager> fcgid_;
  std::unique_ptr<tls::TlsContextSet> tls_;
  tls::TlsContextSet::TicketKeys ticket_keys_{};  // the pool's, from the master; wiped once used
  // Handlers their connections let go of this turn (destroy_later). Last, so they go
  // first, while the process manager and the loop they reference still exist.
  std::vector<std::shared_ptr<AsyncHandler>> finished_;
};

Result<void> Worker::read_pool_secrets() {
  ReceivedMessage msg;
  std::string error;
  // The master queued this message before spawning us: it is there, or never comes.
  ChannelStatus status = receive_message(kControlFd, msg, &error);
  if (status != ChannelStatus::Ok) return Error{"no pool secrets from the master" + (error.empty() ? "" : ": " + error)};
  auto secrets = ipc::decode<ipc::PoolSecrets>(msg.bytes);
  if (msg.uid != 0 || msg.pid != ::getppid() || msg.fd || ipc::message_type(msg.bytes) != ipc::MessageType::PoolSecrets ||
      !secrets)
    return Error{"the first message on the control channel is not the pool secrets"};
  std::memcpy(ticket_keys_.data(), secrets->ticket_keys, ticket_keys_.size());
  ::explicit_bzero(&*secrets, sizeof *secrets);
  ::explicit_bzero(msg.bytes.data(), msg.bytes.size());
  return ok();
}

Result<void> Worker::setup_logs() {
  LogLevel level = parse_log_level(config_.log_level);
  log_ = ErrorLog(kErrorLogFd, level);
  std::vector<std::string> paths = pool_log_paths(config_, options_.pool);
  auto fd_of = [&](const std::string& path) -> int {
    for (size_t i = 0; i < paths.size(); ++i)
      if (paths[i] == path) return kFirstExtraFd + static_cast<int>(i);
    return -1;
  };
  vhost_logs_.resize(config_.vhosts.size());
  for (size_t v : config_.pools[options_.pool].vhosts) {
    const VirtualHost& vh = config_.vhosts[v];
    VhostLogs& logs = vhost_logs_[v];
    logs.error = vh.error_log.empty() ? log_ : ErrorLog(fd_of(vh.error_log), level);
    for (const auto& spec : vh.custom_logs) {
      auto format = AccessLogFormat::compile(spec.format);
      if (!format) return Error{spec.where.str() + ": " + format.error().message};
      logs.access.push_back(VhostLogs::Access{fd_of(spec.path), std::move(*format), spec.env_condition, spec.env_negated});
    }
  }
  // Vhosts of other pools never log here; their entries only receive worker-level lines.
  for (size_t v = 0; v < vhost_logs_.size(); ++v)
    if (config_.vhosts[v].pool != options_.pool) vhost_logs_[v].error = log_;
  return ok();
}

void Worker::connection_closed(Connection& conn, bool handed_back) {
  auto it = connections_.find(conn.id());
  if (it == connections_.end()) return;
  if (conn.front_index() < fronts_.size()) {
    FrontLink& front = fronts_[conn.front_index()];
    if (conn.id() >= front.counted_from) finished_counts_.add(conn.front_index());
    // A MaxClientsVHost slot (the front counted it against the vhost it routed to) must be
    // free before the client sees the close: reported by message, at once. A handed-back
    // connection's slot is freed by the front when it gets the socket back.
    if (!handed_back && config_.vhosts[conn.handoff_vhost()].max_clients) {
      front.done.push_back(conn.front_connection_id());
      flush_done();
    }
  }
  // The connection is usually on the call stack right now: destroy it later.
  closed_.push_back(std::move(it->second));
  connections_.erase(it);
  last_active_ms_ = loop_.now_ms();
}

bool Worker::hand_back(Connection& conn, UniqueFd& fd, std::string_view unread) {
  if (conn.front_index() >= fronts_.size() || !fronts_[conn.front_index()].channel) return false;
  if (ipc::handoff_message_size(1, unread.size()) > kMaxMessageBytes) return false;
  FrontLink& front = fronts_[conn.front_index()];
  if (front.handbacks.size() == ipc::kMaxHandoffs ||
      ipc::handoff_message_size(front.handbacks.size() + 1, front.handback_bytes + unread.size()) > kMaxMessageBytes)
    flush_handbacks(front);
  ipc::ConnectionRef ref{conn.front_connection_id(), static_cast<uint32_t>(conn.last_vhost()),
                         conn.nodelay() ? ipc::kHandoffNoDelay : 0u, conn.local(), conn.peer()};
  front.handbacks.push_back(PendingHandback{ref, std::move(fd), std::string(unread)});
  front.handback_bytes += unread.size();
  return true;
}

void Worker::flush_handbacks() {
  for (auto& f : fronts_) flush_handbacks(f);
}

void Worker::flush_handbacks(FrontLink& front) {
  if (front.handbacks.empty()) return;
  std::vector<ipc::Handoff> entries;
  std::vector<int> fds;
  entries.reserve(front.handbacks.size());
  fds.reserve(front.handbacks.size());
  for (const PendingHandback& h : front.handbacks) {
    entries.push_back(ipc::Handoff{h.ref, h.unread});
    fds.push_back(h.fd.get());
  }
  std::string error = "the front's channel is gone";
  ChannelStatus status = ChannelStatus::Failed;
  if (front.channel)
    status = send_message(front.channel.get(), ipc::encode_handoffs(ipc::MessageType::Handback, entries), fds, &error);
  // The sockets close here either way: ours are copies once sent, and unsendable ones
  // leave their clients a closed keep-alive connection to retry on.
  if (status != ChannelStatus::Ok)
    log_.log(LogLevel::Warn, "mpm_itkd", {},
             "hand back of " + std::to_string(entries.size()) + " connection(s) to the front failed: " +
                 (status == ChannelStatus::WouldBlock ? std::string("its channel is full") : error) + "; closed them");
  front.handbacks.clear();
  front.handback_bytes = 0;
}

void Worker::on_front_message(size_t front) {
  FrontLink& link = fronts_[front];
  const uid_t front_uid = expected_front_uid_;
  // A few messages per wake-up: under load the front's Handoffs queue up while we serve
  // the last ones, and reading them now shares this turn's epoll_wait, file checks and
  // log write among them. The bound keeps a flood from starving our other connections.
  for (int budget = 4; budget > 0; --budget) {
    ReceivedMessage msg;
    std::string error;
    ChannelStatus status = receive_message(link.channel.get(), msg, &error, ipc::kMaxHandoffs);
    if (status == ChannelStatus::WouldBlock) return;
    if (status != ChannelStatus::Ok) {
      if (status == ChannelStatus::Failed) log_.log(LogLevel::Error, "mpm_itkd", {}, "front channel: " + error);
      loop_.remove(link.channel.get());
      link.channel.reset();
      maybe_exit();
      return;
    }
    // Only a front, running as the front identity, may hand us clients.
    if (msg.uid != front_uid) {
      log_.log(LogLevel::Error, "mpm_itkd", {}, "message from uid " + std::to_string(msg.uid) + " on a front channel; dropping the channel");
      loop_.remove(link.channel.get());
      link.channel.reset();
      maybe_exit();
      return;
    }
    auto type = ipc::message_type(msg.bytes);
    std::optional<std::vector<ipc::Handoff>> handoffs;
    if (type == ipc::MessageType::Handoff) handoffs = ipc::decode_handoffs(msg.bytes);
    if (handoffs && handoffs->size() == msg.fd_count()) {
      last_active_ms_ = loop_.now_ms();
      for (size_t i = 0; i < handoffs->size(); ++i) {
        const ipc::Handoff& h = (*handoffs)[i];
        UniqueFd fd = i == 0 ? std::move(msg.fd) : std::move(msg.more_fds[i - 1]);
        uint64_t id = next_id_++;
        bool tls = (h.ref.flags & ipc::kHandoffTls) != 0;
        if (h.ref.vhost >= config_.vhosts.size() || config_.vhosts[h.ref.vhost].pool != options_.pool) continue;
        auto conn = std::make_unique<Connection>(*this, id, std::move(fd), std::string(h.bytes), front,
                                                 h.ref.connection_id, h.ref.local, h.ref.peer, tls, h.ref.vhost);
        Connection* raw = conn.get();
        if (h.ref.flags & ipc::kHandoffNoDelay) raw->nodelay_already_set();
        connections_.emplace(id, std::move(conn));
        raw->start();
      }
    } else if (type == ipc::MessageType::RetireAck && ipc::is_empty_message(msg.bytes) && msg.fd_count() == 0) {
      link.retire_acked = true;
      maybe_exit();
    } else {
      log_.log(LogLevel::Error, "mpm_itkd", {}, "unexpected message on a front channel; dropping the channel");
      loop_.remove(link.channel.get());
      link.channel.reset();
      maybe_exit();
      return;
    }
  }
}

Result<void> Worker::offer_channel(unsigned front) {
  auto pair = make_channel(true);
  if (!pair) return pair.error();
  ipc::ChannelOffer offer{options_.pool, options_.worker_id, front, ::getpid(), options_.uid};
  std::string error;
  if (send_message(kControlFd, ipc::encode(ipc::MessageType::WorkerChannel, offer), pair->second.get(), &error) !=
      ChannelStatus::Ok)
    return Error{"could not offer a channel to the master: " + error};
  FrontLink& link = fronts_[front];
  if (link.channel) loop_.remove(link.channel.get());
  link.channel = std::move(pair->first);
  link.retire_acked = false;
  link.done.clear();
  // The new front counts from zero, and only the connections it hands us. Our page of
  // counts is the first message on the channel; until the front reads it, everything it
  // handed us counts as busy.
  finished_counts_.reset(front);
  link.counted_from = next_id_;
  if (send_message(link.channel.get(), ipc::encode_empty(ipc::MessageType::FinishedCounters), finished_counts_.fd(),
                   &error) != ChannelStatus::Ok)
    return Error{"could not send the finished-connection counters: " + error};
  size_t index = front;
  if (auto r = loop_.add(link.channel.get(), EPOLLIN, [this, index](uint32_t) { on_front_message(index); }); !r)
    return r.error();
  return ok();
}

void Worker::on_control() {
  for (;;) {
    ReceivedMessage msg;
    std::string error;
    ChannelStatus status = receive_message(kControlFd, msg, &error);
    if (status == ChannelStatus::WouldBlock) return;
    if (status != ChannelStatus::Ok) {
      // The master is gone: finish what we have and leave.
      loop_.remove(kControlFd);
      stopping_ = true;
      for (auto& f : fronts_)
        if (f.channel) {
          loop_.remove(f.channel.get());
          f.channel.reset();
        }
      maybe_exit();
      return;
    }
    if (msg.uid != 0 || msg.pid != ::getppid() || msg.fd) continue;
    auto ref = ipc::decode<ipc::FrontRef>(msg.bytes);
    if (ipc::message_type(msg.bytes) == ipc::MessageType::NewFront && ref && ref->front_index < fronts_.size() &&
        !stopping_ && !retiring_) {
      if (auto r = offer_channel(ref->front_index); !r)
        log_.log(LogLevel::Error, "mpm_itkd", {}, "worker: " + r.error().message);
    }
  }
}

void Worker::end_of_turn() {
  // Destroying a handler can start another (a freed php-cgi goes to a waiting request).
  while (!finished_.empty()) {
    std::vector<std::shared_ptr<AsyncHandler>> dead;
    dead.swap(finished_);
  }
  open_files_.begin_turn();
  // A program's head and body parts from one turn go out in one send.
  std::vector<uint64_t> flush;
  flush.swap(to_flush_);
  for (uint64_t id : flush) {
    auto it = connections_.find(id);
    if (it != connections_.end()) it->second->flush_queued();
  }
  flush_handbacks();
  access_logs_.flush();
  // Closed connections go last, when none of them is on the call stack any more. (A
  // zero-delay timer did this at the cost of a timer, a closure and a non-blocking
  // epoll_wait per turn that closed one.)
  if (!closed_.empty()) {
    closed_.clear();
    maybe_exit();
  }
}

void Worker::flush_done() {
  for (auto& f : fronts_) {
    if (f.done.empty()) continue;
    if (f.channel) {
      std::string error;
      send_message(f.channel.get(), ipc::encode_done(f.done.data(), static_cast<uint32_t>(f.done.size())), -1, &error);
    }
    f.done.clear();
  }
}

void Worker::load_tls() {
  bool any = false;
  for (size_t v : config_.pools[options_.pool].vhosts) any = any || config_.vhosts[v].tls.enabled;
  if (!any) return;
  // SNI picks among this owner's TLS vhosts on the connection's address only.
  auto contexts = tls::TlsContextSet::create([this](std::string_view sni, size_t, int fd) -> long {
    sockaddr_storage local{};
    socklen_t len = sizeof local;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0) return -1;
    size_t v = router_.route(local, sni);
    const VirtualHost& vh = config_.vhosts[v];
    if (vh.pool != options_.pool || !vh.tls.enabled || !tls_ || !tls_->find(v)) return -1;
    return static_cast<long>(v);
  }, ticket_keys_);
  if (!contexts) {
    log_.log(LogLevel::Error, "ssl", {}, "worker: " + contexts.error().message);
    return;
  }
  tls_ = std::move(*contexts);
  // Keys are read here, as the owner: kernel permissions decide, and a key the owner
  // can't read disables that vhost's TLS only (its connections are closed, logged).
  for (size_t v : config_.pools[options_.pool].vhosts) {
    const VirtualHost& vh = config_.vhosts[v];
    if (!vh.tls.enabled) continue;
    tls::TlsSettings settings;
    settings.name = vh.server_name;
    settings.cert_file = vh.tls.certificate_file;
    settings.key_file = vh.tls.certificate_key_file;
    settings.chain_file = vh.tls.certificate_chain_file;
    settings.protocols = vh.tls.protocol;
    settings.cipher_suite = vh.tls.cipher_suite;
    settings.tls13_cipher_suites = vh.tls.cipher_suite_tls13;
    settings.honor_cipher_order = vh.tls.honor_cipher_order;
    settings.session_tickets = vh.tls.session_tickets;
    if (auto r = tls_->add(v, settings); !r) {
      std::string message = vh.tls.where.str() + ": TLS for " + vh.server_name + " disabled: " + r.error().message;
      vhost_logs_[v].error.log(LogLevel::Error, "ssl", {}, message);
      if (vhost_logs_[v].error.fd() != log_.fd()) log_.log(LogLevel::Error, "ssl", {}, message);
    }
  }
}

void Worker::maybe_exit() {
  if (!connections_.empty()) return;
  bool fronts_done = true;
  for (const auto& f : fronts_) fronts_done = fronts_done && (!f.channel || f.retire_acked);
  if ((stopping_ || draining_ || retiring_) && fronts_done) {
    flush_handbacks();
    flush_done();
    access_logs_.flush();
    closed_.clear();
    fcgid_.reset();  // stops the owner's php-cgi processes and removes their sockets
    std::exit(0);
  }
}

// Asks every front to stop sending; the worker exits once all have answered (channels are
// ordered, so nothing is in flight after the ack) and its connections are done.
void Worker::ask_fronts_to_retire() {
  if (retiring_) return;
  retiring_ = true;
  // The fronts must have every connection we gave back, and know every one that ended,
  // before the request.
  flush_handbacks();
  flush_done();
  std::string error;
  for (auto& f : fronts_)
    if (f.channel) send_message(f.channel.get(), ipc::encode_empty(ipc::MessageType::RetireRequest), -1, &error);
}

void Worker::check_idle() {
  if (!stopping_ && !draining_ && !retiring_ && connections_.empty() &&
      loop_.now_ms() - last_active_ms_ >= static_cast<uint64_t>(config_.pool_idle_timeout_s) * 1000) {
    ask_fronts_to_retire();
    maybe_exit();
  }
  open_files_.expire(loop_.now_ms());
  loop_.add_timer(1000, [this] { check_idle(); });
}

void Worker::on_signal() {
  signalfd_siginfo info{};
  while (::read(signal_fd_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    if (info.ssi_signo != SIGTERM && info.ssi_signo != SIGINT && info.ssi_signo != SIGQUIT) continue;
    if (info.ssi_signo == SIGQUIT) {
      // A reload retires this worker: every client it has gets its next answer (with
      // Connection: close), so no request is lost in the race between a client sending
      // on an idle keep-alive connection and the server closing it.
      draining_ = true;
    } else {
      stopping_ = true;
      std::vector<Connection*> all;
      for (auto& [id, conn] : connections_) all.push_back(conn.get());
      for (Connection* c : all) c->on_stop();
    }
    // A signal to this worker alone (an admin's kill, not a server stop or reload, where
    // the fronts go too) must not leave it waiting for fronts that keep their channels.
    ask_fronts_to_retire();
    // Don't wait forever for a client that never reads.
    loop_.add_timer(static_cast<uint64_t>(config_.vhosts[0].limits.timeout_s) * 1000, [this] {
      flush_handbacks();
      access_logs_.flush();
      fcgid_.reset();
      std::exit(0);
    });
    maybe_exit();
  }
}

int Worker::run() {
  ErrorLog boot(kErrorLogFd, LogLevel::Debug);
  if (options_.pool >= config_.pools.size()) {
    boot.log(LogLevel::Emerg, "mpm_itkd", {}, "worker: pool " + std::to_string(options_.pool) + " is not in the configuration");
    return 1;
  }
  const Pool& pool = config_.pools[options_.pool];
  // The ids as the master resolved them, recorded in the sealed snapshot: no NSS lookup
  // (and no /etc/passwd read as root) per worker start.
  const Identity identity{pool.uid, pool.gid, pool.groups, {}, {}};
  // The master said which ids to become; the configuration must agree.
  if (identity.uid != options_.uid || identity.gid != options_.gid || identity.uid == 0 || identity.gid == 0 ||
      identity.groups.empty()) {
    boot.log(LogLevel::Emerg, "mpm_itkd", {}, "worker: identity mismatch for pool " + std::to_string(options_.pool));
    return 1;
  }
  if (config_.front_uid == 0) {
    boot.log(LogLevel::Emerg, "mpm_itkd", {}, "worker: FrontUser was not resolved");
    return 1;
  }
  expected_front_uid_ = config_.front_uid;
  if (auto r = read_pool_secrets(); !r) {
    boot.log(LogLevel::Emerg, "mpm_itkd", {}, "worker: " + r.error().message);
    return 1;
  }
  if (auto r = use_batch_scheduling(); !r) boot.log(LogLevel::Warn, "mpm_itkd", {}, "worker: " + r.error().message);
  if (pool.nice_value != 0 && ::setpriority(PRIO_PROCESS, 0, pool.nice_value) != 0)
    boot.log(LogLevel::Warn, "mpm_itkd", {}, errno_message("worker: setpriority(NiceValue)"));
  ::tzset();
  // Still root: its own /tmp is a mount, made before the drop (and before the seccomp
  // filter, which refuses mount and unshare).
  if (pool.private_tmp) {
    if (auto r = enter_private_tmp(config_.owner_tmp_directory, identity.uid, identity.gid); !r) {
      boot.log(LogLevel::Emerg, "mpm_itkd", {}, "worker: OwnerPrivateTmp: " + r.error().message);
      return 1;
    }
  }

  auto signals = enter_sandbox(identity, SeccompProfile::Worker, seccomp_ ? &*seccomp_ : nullptr);
  if (!signals) {
    boot.log(LogLevel::Emerg, "mpm_itkd", {}, "worker: " + signals.error().message);
    return 1;
  }
  signal_fd_ = std::move(*signals);
  if (auto r = setup_logs(); !r) {
    boot.log(LogLevel::Emerg, "mpm_itkd", {}, "worker: " + r.error().message);
    return 1;
  }
  // Everything below runs as the owner: kernel permissions decide what it may read (a
  // forked worker's MIME types were read by the zygote: TypesConfig is the admin's file).
  auto mime = preloaded_mime_ ? Result<MimeTypes>(std::move(*preloaded_mime_)) : MimeTypes::load(config_.types_config);
  preloaded_mime_.reset();
  if (mime) {
    mime_ = std::move(*mime);
  } else {
    log_.log(LogLevel::Warn, "mpm_itkd", {}, "worker: " + mime.error().message + " (serving without MIME types)");
  }

  has_dynamic_.resize(config_.vhosts.size());
  std::vector<const VirtualHost*> own_vhosts;
  for (size_t v : config_.pools[options_.pool].vhosts) {
    has_dynamic_[v] = vhost_has_dynamic_handlers(config_.vhosts[v]);
    own_vhosts.push_back(&config_.vhosts[v]);
  }
  htaccess_.allow_backends_of(own_vhosts);
  fcgid_ = std::make_unique<FcgidProcessManager>(loop_, pool_worker_limit(config_));
  load_tls();
  ::explicit_bzero(ticket_keys_.data(), ticket_keys_.size());  // the contexts hold their copies
  // Last, so that the keys (which may live anywhere the owner can read) are loaded; from
  // here on this process and every script it starts see only the owner's paths.
  if (auto c = confine_owner(config_, pool, identity.uid); !c) {
    log_.log(LogLevel::Emerg, "mpm_itkd", {}, "worker: " + c.error().message);
    return 1;
  } else if (c->abi > 0) {
    log_.log(LogLevel::Debug, "mpm_itkd", {},
             "worker: confined to " + std::to_string(c->granted) + " paths (Landlock ABI " + std::to_string(c->abi) +
                 ")" + (c->missing.empty() ? "" : "; left out: " + c->missing));
  }

  // One channel per front, made by us as the owner, so each front can check with
  // SO_PEERCRED that its peer really is this pool's worker.
  fronts_.resize(options_.fronts);
  auto page = FinishedCounterPage::create(options_.fronts);
  if (!page) {
    log_.log(LogLevel::Emerg, "mpm_itkd", {}, "worker: " + page.error().message);
    return 1;
  }
  finished_counts_ = std::move(*page);
  for (unsigned i = 0; i < options_.fronts; ++i) {
    if (auto r = offer_channel(i); !r) {
      log_.log(LogLevel::Emerg, "mpm_itkd", {}, "worker: " + r.error().message);
      return 1;
    }
  }
  ::fcntl(kControlFd, F_SETFL, O_NONBLOCK);
  if (!enable_credentials(kControlFd) || !loop_.add(kControlFd, EPOLLIN, [this](uint32_t) { on_control(); })) return 1;
  if (!loop_.add(signal_fd_.get(), EPOLLIN, [this](uint32_t) { on_signal(); })) return 1;
  last_active_ms_ = loop_.now_ms();
  loop_.add_timer(1000, [this] { check_idle(); });
  loop_.set_batch_end([this] { end_of_turn(); });
  auto result = loop_.run();
  return result ? 0 : 1;
}

}  // namespace

int run_worker(const WorkerOptions& options) {
  // Only this owner's vhosts in full: another owner's vhost costs this worker only what
  // routing needs, in start time and in memory.
  auto config = load_config_from_snapshot(kSnapshotFd, ParseOptions::Identity{options.uid, options.gid});
  if (!config) {
    ErrorLog(kErrorLogFd, LogLevel::Error).log(LogLevel::Emerg, "mpm_itkd", {}, "worker: " + config.error().message);
    return 1;
  }
  WorkerPreload preload;
  preload.config = std::make_unique<const WorkerConfig>(std::move(*config));
  Worker worker(std::move(preload), options);
  return worker.run();
}

int run_worker(WorkerPreload preload, const WorkerOptions& options) {
  Worker worker(std::move(preload), options);
  return worker.run();
}

}  // namespace itkd
