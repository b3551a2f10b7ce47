// The error log as a writer: one O_APPEND fd opened by the master, one line per write
// (atomic for regular files), filtered by LogLevel.
#pragma once

#include <string>
#include <string_view>

namespace itkd {

enum class LogLevel { Emerg, Alert, Crit, Error, Warn, Notice, Info, Debug };

LogLevel parse_log_level(std::string_view name);  // unknown -> Warn
std::string_view log_level_name(LogLevel level);

class ErrorLog {
 public:
  ErrorLog() = default;
  ErrorLog(int fd, LogLevel level) : fd_(fd), level_(level) {}
  bool enabled(LogLevel level) const { return fd_ >= 0 && level <= level_; }
  // module: "core", "mpm_itkd", "http"; client: "1.2.3.4:5678" or empty.
  void log(LogLevel level, std::string_view module, std::string_view client, std::string_view message) const;
  // Written whatever LogLevel says (startup and shutdown notices, as Apache does).
  void always(std::string_view module, std::string_view message) const;
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  LogLevel level_ = LogLevel::Warn;
};

}  // namespace itkd
