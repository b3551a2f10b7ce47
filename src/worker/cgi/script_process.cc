#include "worker/cgi/script_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace itkd {

namespace {

// The limit to set for one RLimit* directive; `max` is Apache's "as high as allowed".
bool resolve_limit(const ResourceLimit& l, int resource, rlimit& out) {
  if (!l.set) return false;
  rlimit cur{};
  if (::getrlimit(resource, &cur) != 0) return false;
  auto value = [&](uint64_t v) -> rlim_t { return v == kRlimitMax ? cur.rlim_max : static_cast<rlim_t>(v); };
  out.rlim_max = l.hard ? value(*l.hard) : cur.rlim_max;
  // Without privileges the hard limit can only go down; keep soft <= hard.
  if (out.rlim_max > cur.rlim_max && ::geteuid() != 0) out.rlim_max = cur.rlim_max;
  out.rlim_cur = value(l.soft);
  if (out.rlim_cur > out.rlim_max) out.rlim_cur = out.rlim_max;
  return true;
}

// Between fork and exec only async-signal-safe calls: report failures as "step errno"
// through the close-on-exec pipe and exit.
[[noreturn]] void child_fail(int report_fd, int step) {
  int msg[2] = {step, errno};
  [[maybe_unused]] ssize_t n = ::write(report_fd, msg, sizeof msg);
  ::_exit(127);
}

constexpr const char* kSteps[] = {"setpgid", "dup2", "chdir", "setrlimit", "execve"};

}  // namespace

std::string describe_wait_status(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "wait status " + std::to_string(status);
}

ScriptProcess::ScriptProcess(ScriptProcess&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)),
      exit_status_(std::exchange(o.exit_status_, std::nullopt)),
      pidfd_(std::move(o.pidfd_)),
      stdin_(std::move(o.stdin_)),
      stdout_(std::move(o.stdout_)),
      stderr_(std::move(o.stderr_)) {}

ScriptProcess& ScriptProcess::operator=(ScriptProcess&& o) noexcept {
  if (this != &o) {
    ScriptProcess old(std::move(*this));  // killed and reaped when it goes out of scope
    pid_ = std::exchange(o.pid_, -1);
    exit_status_ = std::exchange(o.exit_status_, std::nullopt);
    pidfd_ = std::move(o.pidfd_);
    stdin_ = std::move(o.stdin_);
    stdout_ = std::move(o.stdout_);
    stderr_ = std::move(o.stderr_);
  }
  return *this;
}

