#include "master/master.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>

#include "common/unique_fd.h"
#include "config/config_parser.h"
#include "event/event_loop.h"
#include "ipc/channel.h"
#include "ipc/messages.h"
#include "ipc/process_layout.h"
#include "ipc/vhost_counters.h"
#include "log/error_log.h"
#include "master/child_process.h"
#include "master/listeners.h"
#include "sandbox/filesystem_confinement.h"
#include "sandbox/privileges.h"
#include "sandbox/private_tmp.h"

namespace itkd {

namespace {

constexpr const char* kVersion = "itkd/0.1.0";
constexpr uint64_t kStopGraceMs = 10000;
// A fork takes well under a millisecond; a zygote that doesn't answer in this is broken.
constexpr int kZygoteAnswerMs = 2000;
// A pool whose workers keep dying right after start is refused for this long, so a
// broken pool can't make the master fork in a loop.
constexpr uint64_t kPoolBackoffMs = 5000;

struct FrontProcess {
  pid_t pid = 0;
  UniqueFd control;
  bool ready = false;
};

struct WorkerProcess {
  pid_t pid = 0;
  uint32_t id = 0;
  UniqueFd control;
  uint64_t started_ms = 0;
};

struct PoolState {
  std::vector<WorkerProcess> workers;
  // Drawn when the pool's first worker starts; every later worker of this generation's
  // pool gets the same keys (see ipc::PoolSecrets).
  std::optional<ipc::PoolSecrets> secrets;
  uint64_t refused_until_ms = 0;
  unsigned quick_deaths = 0;
};

// See worker/zygote.h. One per generation; without one (it died, or is still parsing),
// workers are exec'd as before.
struct ZygoteProcess {
  pid_t pid = 0;
  UniqueFd control;
  bool ready = false;  // it said ZygoteReady: its parse is done
  uint64_t refused_until_ms = 0;
};

// Everything that belongs to one loaded configuration. A reload starts a new generation
// and lets the old one drain.
struct Generation {
  unsigned number = 0;
  ServerConfig config;
  ConfigSnapshot snapshot;
  UniqueFd snapshot_fd;
  std::vector<BoundListener> listeners;
  UniqueFd error_log_fd;
  std::map<std::string, UniqueFd> log_files;
  Identity front_identity;
  std::vector<FrontProcess> fronts;
  UniqueFd counters_fd;
  VhostCounters counters;
  std::vector<PoolState> pools;
  ZygoteProcess zygote;
  bool retiring = false;
  bool workers_draining = false;  // told to finish and leave (after the fronts left)
  bool announced = false;
};

Result<UniqueFd> open_log(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
  if (fd < 0) return Error{errno_message("could not open log file " + path)};
  return UniqueFd(fd);
}

Result<ServerConfig> load_config(const MasterOptions& options, ConfigSnapshot* snapshot_out) {
  DiskSource source;
  ParseOptions parse_options;
  parse_options.defines = options.defines;
  auto config = parse_config(source, options.config_file, parse_options);
  if (!config) return config.error();
  if (snapshot_out) {
    *snapshot_out = source.recorded();
    snapshot_out->defines = options.defines;
    // Children parse the same main file name so their messages match ours.
    if (snapshot_out->main_file.empty()) snapshot_out->main_file = options.config_file;
  }
  return config;
}

unsigned cores() {
  long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<unsigned>(n) : 1;
}

class Master {
 public:
  explicit Master(MasterOptions options) : options_(std::move(options)) {}
  int run();

 private:
  Result<std::unique_ptr<Generation>> prepare_generation(ServerConfig config, ConfigSnapshot snapshot,
                                                         Generation* previous);
  Result<void> start_fronts(Generation& gen);
  Result<void> start_front(Generation& gen, size_t index);
  void start_worker(Generation& gen, size_t pool);
  Result<SocketPair> worker_channel(PoolState& state, size_t pool_index);
  void start_zygote(Generation& gen);
  void on_zygote_message(Generation* gen);
  void end_zygote(Generation& gen, int signal);
  Result<pid_t> fork_via_zygote(Generation& gen, size_t pool, uint32_t worker_id, int channel_fd);
  void on_signal();
  void on_front_message(Generation* gen, size_t index);
  void on_worker_message(Generation* gen, size_t pool, uint32_t worker_id);
  void reap_children();
  void handle_exit(pid_t pid, int status);
  void reload(const char* why);
  void retire(std::unique_ptr<Generation> gen);
  void drain_workers_once_fronts_are_gone(Generation& gen);
  void begin_stop();
  void maybe_finish();
  void broadcast_worker_gone(Generation& gen, size_t pool, uint32_t worker_id);
  Generation* generation_of_front(pid_t pid, size_t* index);
  bool any_children() const;
  const ErrorLog& log() const { return log_; }
  void set_log(const Generation& gen) {
    log_ = ErrorLog(gen.error_log_fd.get(), parse_log_level(gen.config.log_level));
  }

