#include "log/error_log.h"

#include <unistd.h>

#include <array>

#include "log/access_log_format.h"

namespace itkd {

namespace {
constexpr std::array<std::string_view, 8> kNames = {"emerg", "alert", "crit",   "error",
                                                    "warn",  "notice", "info", "debug"};
}

LogLevel parse_log_level(std::string_view name) {
  // "LogLevel warn ssl:info": the first word is the server-wide level.
  name = name.substr(0, name.find(' '));
  for (size_t i = 0; i < kNames.size(); ++i)
    if (kNames[i] == name) return static_cast<LogLevel>(i);
  return LogLevel::Warn;
}

std::string_view log_level_name(LogLevel level) { return kNames[static_cast<size_t>(level)]; }

void ErrorLog::log(LogLevel level, std::string_view module, std::string_view client,
                   std::string_view message) const {
  if (!enabled(level)) return;
  std::string tag(module);
  tag += ':';
  tag += log_level_name(level);
  std::string line = error_log_line(tag, client, message);
  line += '\n';
  [[maybe_unused]] ssize_t n = ::write(fd_, line.data(), line.size());
}

void ErrorLog::always(std::string_view module, std::string_view message) const {
  if (fd_ < 0) return;
  std::string tag(module);
  tag += ":notice";
  std::string line = error_log_line(tag, {}, message);
  line += '\n';
  [[maybe_unused]] ssize_t n = ::write(fd_, line.data(), line.size());
}

}  // namespace itkd
