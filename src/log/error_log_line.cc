// Apache 2.4's default error log line (no ErrorLogFormat), prefork/itk shape without tid:
// "[Fri Nov 27 07:25:16.123456 2026] [core:error] [pid 123] [client 1.2.3.4:5678] message"
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>

#include "log/access_log_format.h"
#include "log/log_text.h"

namespace itkd {

std::string error_log_line(const struct timeval& when, int pid,
                           std::string_view module_and_level, std::string_view client,
                           std::string_view message) {
  time_t seconds = when.tv_sec;
  struct tm tm {};
  localtime_r(&seconds, &tm);
  // ap_recent_ctime_ex with AP_CTIME_OPTION_USEC: day of month zero-padded, English names.
  char stamp[64];
  int n = std::snprintf(stamp, sizeof stamp, "[%s %s %02d %02d:%02d:%02d.%06ld %d] [",
                        log_text::kDayNames[static_cast<size_t>(tm.tm_wday)],
                        log_text::kMonthNames[static_cast<size_t>(tm.tm_mon)], tm.tm_mday,
                        tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long>(when.tv_usec),
                        tm.tm_year + 1900);

  std::string line;
  line.reserve(96 + module_and_level.size() + client.size() + message.size());
  line.append(stamp, n > 0 ? static_cast<size_t>(n) : 0);
  log_text::append_escaped(line, module_and_level, false);
  line += "] [pid ";
  line += std::to_string(pid);
  line += "] ";
  if (!client.empty()) {
    line += "[client ";
    log_text::append_escaped(line, client, false);
    line += "] ";
  }
  log_text::append_escaped(line, message, false);
  return line;
}

std::string error_log_line(std::string_view module_and_level, std::string_view client,
                           std::string_view message) {
  struct timeval now {};
  gettimeofday(&now, nullptr);
  return error_log_line(now, static_cast<int>(getpid()), module_and_level, client, message);
}

}  // namespace itkd