  MasterOptions options_;
  EventLoop loop_;
  UniqueFd signal_fd_;
  std::unique_ptr<Generation> current_;
  std::vector<std::unique_ptr<Generation>> old_;
  ErrorLog log_{STDERR_FILENO, LogLevel::Warn};
  uint32_t next_worker_id_ = 1;
  unsigned next_generation_ = 1;
  bool stopping_ = false;
};

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    std::string s = "signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
    if (WCOREDUMP(status)) s += ", core dumped";
    return s;
  }
  return "status " + std::to_string(status);
}

Result<std::unique_ptr<Generation>> Master::prepare_generation(ServerConfig config, ConfigSnapshot snapshot,
                                                               Generation* previous) {
  auto gen = std::make_unique<Generation>();
  gen->number = next_generation_;
  auto front_id = resolve_identity(config.front_user, config.front_group);
  if (!front_id) return Error{"FrontUser/FrontGroup: " + front_id.error().message};
  gen->front_identity = *front_id;

  if (!config.error_log.empty()) {
    auto fd = open_log(config.error_log);
    if (!fd) return fd.error();
    gen->error_log_fd = std::move(*fd);
  } else {
    gen->error_log_fd = UniqueFd(::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 0));
  }
  for (size_t p = 0; p < config.pools.size(); ++p) {
    for (const auto& path : pool_log_paths(config, p)) {
      if (gen->log_files.count(path)) continue;
      auto fd = open_log(path);
      if (!fd) return fd.error();
      gen->log_files.emplace(path, std::move(*fd));
    }
  }
  // The front's chroot: an empty directory only root can change.
  const std::string& chroot_dir = config.front_chroot;
  if (::mkdir(chroot_dir.c_str(), 0755) != 0 && errno != EEXIST)
    return Error{errno_message("could not create FrontChroot " + chroot_dir)};
  struct stat st {};
  if (::stat(chroot_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return Error{"FrontChroot " + chroot_dir + " is not a directory"};
  if (st.st_uid != 0 || (st.st_mode & 022) != 0)
    return Error{"FrontChroot " + chroot_dir + " must be owned by root and not writable by others"};

  if (std::any_of(config.pools.begin(), config.pools.end(), [](const Pool& p) { return p.private_tmp; })) {
    if (auto r = prepare_private_tmp_base(config.owner_tmp_directory); !r) return r.error();
  }

  auto listeners = bind_listeners(config, previous ? &previous->listeners : nullptr);
  if (!listeners) return listeners.error();
  gen->listeners = std::move(*listeners);

  auto memfd = snapshot_to_memfd(snapshot);
  if (!memfd) return memfd.error();
  gen->snapshot_fd = UniqueFd(*memfd);
  gen->pools.resize(config.pools.size());
  gen->fronts.resize(config.front_processes ? config.front_processes : cores());
  auto counters_fd = VhostCounters::create_memfd(gen->fronts.size(), config.vhosts.size());
  if (!counters_fd) return counters_fd.error();
  auto counters = VhostCounters::map(counters_fd->get(), gen->fronts.size(), config.vhosts.size());
  if (!counters) return counters.error();
  gen->counters_fd = std::move(*counters_fd);
  gen->counters = std::move(*counters);
  gen->config = std::move(config);
  gen->snapshot = std::move(snapshot);
  next_generation_++;
  return gen;
}

Result<void> Master::start_front(Generation& gen, size_t index) {
  auto channel = make_channel(true);
  if (!channel) return channel.error();
  std::vector<int> fds{gen.snapshot_fd.get(), channel->second.get(), gen.error_log_fd.get()};
  for (const auto& l : gen.listeners) fds.push_back(l.fd.get());
  fds.push_back(gen.counters_fd.get());
  std::vector<std::string> argv{"itkd", "--role=front", "--front-index=" + std::to_string(index),
                                "--listeners=" + std::to_string(gen.listeners.size()),
                                "--fronts=" + std::to_string(gen.fronts.size())};
  auto pid = spawn_child(argv, fds);
  if (!pid) return pid.error();
  FrontProcess& front = gen.fronts[index];
  front.pid = *pid;
  front.control = std::move(channel->first);
  front.ready = false;
  Generation* g = &gen;
  auto added = loop_.add(front.control.get(), EPOLLIN, [this, g, index](uint32_t) { on_front_message(g, index); });
  if (!added) return added.error();
  return ok();
}

Result<void> Master::start_fronts(Generation& gen) {
  for (size_t i = 0; i < gen.fronts.size(); ++i) {
    if (auto r = start_front(gen, i); !r) return r;
  }
  return ok();
}

// A new worker's control channel, with the pool's secrets already queued in it.
Result<SocketPair> Master::worker_channel(PoolState& state, size_t pool_index) {
  auto channel = make_channel(true);
  if (!channel) return channel.error();
  if (!state.secrets) {
    ipc::PoolSecrets secrets{};
    if (::getrandom(secrets.ticket_keys, sizeof secrets.ticket_keys, 0) != static_cast<ssize_t>(sizeof secrets.ticket_keys))
      return Error{errno_message("getrandom for pool " + std::to_string(pool_index))};
    state.secrets = secrets;
  }
  // Queued before the worker exists, so it is the first thing the worker reads.
  std::string error;
  if (send_message(channel->first.get(), ipc::encode(ipc::MessageType::PoolSecrets, *state.secrets), -1, &error) !=
      ChannelStatus::Ok)
    return Error{"could not queue pool secrets: " + error};
  return channel;
}

void Master::start_zygote(Generation& gen) {
  auto channel = make_channel(true);
  if (!channel) {
    log().log(LogLevel::Error, "mpm_itkd", {}, "zygote: " + channel.error().message);
    return;
  }
  std::vector<int> fds{gen.snapshot_fd.get(), channel->second.get(), gen.error_log_fd.get()};
  // Every pool's logs, in all_pool_log_paths() order (the map is sorted the same way).
  for (const auto& [path, fd] : gen.log_files) fds.push_back(fd.get());
  // The room is overwritten by each forked worker's own command line.
  std::vector<std::string> argv{"itkd", "--role=zygote", "--fronts=" + std::to_string(gen.fronts.size()),
                                "--room=" + std::string(120, '.')};
  auto pid = spawn_child(argv, fds);
  if (!pid) {
    log().log(LogLevel::Error, "mpm_itkd", {}, "could not start the zygote: " + pid.error().message);
    gen.zygote.refused_until_ms = loop_.now_ms() + 5000;
    return;
  }
  gen.zygote.pid = *pid;
  gen.zygote.control = std::move(channel->first);
  gen.zygote.ready = false;
  Generation* g = &gen;
  if (auto r = loop_.add(gen.zygote.control.get(), EPOLLIN, [this, g](uint32_t) { on_zygote_message(g); }); !r)
    log().log(LogLevel::Error, "mpm_itkd", {}, "zygote: " + r.error().message);
}

void Master::on_zygote_message(Generation* gen) {
  ZygoteProcess& z = gen->zygote;
  for (;;) {
    ReceivedMessage msg;
    std::string error;
    ChannelStatus status = receive_message(z.control.get(), msg, &error);
    if (status == ChannelStatus::WouldBlock) return;
    if (status != ChannelStatus::Ok) {
      loop_.remove(z.control.get());
      z.control.reset();
      z.ready = false;
      return;  // SIGCHLD tells why
    }
    if (msg.pid == z.pid && msg.uid == 0 && !msg.fd && ipc::message_type(msg.bytes) == ipc::MessageType::ZygoteReady &&
        ipc::is_empty_message(msg.bytes)) {
      z.ready = true;
    } else {
      // A fork answer that came after fork_via_zygote gave up, or worse: don't trust it.
      log().log(LogLevel::Error, "mpm_itkd", {}, "unexpected message from the zygote pid " + std::to_string(z.pid) + "; ending it");
      end_zygote(*gen, SIGKILL);
      return;
    }
  }
}

void Master::end_zygote(Generation& gen, int signal) {
  ZygoteProcess& z = gen.zygote;
  if (z.control) {
    loop_.remove(z.control.get());
    z.control.reset();
  }
  z.ready = false;
  if (z.pid && signal) ::kill(z.pid, signal);
}

// Asks the zygote for a worker and waits for its answer (a fork: well under a millisecond
// of the master's time). Any failure ends the zygote; the caller execs the worker instead.
Result<pid_t> Master::fork_via_zygote(Generation& gen, size_t pool_index, uint32_t worker_id, int channel_fd) {
  ZygoteProcess& z = gen.zygote;
  const Pool& pool = gen.config.pools[pool_index];
  ipc::ForkRequest request{static_cast<uint32_t>(pool_index), worker_id, pool.uid, pool.gid};
  std::string error;
  auto fail = [&](std::string why) -> Result<pid_t> {
    end_zygote(gen, SIGKILL);
    return Error{"zygote pid " + std::to_string(z.pid) + ": " + why};
  };
  if (send_message(z.control.get(), ipc::encode(ipc::MessageType::ForkWorker, request), channel_fd, &error) !=
      ChannelStatus::Ok)
    return fail(error);
  pollfd p{z.control.get(), POLLIN, 0};
  int n;
  while ((n = ::poll(&p, 1, kZygoteAnswerMs)) < 0 && errno == EINTR) {
  }
  if (n <= 0) return fail("no answer to a fork request");
  ReceivedMessage msg;
  if (receive_message(z.control.get(), msg, &error) != ChannelStatus::Ok) return fail("no answer: " + error);
  auto reply = ipc::decode<ipc::ForkReply>(msg.bytes);
  if (msg.pid != z.pid || msg.uid != 0 || msg.fd || ipc::message_type(msg.bytes) != ipc::MessageType::WorkerForked ||
      !reply || reply->worker_id != worker_id)
    return fail("malformed answer to a fork request");
  if (reply->pid <= 0) return fail("could not fork");
  return static_cast<pid_t>(reply->pid);
}

void Master::start_worker(Generation& gen, size_t pool_index) {
  const Pool& pool = gen.config.pools[pool_index];
  PoolState& state = gen.pools[pool_index];
  unsigned max = pool_worker_limit(gen.config);
  if (state.workers.size() >= max) return;
  if (state.refused_until_ms > loop_.now_ms()) return;
  if (!gen.zygote.pid && !gen.retiring && !stopping_ && gen.zygote.refused_until_ms <= loop_.now_ms()) start_zygote(gen);
  uint32_t id = next_worker_id_++;
  Result<pid_t> pid = Error{"no zygote"};
  UniqueFd control;
  if (gen.zygote.ready) {
    auto channel = worker_channel(state, pool_index);
    if (channel) {
      pid = fork_via_zygote(gen, pool_index, id, channel->second.get());
      if (pid) control = std::move(channel->first);
      else log().log(LogLevel::Error, "mpm_itkd", {}, pid.error().message + "; starting the worker by exec");
    }
  }
  if (!pid) {
    auto channel = worker_channel(state, pool_index);
    if (!channel) {
      log().log(LogLevel::Error, "mpm_itkd", {}, channel.error().message);
      return;
    }
    std::vector<int> fds{gen.snapshot_fd.get(), channel->second.get(), gen.error_log_fd.get()};
    for (const auto& path : pool_log_paths(gen.config, pool_index)) fds.push_back(gen.log_files.at(path).get());
    pid = spawn_child(worker_command_line(static_cast<unsigned>(pool_index), id, pool.uid, pool.gid,
                                          static_cast<unsigned>(gen.fronts.size())),
                      fds);
    if (!pid) {
      log().log(LogLevel::Error, "mpm_itkd", {}, "could not start a worker for pool " + std::to_string(pool_index) + ": " + pid.error().message);
      return;
    }
    control = std::move(channel->first);
  }
  WorkerProcess worker;
  worker.pid = *pid;
  worker.id = id;
  worker.control = std::move(control);
  worker.started_ms = loop_.now_ms();
  Generation* g = &gen;
  int control_fd = worker.control.get();
  state.workers.push_back(std::move(worker));
  auto added = loop_.add(control_fd, EPOLLIN, [this, g, pool_index, id](uint32_t) { on_worker_message(g, pool_index, id); });
  if (!added) log().log(LogLevel::Error, "mpm_itkd", {}, added.error().message);
  log().log(LogLevel::Info, "mpm_itkd", {},
            "started worker pid " + std::to_string(*pid) + " for pool " + std::to_string(pool_index) + " (uid " +
                std::to_string(pool.uid) + ", gid " + std::to_string(pool.gid) + ")");
}

void Master::on_front_message(Generation* gen, size_t index) {
  FrontProcess& front = gen->fronts[index];
  for (;;) {
    ReceivedMessage msg;
    std::string error;
    ChannelStatus status = receive_message(front.control.get(), msg, &error);
    if (status == ChannelStatus::WouldBlock) return;
    if (status != ChannelStatus::Ok) {
      // The front died or broke the protocol; SIGCHLD does the rest.
      if (status == ChannelStatus::Failed)
        log().log(LogLevel::Error, "mpm_itkd", {}, "front pid " + std::to_string(front.pid) + ": " + error);
      loop_.remove(front.control.get());
      front.control.reset();
      return;
    }
    // Only that front, with the front identity, may speak on this channel.
    if (msg.pid != front.pid || msg.uid != gen->front_identity.uid || msg.fd) {
      log().log(LogLevel::Error, "mpm_itkd", {},
                "message on front channel from unexpected sender pid " + std::to_string(msg.pid) + " uid " +
                    std::to_string(msg.uid) + "; killing front " + std::to_string(front.pid));
      ::kill(front.pid, SIGKILL);
      return;
    }
    auto type = ipc::message_type(msg.bytes);
    if (type == ipc::MessageType::FrontReady && ipc::is_empty_message(msg.bytes)) {
      front.ready = true;
      bool all = true;
      for (const auto& f : gen->fronts) all = all && f.ready;
      if (all && !gen->announced && gen == current_.get()) {
        gen->announced = true;
        log().always("mpm_itkd", std::string(kVersion) + " configured -- resuming normal operations");
        const auto& pools = gen->config.pools;
        if (landlock_abi() == 0 && std::any_of(pools.begin(), pools.end(), [](const Pool& p) { return p.confined; }))
          log().log(LogLevel::Warn, "mpm_itkd", {},
                    "OwnerConfinement: this kernel has no Landlock (Linux 5.13+, lsm= must list landlock); "
                    "owners are kept apart by file permissions only");
      }
    } else if (type == ipc::MessageType::StartPool) {
      auto request = ipc::decode<ipc::PoolRequest>(msg.bytes);
      // The front names a pool by number; the identity comes from the admin's config only.
      if (!request || request->pool >= gen->config.pools.size()) {
        log().log(LogLevel::Error, "mpm_itkd", {}, "front pid " + std::to_string(front.pid) + " asked for an invalid pool; killing it");
        ::kill(front.pid, SIGKILL);
        return;
      }
      // A retiring generation's front may still hold clients (accepted before the
      // reload) for a pool whose workers left while idle: they get one, exec'd.
      if (!stopping_) start_worker(*gen, request->pool);
    } else {
      log().log(LogLevel::Error, "mpm_itkd", {}, "front pid " + std::to_string(front.pid) + " sent a message not allowed from a front; killing it");
      ::kill(front.pid, SIGKILL);
      return;
    }
  }
}

void Master::on_worker_message(Generation* gen, size_t pool_index, uint32_t worker_id) {
  PoolState& state = gen->pools[pool_index];
  WorkerProcess* worker = nullptr;
  for (auto& w : state.workers)
    if (w.id == worker_id) worker = &w;
  if (!worker) return;
  const Pool& pool = gen->config.pools[pool_index];
  for (;;) {
    ReceivedMessage msg;
    std::string error;
    ChannelStatus status = receive_message(worker->control.get(), msg, &error);
    if (status == ChannelStatus::WouldBlock) return;
    if (status != ChannelStatus::Ok) {
      if (status == ChannelStatus::Failed)
        log().log(LogLevel::Error, "mpm_itkd", {}, "worker pid " + std::to_string(worker->pid) + ": " + error);
      loop_.remove(worker->control.get());
      worker->control.reset();
      return;
    }
    auto offer = ipc::decode<ipc::ChannelOffer>(msg.bytes);
    bool valid = msg.pid == worker->pid && msg.uid == pool.uid &&
                 ipc::message_type(msg.bytes) == ipc::MessageType::WorkerChannel && offer && msg.fd &&
                 offer->front_index < gen->fronts.size();
    if (!valid) {
      log().log(LogLevel::Error, "mpm_itkd", {},
                "unexpected message from worker pid " + std::to_string(worker->pid) + " (pool " +
                    std::to_string(pool_index) + "); killing it");
      ::kill(worker->pid, SIGKILL);
      return;
    }
    // Forward the worker's end to the front, stamped with what the master knows to be true.
    ipc::ChannelOffer forwarded{static_cast<uint32_t>(pool_index), worker_id, offer->front_index, worker->pid, pool.uid};
    FrontProcess& front = gen->fronts[offer->front_index];
    if (front.control) {
      std::string send_error;
      auto st = send_message(front.control.get(), ipc::encode(ipc::MessageType::WorkerChannel, forwarded), msg.fd.get(), &send_error);
      if (st != ChannelStatus::Ok)
        log().log(LogLevel::Warn, "mpm_itkd", {}, "could not pass worker channel to front pid " + std::to_string(front.pid) + ": " + send_error);
    }
  }
}

void Master::broadcast_worker_gone(Generation& gen, size_t pool, uint32_t worker_id) {
  ipc::WorkerRef ref{static_cast<uint32_t>(pool), worker_id};
  std::string bytes = ipc::encode(ipc::MessageType::WorkerGone, ref);
  for (auto& f : gen.fronts) {
    if (!f.control) continue;
    std::string error;
    send_message(f.control.get(), bytes, -1, &error);
  }
}

Generation* Master::generation_of_front(pid_t pid, size_t* index) {
  auto look = [&](Generation* g) -> bool {
    for (size_t i = 0; i < g->fronts.size(); ++i)
      if (g->fronts[i].pid == pid) {
        *index = i;
        return true;
      }
    return false;
  };
  if (current_ && look(current_.get())) return current_.get();
  for (auto& g : old_)
    if (look(g.get())) return g.get();
  return nullptr;
}

void Master::handle_exit(pid_t pid, int status) {
  size_t index = 0;
  if (Generation* gen = generation_of_front(pid, &index)) {
    FrontProcess& front = gen->fronts[index];
    if (front.control) {
      loop_.remove(front.control.get());
      front.control.reset();
    }
    front.pid = 0;
    bool expected = stopping_ || gen->retiring;
    if (!expected) {
      log().log(LogLevel::Error, "mpm_itkd", {}, "front pid " + std::to_string(pid) + " died (" + describe_exit(status) + "); starting a new one");
      // Its connections are gone with it; take them out of the MaxClientsVHost counts.
      gen->counters.reset_front(index);
      // Replace it after a short pause so a front that dies at once can't spin us.
      Generation* g = gen;
      loop_.add_timer(200, [this, g, index] {
        if (stopping_ || g->retiring) return;
        if (auto r = start_front(*g, index); !r) {
          log().log(LogLevel::Error, "mpm_itkd", {}, r.error().message);
          return;
        }
        // Running workers offer the new front a channel, as they did to the old one.
        std::string bytes = ipc::encode(ipc::MessageType::NewFront, ipc::FrontRef{static_cast<uint32_t>(index)});
        for (auto& pool : g->pools)
          for (auto& w : pool.workers) {
            std::string error;
            if (w.control) send_message(w.control.get(), bytes, -1, &error);
          }
      });
    } else {
      drain_workers_once_fronts_are_gone(*gen);
    }
    maybe_finish();
    return;
  }
  auto zygote_exited = [&](Generation& gen) -> bool {
    if (gen.zygote.pid != pid) return false;
    end_zygote(gen, 0);
    gen.zygote.pid = 0;
    if (!stopping_ && !gen.retiring) {
      // Workers are exec'd meanwhile; a new zygote starts with the next worker, not in a loop.
      gen.zygote.refused_until_ms = loop_.now_ms() + kPoolBackoffMs;
      log().log(LogLevel::Error, "mpm_itkd", {},
                "zygote pid " + std::to_string(pid) + " died (" + describe_exit(status) + "); workers are exec'd until a new one is up");
    }
    return true;
  };
  if ((current_ && zygote_exited(*current_)) || std::any_of(old_.begin(), old_.end(), [&](auto& g) { return zygote_exited(*g); })) {
    maybe_finish();
    return;
  }
  auto check = [&](Generation& gen) -> bool {
    for (size_t p = 0; p < gen.pools.size(); ++p) {
      auto& workers = gen.pools[p].workers;
      for (size_t i = 0; i < workers.size(); ++i) {
        if (workers[i].pid != pid) continue;
        uint32_t id = workers[i].id;
        bool quick = loop_.now_ms() - workers[i].started_ms < 1000;
        if (workers[i].control) loop_.remove(workers[i].control.get());
        workers.erase(workers.begin() + static_cast<long>(i));
        bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        const Pool& pool = gen.config.pools[p];
        std::string what = "worker pid " + std::to_string(pid) + " of pool " + std::to_string(p) + " (uid " +
                           std::to_string(pool.uid) + ")";
        if (clean) {
          log().log(LogLevel::Info, "mpm_itkd", {}, what + (stopping_ || gen.retiring ? " exited" : " exited after being idle"));
          gen.pools[p].quick_deaths = 0;
        } else {
          log().log(LogLevel::Error, "mpm_itkd", {}, what + " died (" + describe_exit(status) + "); the pool restarts on the next request");
          if (quick && ++gen.pools[p].quick_deaths >= 3) {
            gen.pools[p].refused_until_ms = loop_.now_ms() + kPoolBackoffMs;
            gen.pools[p].quick_deaths = 0;
            log().log(LogLevel::Error, "mpm_itkd", {}, "pool " + std::to_string(p) + " keeps dying at start; not starting it for 5 seconds");
          }
        }
        broadcast_worker_gone(gen, p, id);
        // Tell the fronts the pool failed to start, so waiting clients get a 503 now.
        if (!clean && quick && gen.pools[p].workers.empty()) broadcast_worker_gone(gen, p, UINT32_MAX);
        return true;
      }
    }
    return false;
  };
  bool found = current_ && check(*current_);
  for (auto& g : old_) found = found || check(*g);
  maybe_finish();
}

void Master::reap_children() {
  for (;;) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    handle_exit(pid, status);
  }
}

