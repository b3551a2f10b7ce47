// Apache LogFormat strings, compiled once and applied per request. The "combined" format
// must produce byte-for-byte what Apache writes for the same request.
#pragma once

#include <sys/time.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace itkd {

// Everything a format directive may ask about one request.
struct AccessLogRecord {
  std::string_view remote_ip;       // %a %h
  uint16_t remote_port = 0;         // %{remote}p
  std::string_view local_ip;        // %A
  uint16_t local_port = 0;          // %p
  std::string_view server_name;     // %v (vhost ServerName)
  std::string_view host_header;     // %V (Host as used)
  std::string_view request_line;    // %r (first line as sent, without CRLF)
  std::string_view method;          // %m
  std::string_view url_path;        // %U (path, decoded)
  std::string_view query;           // %q (with leading '?', or empty)
  std::string_view protocol;        // %H ("HTTP/1.1")
  std::string_view filename;        // %f
  std::string_view remote_user;     // %u
  int status = 0;                   // %s %>s
  uint64_t bytes_sent = 0;          // %b %B (body bytes)
  uint64_t bytes_out = 0;           // %O (all bytes incl. head)
  uint64_t bytes_in = 0;            // %I
  struct timeval request_start{};   // %t %{...}t
  uint64_t duration_us = 0;         // %D %T
  int pid = 0;                      // %P
  bool keepalive_connection = false;// %k counts, %X
  unsigned keepalive_count = 0;     // %k
  bool connection_aborted = false;  // %X
  // Request and response header lookups (%{Name}i, %{Name}o); empty view if absent.
  std::function<std::string_view(std::string_view)> request_header;
  std::function<std::string_view(std::string_view)> response_header;
};

class AccessLogFormat {
 public:
  // Errors name the offending directive ("unknown format directive %Z").
  static Result<AccessLogFormat> compile(std::string_view format);
  // One log line, without the trailing newline. Values are escaped as Apache does
  // (\" \\ \xhh for control and non-printable bytes in %r, %i, %U, ...).
  std::string format(const AccessLogRecord& record) const;

  struct Item;  // implementation detail, defined in the .cc

  AccessLogFormat();
  ~AccessLogFormat();
  AccessLogFormat(AccessLogFormat&&) noexcept;
  AccessLogFormat& operator=(AccessLogFormat&&) noexcept;

 private:
  std::vector<Item> items_;
};

inline constexpr std::string_view kCombinedLogFormat =
    "%h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"";
inline constexpr std::string_view kCommonLogFormat = "%h %l %u %t \"%r\" %>s %O";

// Error log line in Apache 2.4's shape:
// "[Fri Nov 27 07:25:16.123456 2026] [core:error] [pid 123] [client 1.2.3.4:5678] message"
// Client and message are escaped (controls, 8-bit bytes, backslash as \xhh \n \\), so a
// client-supplied string can never start a second line. Uses the current time and pid.
std::string error_log_line(std::string_view module_and_level, std::string_view client,
                           std::string_view message);
// The same for a given time and pid (tests, and callers that already have the time).
std::string error_log_line(const struct timeval& when, int pid,
                           std::string_view module_and_level, std::string_view client,
                           std::string_view message);

}  // namespace itkd
