#include "worker/zygote.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "ipc/channel.h"
#include "ipc/messages.h"
#include "ipc/process_layout.h"
#include "log/error_log.h"
#include "worker/worker.h"

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25  // Linux 6.1; glibc 2.36's headers don't have it yet
#endif

namespace itkd {

namespace {

// The process's argument area (what /proc/PID/cmdline and ps show), measured once at
// start: a rewrite changes the strings the argv pointers point at.
struct ArgumentArea {
  char* begin = nullptr;
  size_t size = 0;
};

ArgumentArea argument_area(const ZygoteOptions& options) {
  if (options.argc < 1 || options.argv == nullptr) return {};
  char* last = options.argv[options.argc - 1];
  return {options.argv[0], static_cast<size_t>(last + std::strlen(last) + 1 - options.argv[0])};
}

// Rewrites the argument area in place, as nginx and PostgreSQL do; a title longer than
// the area is not written.
void set_command_line(const ArgumentArea& area, const std::vector<std::string>& args) {
  std::string joined;
  for (const auto& a : args) {
    joined += a;
    joined.push_back('\0');
  }
  if (area.begin == nullptr || joined.size() > area.size) return;
  std::memcpy(area.begin, joined.data(), joined.size());
  std::memset(area.begin + joined.size(), 0, area.size - joined.size());
}

// In the new worker: the exec'd worker's fd layout (kControlFd = its own channel to the
// master, kFirstExtraFd... = its pool's logs in pool_log_paths() order) and nothing else;
// every other pool's log file is closed before any tenant code can run.
bool arrange_worker_fds(int channel_fd, const std::vector<int>& own_logs, int above) {
  std::vector<int> moved;
  moved.reserve(own_logs.size() + 1);
  moved.push_back(::fcntl(channel_fd, F_DUPFD_CLOEXEC, above));
  for (int fd : own_logs) moved.push_back(::fcntl(fd, F_DUPFD_CLOEXEC, above));
  if (std::any_of(moved.begin(), moved.end(), [](int fd) { return fd < 0; })) return false;
  if (::dup2(moved[0], kControlFd) != kControlFd) return false;
  for (size_t i = 0; i < own_logs.size(); ++i) {
    const int target = kFirstExtraFd + static_cast<int>(i);
    if (::dup2(moved[i + 1], target) != target) return false;
  }
  const auto first_free = static_cast<unsigned>(kFirstExtraFd + static_cast<int>(own_logs.size()));
  if (::syscall(SYS_close_range, first_free, ~0U, 0U) != 0) return false;
  // As in an exec'd child: nothing this worker ever execs (CGI, php-cgi) inherits them.
  return ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0;
}

// Each fork copies the page tables of the zygote's anonymous memory: 1.5-2 ms per fork
// with a 10 000-vhost configuration (37 MiB) in 4 KiB pages, 0.45-0.6 ms once collapsed
// into 2 MiB pages (one entry per 2 MiB). MADV_COLLAPSE (Linux 6.1) works whatever the
// THP setting and doesn't mark the range, so the workers' own later memory stays in small
// pages; a worker's first write to a shared huge page copies only the 4 KiB it writes.
void collapse_anonymous_memory() {
  FILE* maps = std::fopen("/proc/self/maps", "re");
  if (maps == nullptr) return;
  char line[512];
  while (std::fgets(line, sizeof line, maps) != nullptr) {
    unsigned long start = 0, end = 0, inode = 1;
    char perms[8] = {};
    if (std::sscanf(line, "%lx-%lx %7s %*s %*s %lu", &start, &end, perms, &inode) != 4) continue;
    if (inode != 0 || perms[1] != 'w' || perms[3] != 'p') continue;  // private anonymous, writable
    constexpr unsigned long kHuge = 2UL << 20;
    const unsigned long first = (start + kHuge - 1) & ~(kHuge - 1);
    const unsigned long last = end & ~(kHuge - 1);
    if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_COLLAPSE);  // best effort
  }
  std::fclose(maps);
}

[[noreturn]] void become_worker(WorkerPreload& preload, const ipc::ForkRequest& request,
                                int channel_fd, const std::vector<std::string>& all_logs, const ZygoteOptions& options,
                                const ArgumentArea& title) {
  ErrorLog log(kErrorLogFd, LogLevel::Debug);
  std::vector<int> own_logs;
  for (const auto& path : pool_log_paths(preload.config->config, request.pool)) {
    auto it = std::lower_bound(all_logs.begin(), all_logs.end(), path);
    if (it == all_logs.end() || *it != path) {
      log.log(LogLevel::Emerg, "mpm_itkd", {}, "zygote: no log fd for " + path);
      std::_Exit(1);
    }
    own_logs.push_back(kFirstExtraFd + static_cast<int>(it - all_logs.begin()));
  }
  const int above = std::max(channel_fd, kFirstExtraFd + static_cast<int>(all_logs.size())) + 1;
  if (!arrange_worker_fds(channel_fd, own_logs, above)) {
    log.log(LogLevel::Emerg, "mpm_itkd", {}, errno_message("zygote: arranging the new worker's fds"));
    std::_Exit(1);
  }
  WorkerOptions worker;
  worker.pool = request.pool;
  worker.worker_id = request.worker_id;
  worker.uid = request.uid;
  worker.gid = request.gid;
  worker.fronts = options.fronts;
  set_command_line(title, worker_command_line(worker.pool, worker.worker_id, worker.uid, worker.gid, worker.fronts));
  std::exit(run_worker(std::move(preload), worker));
}

}  // namespace