bool Master::any_children() const {
  auto has = [](const Generation& g) {
    if (g.zygote.pid) return true;
    for (const auto& f : g.fronts)
      if (f.pid) return true;
    for (const auto& p : g.pools)
      if (!p.workers.empty()) return true;
    return false;
  };
  if (current_ && has(*current_)) return true;
  for (const auto& g : old_)
    if (has(*g)) return true;
  return false;
}

void Master::maybe_finish() {
  // Drop drained old generations (their listeners stay open in the current one).
  for (size_t i = 0; i < old_.size();) {
    bool alive = old_[i]->zygote.pid != 0;
    for (const auto& f : old_[i]->fronts) alive = alive || f.pid;
    for (const auto& p : old_[i]->pools) alive = alive || !p.workers.empty();
    if (!alive) {
      old_.erase(old_.begin() + static_cast<long>(i));
    } else {
      ++i;
    }
  }
  if (stopping_ && !any_children()) loop_.stop();
}

void Master::retire(std::unique_ptr<Generation> gen) {
  gen->retiring = true;
  end_zygote(*gen, SIGTERM);
  // Old fronts stop accepting, hand what they already accepted to their workers and
  // leave; the workers are told to drain only then. Draining workers ask their fronts to
  // stop sending, so a front still holding a client whose request arrived late would
  // find no worker left for it (and this generation starts none): that client would hang.
  for (auto& f : gen->fronts)
    if (f.pid) ::kill(f.pid, SIGTERM);
  gen->listeners.clear();
  drain_workers_once_fronts_are_gone(*gen);
  old_.push_back(std::move(gen));
}