ScriptProcess::~ScriptProcess() {
  if (pid_ > 0 && !exit_status_) {
    kill_group();
    // SIGKILL cannot be caught: the wait is short, and it leaves no zombie behind.
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

Result<ScriptProcess> ScriptProcess::spawn(const SpawnOptions& o) {
  if (o.argv.empty()) return Error{"spawn: no program given"};
  // Everything the child needs is prepared before fork (no allocation after it).
  std::vector<char*> argv, envp;
  for (const auto& a : o.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : o.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  struct Limit {
    int resource;
    rlimit value;
  };
  std::vector<Limit> limits;
  rlimit rl{};
  if (resolve_limit(o.limits.cpu_s, RLIMIT_CPU, rl)) limits.push_back({RLIMIT_CPU, rl});
  if (resolve_limit(o.limits.mem_bytes, RLIMIT_AS, rl)) limits.push_back({RLIMIT_AS, rl});
  if (resolve_limit(o.limits.nproc, RLIMIT_NPROC, rl)) limits.push_back({RLIMIT_NPROC, rl});

  // Child ends of the pipes; [i][0] is the read end.
  UniqueFd child_end[3], parent_end[3];
  for (int i = 0; i < 3; ++i) {
    if (o.inherit[static_cast<size_t>(i)] >= 0) continue;
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return Error{errno_message("pipe2 for a script")};
    bool to_child = i == 0;
    child_end[i].reset(to_child ? p[0] : p[1]);
    parent_end[i].reset(to_child ? p[1] : p[0]);
    ::fcntl(parent_end[i].get(), F_SETFL, O_NONBLOCK);
  }
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) return Error{errno_message("pipe2 for a script")};
  UniqueFd report_read(report[0]), report_write(report[1]);

  int child_fds[3];
  for (int i = 0; i < 3; ++i) {
    child_fds[i] = o.inherit[static_cast<size_t>(i)] >= 0 ? o.inherit[static_cast<size_t>(i)]
                                                          : child_end[i].get();
  }
  const char* dir = o.working_directory.empty() ? nullptr : o.working_directory.c_str();

  pid_t pid = ::fork();
  if (pid < 0) return Error{errno_message("fork for " + o.argv[0])};
  if (pid == 0) {
    int rfd = report_write.get();
    if (::setpgid(0, 0) != 0) child_fail(rfd, 0);
    // If the worker dies, its scripts and php-cgi processes die with it: nothing of an
    // owner keeps running without the worker that supervises it.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() == 1) ::_exit(127);
    // Move the three fds above 2 first, so dup2 into 0..2 cannot clobber one of them.
    int moved[3];
    for (int i = 0; i < 3; ++i) {
      moved[i] = ::fcntl(child_fds[i], F_DUPFD_CLOEXEC, 3);
      if (moved[i] < 0) child_fail(rfd, 1);
    }
    for (int i = 0; i < 3; ++i) {
      if (::dup2(moved[i], i) < 0) child_fail(rfd, 1);
    }
    if (dir && ::chdir(dir) != 0) child_fail(rfd, 2);
    for (const Limit& l : limits) {
      if (::setrlimit(l.resource, &l.value) != 0) child_fail(rfd, 3);
    }
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // Ignored signals stay ignored across exec (the worker ignores SIGPIPE): reset them.
    for (int sig = 1; sig < NSIG; ++sig) {
      if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
    }
    // Everything but 0-2 is close-on-exec or closed here: no listener, log or client fd.
    // The report pipe must survive until execve, so close the rest except it.
    if (rfd > 3) ::close_range(3, static_cast<unsigned>(rfd) - 1, 0);
    ::close_range(static_cast<unsigned>(rfd) + 1, ~0u, 0);
    ::execve(argv[0], argv.data(), envp.data());
    child_fail(rfd, 4);
  }
  // Both sides set the group, so kill(-pid) works however the two race.
  ::setpgid(pid, pid);
  report_write.reset();
  for (auto& c : child_end) c.reset();
  ScriptProcess proc;
  proc.pid_ = pid;
  // glibc 2.36's <sys/pidfd.h> lacks extern "C": call the syscall directly.
  proc.pidfd_.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  int msg[2];
  ssize_t n;
  do {
    n = ::read(report_read.get(), msg, sizeof msg);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof msg)) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    proc.exit_status_ = status;
    std::string step = msg[0] >= 0 && msg[0] < 5 ? kSteps[msg[0]] : "spawn";
    return Error{step + " " + o.argv[0] + ": " + std::strerror(msg[1])};
  }
  if (!proc.pidfd_) return Error{errno_message("pidfd_open for " + o.argv[0])};
  proc.stdin_ = std::move(parent_end[0]);
  proc.stdout_ = std::move(parent_end[1]);
  proc.stderr_ = std::move(parent_end[2]);
  return proc;
}

void ScriptProcess::kill_group() {
  // Also after the leader was reaped: its children keep the group (and so the pid, which
  // the kernel does not reuse while the group exists) alive.
  if (pid_ > 0) ::kill(-pid_, SIGKILL);
}

std::optional<int> ScriptProcess::try_reap() {
  if (exit_status_ || pid_ <= 0) return exit_status_;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) exit_status_ = status;
  return exit_status_;
}

}  // namespace itkd
