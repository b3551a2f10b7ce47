// Access-log lines collected during one turn of the worker's event loop and written
// with one write(2) per log file at its end (before the loop sleeps, so nothing waits),
// instead of one write per request: under load that is a syscall per request saved.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace itkd {

class AccessLogBuffer {
 public:
  // A line (with its newline) for the log file open at fd.
  void append(int fd, std::string_view line);
  // Writes everything collected; called at the end of each loop turn and before exit.
  void flush();

 private:
  struct Pending {
    int fd;
    std::string bytes;
  };
  static constexpr size_t kFlushBytes = 64 * 1024;  // bounds memory under a flood
  std::vector<Pending> pending_;
};

}  // namespace itkd