void Master::drain_workers_once_fronts_are_gone(Generation& gen) {
  if (!gen.retiring || gen.workers_draining) return;
  for (const auto& f : gen.fronts)
    if (f.pid) return;
  gen.workers_draining = true;
  // SIGQUIT: graceful, so even idle keep-alive clients get their next request answered.
  for (auto& p : gen.pools)
    for (auto& w : p.workers) ::kill(w.pid, SIGQUIT);
}

void Master::reload(const char* why) {
  ConfigSnapshot snapshot;
  auto config = load_config(options_, &snapshot);
  if (!config) {
    log().log(LogLevel::Error, "mpm_itkd", {},
              std::string(why) + ": the new configuration has errors; keeping the running one:\n" + config.error().message);
    return;
  }
  auto gen = prepare_generation(std::move(*config), std::move(snapshot), current_.get());
  if (!gen) {
    log().log(LogLevel::Error, "mpm_itkd", {}, std::string(why) + " failed; keeping the running configuration: " + gen.error().message);
    return;
  }
  std::unique_ptr<Generation> next = std::move(*gen);
  if (auto r = start_fronts(*next); !r) {
    log().log(LogLevel::Error, "mpm_itkd", {}, std::string(why) + " failed to start fronts: " + r.error().message);
    for (auto& f : next->fronts)
      if (f.pid) ::kill(f.pid, SIGKILL);
    old_.push_back(std::move(next));
    old_.back()->retiring = true;
    return;
  }
  start_zygote(*next);
  std::unique_ptr<Generation> previous = std::move(current_);
  current_ = std::move(next);
  set_log(*current_);
  log().always("mpm_itkd", std::string(why) + ": configuration reloaded (generation " + std::to_string(current_->number) + ")");
  if (previous) retire(std::move(previous));
}

