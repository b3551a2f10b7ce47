#include "master/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
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
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  static char path_env[] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  char* envp[] = {path_env, nullptr};

  // posix_spawn, not fork: glibc starts the child with CLONE_VM | CLONE_VFORK, so the
  // cost does not grow with the master's memory (a 10 000-vhost configuration made
  // fork take milliseconds on every cold pool start).
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  struct ActionsGuard {
    posix_spawn_file_actions_t* a;
    ~ActionsGuard() { posix_spawn_file_actions_destroy(a); }
  } actions_guard{&actions};
  // Move the wanted fds out of the way first so placing one can't clobber another
  // (dup2 also drops their close-on-exec flag), then into 3, 4, ...; close the rest.
  constexpr int kHigh = 1000;
  const int count = static_cast<int>(fds.size());
  for (int i = 0; i < count; ++i) posix_spawn_file_actions_adddup2(&actions, fds[static_cast<size_t>(i)], kHigh + i);
  for (int i = 0; i < count; ++i) posix_spawn_file_actions_adddup2(&actions, kHigh + i, 3 + i);
  posix_spawn_file_actions_addclosefrom_np(&actions, 3 + count);
  // Nothing of the admin's terminal or the master's pipes: children log to fd 5.
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDWR, 0);
  posix_spawn_file_actions_adddup2(&actions, 0, 1);
  posix_spawn_file_actions_adddup2(&actions, 0, 2);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  struct AttrGuard {
    posix_spawnattr_t* a;
    ~AttrGuard() { posix_spawnattr_destroy(a); }
  } attr_guard{&attr};
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  pid_t pid = 0;
  int err = ::posix_spawn(&pid, g_self_exe.c_str(), &actions, &attr, args.data(), envp);
  if (err != 0) return Error{errno_message("posix_spawn " + g_self_exe, err)};
  return pid;
}

}  // namespace itkd
