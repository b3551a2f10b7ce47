// A child program started for the worker's owner: CGI scripts and managed FastCGI
// processes. It starts clean (own process group, only fds 0-2, empty signal mask,
// default dispositions, the vhost's RLimit*) and is watched through a pidfd, so the
// worker's loop needs no SIGCHLD handling and a hung script is killed with its children.
#pragma once

#include <sys/types.h>

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"
#include "config/server_config.h"

namespace itkd {

struct SpawnOptions {
  std::vector<std::string> argv;   // argv[0] is the program run (absolute path)
  std::vector<std::string> env;    // "NAME=value"
  std::string working_directory;   // chdir here before exec (the script's directory)
  ScriptLimits limits;
  // fds the child gets as 0, 1, 2; -1: a pipe to the parent (non-blocking on our side).
  std::array<int, 3> inherit{-1, -1, -1};
};

class ScriptProcess {
 public:
  ScriptProcess() = default;
  ScriptProcess(ScriptProcess&& other) noexcept;
  ScriptProcess& operator=(ScriptProcess&& other) noexcept;
  ScriptProcess(const ScriptProcess&) = delete;
  ScriptProcess& operator=(const ScriptProcess&) = delete;
  // A process still running is killed (whole group) and reaped.
  ~ScriptProcess();

  // Starts the program; fails (with the reason) if fork, the pipes or execve fail.
  static Result<ScriptProcess> spawn(const SpawnOptions& options);

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0 && !exit_status_; }
  // Our ends of the pipes (invalid where SpawnOptions::inherit gave an fd).
  UniqueFd& stdin_pipe() { return stdin_; }
  UniqueFd& stdout_pipe() { return stdout_; }
  UniqueFd& stderr_pipe() { return stderr_; }
  // Readable (EPOLLIN) once the process has exited.
  int pidfd() const { return pidfd_.get(); }

  // SIGKILL to the whole process group (the script and what it started).
  void kill_group();
  // Reaps if the process has exited (never blocks); the wait status once reaped.
  std::optional<int> try_reap();
  std::optional<int> exit_status() const { return exit_status_; }

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
  UniqueFd pidfd_;
  UniqueFd stdin_, stdout_, stderr_;
};

// "exit status 3" / "killed by signal 9" for logs.
std::string describe_wait_status(int status);

}  // namespace itkd