void Master::begin_stop() {
  if (stopping_) return;
  stopping_ = true;
  log().always("mpm_itkd", "caught SIGTERM, shutting down");
  auto stop_gen = [this](Generation& g) {
    end_zygote(g, SIGTERM);
    g.listeners.clear();
    for (auto& f : g.fronts)
      if (f.pid) ::kill(f.pid, SIGTERM);
    for (auto& p : g.pools)
      for (auto& w : p.workers) ::kill(w.pid, SIGTERM);
  };
  if (current_) stop_gen(*current_);
  for (auto& g : old_) stop_gen(*g);
  loop_.add_timer(kStopGraceMs, [this] {
    auto kill_gen = [](Generation& g) {
      if (g.zygote.pid) ::kill(g.zygote.pid, SIGKILL);
      for (auto& f : g.fronts)
        if (f.pid) ::kill(f.pid, SIGKILL);
      for (auto& p : g.pools)
        for (auto& w : p.workers) ::kill(w.pid, SIGKILL);
    };
    if (current_) kill_gen(*current_);
    for (auto& g : old_) kill_gen(*g);
  });
  maybe_finish();
}

void Master::on_signal() {
  signalfd_siginfo info{};
  while (::read(signal_fd_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    switch (info.ssi_signo) {
      case SIGCHLD:
        reap_children();
        break;
      case SIGTERM:
      case SIGINT:
        begin_stop();
        break;
      case SIGHUP:
        if (!stopping_) reload("SIGHUP received");
        break;
      case SIGUSR1:
        // New log fds reach the children only through a new generation.
        if (!stopping_) reload("SIGUSR1 received (reopening logs)");
        break;
      default:
        break;
    }
  }
}

int Master::run() {
  if (::geteuid() != 0) {
    std::fprintf(stderr, "itkd: the master must run as root (it binds ports and starts each pool as its owner)\n");
    return 1;
  }
  remember_self_executable();
  ConfigSnapshot snapshot;
  auto config = load_config(options_, &snapshot);
  if (!config) {
    std::fprintf(stderr, "%s\n", config.error().message.c_str());
    return 1;
  }
  for (const auto& w : config->warnings) std::fprintf(stderr, "itkd: warning: %s\n", w.c_str());

  sigset_t mask;
  sigemptyset(&mask);
  for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR1}) sigaddset(&mask, s);
  ::sigprocmask(SIG_BLOCK, &mask, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  signal_fd_ = UniqueFd(::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!signal_fd_) {
    std::perror("itkd: signalfd");
    return 1;
  }

  auto gen = prepare_generation(std::move(*config), std::move(snapshot), nullptr);
  if (!gen) {
    std::fprintf(stderr, "itkd: %s\n", gen.error().message.c_str());
    return 1;
  }
  current_ = std::move(*gen);
  set_log(*current_);

  const std::string pid_file = current_->config.pid_file;
  if (!pid_file.empty()) {
    UniqueFd fd(::open(pid_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd) {
      std::fprintf(stderr, "itkd: %s\n", errno_message("could not write PidFile " + pid_file).c_str());
      return 1;
    }
    std::string text = std::to_string(::getpid()) + "\n";
    [[maybe_unused]] ssize_t n = ::write(fd.get(), text.data(), text.size());
  }

  if (auto r = loop_.add(signal_fd_.get(), EPOLLIN, [this](uint32_t) { on_signal(); }); !r) {
    std::fprintf(stderr, "itkd: %s\n", r.error().message.c_str());
    return 1;
  }
  if (auto r = start_fronts(*current_); !r) {
    std::fprintf(stderr, "itkd: %s\n", r.error().message.c_str());
    begin_stop();
  } else {
    start_zygote(*current_);
  }
  auto result = loop_.run();
  if (!pid_file.empty()) ::unlink(pid_file.c_str());
  log().always("mpm_itkd", "shutdown complete");
  return result ? 0 : 1;
}

}  // namespace

int check_config(const MasterOptions& options) {
  auto config = load_config(options, nullptr);
  if (!config) {
    std::fprintf(stderr, "%s\n", config.error().message.c_str());
    return 1;
  }
  for (const auto& w : config->warnings) std::fprintf(stderr, "itkd: warning: %s\n", w.c_str());
  std::fputs(describe_config(*config).c_str(), stdout);
  std::fputs("Syntax OK\n", stdout);
  return 0;
}

int run_master(const MasterOptions& options) {
  Master master(options);
  return master.run();
}

}  // namespace itkd