int run_zygote(const ZygoteOptions& options) {
  ErrorLog log(kErrorLogFd, LogLevel::Debug);
  // The room argument only reserves space for the workers' titles; ps need not show it.
  const ArgumentArea title = argument_area(options);
  set_command_line(title, {"itkd", "--role=zygote", "--fronts=" + std::to_string(options.fronts)});
  // Inherited by every worker from the start (each sets them again in its sandbox).
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 || ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    log.log(LogLevel::Emerg, "mpm_itkd", {}, errno_message("zygote: prctl"));
    return 1;
  }
  // In full: any pool's worker may be forked from it.
  auto config = load_config_from_snapshot(kSnapshotFd);
  if (!config) {
    log.log(LogLevel::Emerg, "mpm_itkd", {}, "zygote: " + config.error().message);
    return 1;
  }
  const std::vector<std::string> all_logs = all_pool_log_paths(*config);
  WorkerPreload preload;
  // A failure here is left to each worker, which tries again and logs why.
  if (auto m = MimeTypes::load(config->types_config)) preload.mime = std::move(*m);
  if (auto p = compile_seccomp(SeccompProfile::Worker)) preload.seccomp = std::move(*p);
  // The router too: built per worker, its 10 000 names were the pages a forked worker
  // wrote most (perf: page faults in the router's hash nodes).
  preload.config = std::make_unique<const WorkerConfig>(std::move(*config));
  const ServerConfig& parsed = preload.config->config;
  collapse_anonymous_memory();
  {
    std::string error;
    if (send_message(kControlFd, ipc::encode_empty(ipc::MessageType::ZygoteReady), -1, &error) != ChannelStatus::Ok)
      return 0;
  }

  for (;;) {
    pollfd p{kControlFd, POLLIN, 0};
    if (::poll(&p, 1, -1) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    ReceivedMessage msg;
    std::string error;
    ChannelStatus status = receive_message(kControlFd, msg, &error);
    if (status == ChannelStatus::WouldBlock) continue;
    if (status != ChannelStatus::Ok) return 0;  // the master is gone or retired this generation
    auto request = ipc::decode<ipc::ForkRequest>(msg.bytes);
    const bool valid = msg.uid == 0 && msg.pid == ::getppid() && msg.fd &&
                       ipc::message_type(msg.bytes) == ipc::MessageType::ForkWorker && request &&
                       request->pool < parsed.pools.size() && request->uid == parsed.pools[request->pool].uid &&
                       request->gid == parsed.pools[request->pool].gid;
    if (!valid) {
      log.log(LogLevel::Error, "mpm_itkd", {}, "zygote: unexpected message on the master's channel; exiting");
      return 1;
    }
    // The new process's parent is the master, as for an exec'd worker; this process is
    // single-threaded, so the raw clone is as safe as fork.
    const auto pid = static_cast<pid_t>(::syscall(SYS_clone, CLONE_PARENT | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
    if (pid == 0) become_worker(preload, *request, msg.fd.get(), all_logs, options, title);
    if (pid < 0) log.log(LogLevel::Error, "mpm_itkd", {}, errno_message("zygote: clone"));
    msg.fd.reset();
    ipc::ForkReply reply{request->worker_id, pid > 0 ? pid : 0};
    if (send_message(kControlFd, ipc::encode(ipc::MessageType::WorkerForked, reply), -1, &error) != ChannelStatus::Ok)
      return 0;
  }
}

}  // namespace itkd
