// Sandbox changes are one-way, so every test runs them in a forked child and only
// inspects the child's report and exit status here.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <string>

namespace itkd::test {

struct ChildOutcome {
  std::string output;  // what body() returned
  int status = 0;      // waitpid status
};

inline ChildOutcome run_in_child(const std::function<std::string()>& body) {
  ChildOutcome outcome;
  int fds[2];
  if (pipe(fds) != 0) return {"pipe failed", -1};
  pid_t pid = fork();
  if (pid < 0) return {"fork failed", -1};
  if (pid == 0) {
    close(fds[0]);
    std::string text = body();
    const char* p = text.data();
    size_t left = text.size();
    while (left > 0) {
      ssize_t n = write(fds[1], p, left);
      if (n <= 0) break;
      p += n;
      left -= static_cast<size_t>(n);
    }
    _exit(0);
  }
  close(fds[1]);
  char buf[4096];
  for (;;) {
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    outcome.output.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  while (waitpid(pid, &outcome.status, 0) < 0 && errno == EINTR) {
  }
  return outcome;
}

// "ok" for a successful call, else the errno's name ("EPERM").
inline std::string outcome_of(long rc) {
  if (rc >= 0) return "ok";
  const char* name = strerrorname_np(errno);
  return name ? name : "errno " + std::to_string(errno);
}

}  // namespace itkd::test
