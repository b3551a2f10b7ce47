#include "master/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <cstring>

namespace itkd {

namespace {
std::string g_self_exe;
}

void remember_self_executable() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n > 0) g_self_exe.assign(buf, static_cast<size_t>(n));
}

const std::string& self_executable() { return g_self_exe; }

Result<pid_t> spawn_child(const std::vector<std::string>& argv, const std::vector<int>& fds) {
  // Build everything the child needs before fork: after fork only async-signal-safe calls.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  static char path_env[] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  char* envp[] = {path_env, nullptr};
  const char* exe = g_self_exe.c_str();

  pid_t pid = ::fork();
  if (pid < 0) return Error{errno_message("fork")};
  if (pid > 0) return pid;

  // Child. Move the wanted fds out of the way first so dup2 can't clobber one of them.
  int high[64];
  size_t count = fds.size() < 64 ? fds.size() : 64;
  for (size_t i = 0; i < count; ++i) {
    high[i] = ::fcntl(fds[i], F_DUPFD_CLOEXEC, 1000);
    if (high[i] < 0) ::_exit(127);
  }
  for (size_t i = 0; i < count; ++i) {
    if (::dup2(high[i], 3 + static_cast<int>(i)) < 0) ::_exit(127);
  }
  ::syscall(SYS_close_range, 3 + count, ~0U, 0);
  // Nothing of the admin's terminal or the master's pipes: children log to fd 5.
  int devnull = ::open("/dev/null", O_RDWR);
  if (devnull >= 0) {
    for (int std_fd = 0; std_fd <= 2; ++std_fd)
      if (devnull != std_fd) ::dup2(devnull, std_fd);
    if (devnull > 2) ::close(devnull);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::signal(SIGPIPE, SIG_DFL);
  ::execve(exe, args.data(), envp);
  ::_exit(127);
}

}  // namespace itkd
