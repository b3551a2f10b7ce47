// Apache LogFormat: parsing follows mod_log_config's parse_log_item/parse_log_misc_string,
// output follows its handlers (and mod_logio's %I %O %S), so the same request gives the
// same bytes as Apache.
#include "log/access_log_format.h"

#include <locale.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "log/log_text.h"

namespace itkd {

namespace {

enum class Kind : uint8_t {
  Literal,
  RemoteIp,        // %a %{c}a
  LocalIp,         // %A
  BodyBytes,       // %B
  BodyBytesClf,    // %b
  DurationUs,      // %D
  Filename,        // %f
  RemoteHost,      // %h
  Protocol,        // %H
  RequestHeader,   // %{Name}i
  KeepaliveCount,  // %k
  RemoteLogname,   // %l
  Method,          // %m
  ResponseHeader,  // %{Name}o
  LocalPort,       // %p %{canonical}p %{local}p
  RemotePort,      // %{remote}p
  Pid,             // %P %{pid}P
  Tid,             // %{tid}P
  HexTid,          // %{hextid}P
  Query,           // %q
  RequestLine,     // %r
  Status,          // %s %>s %<s
  Time,            // %t %{format}t
  Duration,        // %T %{UNIT}T
  RemoteUser,      // %u
  UrlPath,         // %U
  ServerName,      // %v
  HostName,        // %V
  ConnectionState, // %X
  BytesIn,         // %I
  BytesOut,        // %O
  BytesTotal,      // %S
  Cookie,          // %{Name}C
  Unavailable,     // %{Name}e %{Name}n: itkd has no subprocess env or notes, always "-"
};

enum class TimeStyle : uint8_t { Clf, Custom, Sec, Msec, Usec, MsecFrac, UsecFrac };
enum class DurationUnit : uint8_t { Seconds, Milliseconds, Microseconds };

}  // namespace

struct AccessLogFormat::Item {
  Kind kind = Kind::Literal;
  std::string text;           // literal bytes, header/cookie name, or strftime format
  std::vector<int> statuses;  // %400,501{..}i: print only for these statuses
  bool negate = false;        // %!200{..}i: print only for other statuses
  TimeStyle time_style = TimeStyle::Clf;
  bool time_at_end = false;   // %{end:...}t
  DurationUnit unit = DurationUnit::Seconds;
};

namespace {

using Item = AccessLogFormat::Item;

Error format_error(std::string_view what, std::string_view format) {
  return Error{std::string(what) + " in LogFormat \"" + std::string(format) +
               "\"; see Apache's mod_log_config documentation for the directives"};
}

// Literal text up to the next '%', with mod_log_config's backslash escapes (\\ \r \n \t;
// any other backslash stays as it is).
void parse_literal(std::string_view& rest, std::string& out) {
  size_t i = 0;
  while (i < rest.size() && rest[i] != '%') {
    if (rest[i] != '\\' || i + 1 >= rest.size()) {
      out.push_back(rest[i++]);
      continue;
    }
    switch (rest[i + 1]) {
      case '\\': out.push_back('\\'); i += 2; break;
      case 'r': out.push_back('\r'); i += 2; break;
      case 'n': out.push_back('\n'); i += 2; break;
      case 't': out.push_back('\t'); i += 2; break;
      default: out.push_back('\\'); ++i; break;
    }
  }
  rest.remove_prefix(i);
}

bool set_time_style(Item& item, std::string_view arg) {
  if (arg.empty()) {
    item.time_style = TimeStyle::Clf;
    return true;
  }
  if (arg.starts_with("begin:")) {
    arg.remove_prefix(6);
  } else if (arg.starts_with("end:")) {
    arg.remove_prefix(4);
    item.time_at_end = true;
  }
  if (arg == "sec") item.time_style = TimeStyle::Sec;
  else if (arg == "msec") item.time_style = TimeStyle::Msec;
  else if (arg == "usec") item.time_style = TimeStyle::Usec;
  else if (arg == "msec_frac") item.time_style = TimeStyle::MsecFrac;
  else if (arg == "usec_frac") item.time_style = TimeStyle::UsecFrac;
  else {
    item.time_style = TimeStyle::Custom;
    item.text = std::string(arg);
  }
  return true;
}

// Maps the directive letter (with its {argument}) to an item; false for unknown letters
// or arguments this letter does not accept.
bool set_kind(Item& item, char letter, std::string_view arg, std::string& why) {
  switch (letter) {
    case 'a': item.kind = Kind::RemoteIp; return true;
    case 'A': item.kind = Kind::LocalIp; return true;
    case 'B': item.kind = Kind::BodyBytes; return true;
    case 'b': item.kind = Kind::BodyBytesClf; return true;
    case 'C': item.kind = Kind::Cookie; item.text = std::string(arg); return true;
    case 'D': item.kind = Kind::DurationUs; return true;
    case 'e':
    case 'n': item.kind = Kind::Unavailable; return true;
    case 'f': item.kind = Kind::Filename; return true;
    case 'h': item.kind = Kind::RemoteHost; return true;
    case 'H': item.kind = Kind::Protocol; return true;
    case 'i': item.kind = Kind::RequestHeader; item.text = std::string(arg); return true;
    case 'I': item.kind = Kind::BytesIn; return true;
    case 'k': item.kind = Kind::KeepaliveCount; return true;
    case 'l': item.kind = Kind::RemoteLogname; return true;
    case 'm': item.kind = Kind::Method; return true;
    case 'o': item.kind = Kind::ResponseHeader; item.text = std::string(arg); return true;
    case 'O': item.kind = Kind::BytesOut; return true;
    case 'p':
      if (arg.empty() || arg == "canonical" || arg == "local") item.kind = Kind::LocalPort;
      else if (arg == "remote") item.kind = Kind::RemotePort;
      else {
        why = "unknown port format %{" + std::string(arg) + "}p (use canonical, local or remote)";
        return false;
      }
      return true;
    case 'P':
      if (arg.empty() || arg == "pid") item.kind = Kind::Pid;
      else if (arg == "tid") item.kind = Kind::Tid;
      else if (arg == "hextid") item.kind = Kind::HexTid;
      else {
        why = "unknown process format %{" + std::string(arg) + "}P (use pid, tid or hextid)";
        return false;
      }
      return true;
    case 'q': item.kind = Kind::Query; return true;
    case 'r': item.kind = Kind::RequestLine; return true;
    case 's': item.kind = Kind::Status; return true;
    case 'S': item.kind = Kind::BytesTotal; return true;
    case 't': item.kind = Kind::Time; return set_time_style(item, arg);
    case 'T':
      item.kind = Kind::Duration;
      if (arg.empty() || arg == "s") item.unit = DurationUnit::Seconds;
      else if (arg == "ms") item.unit = DurationUnit::Milliseconds;
      else if (arg == "us") item.unit = DurationUnit::Microseconds;
      else {
        why = "unknown time unit %{" + std::string(arg) + "}T (use s, ms or us)";
        return false;
      }
      return true;
    case 'u': item.kind = Kind::RemoteUser; return true;
    case 'U': item.kind = Kind::UrlPath; return true;
    case 'v': item.kind = Kind::ServerName; return true;
    case 'V': item.kind = Kind::HostName; return true;
    case 'X': item.kind = Kind::ConnectionState; return true;
    default:
      why = std::string("unknown format directive %") + letter;
      return false;
  }
}

// One %-directive, rest starting after the '%'. Modifiers come in any order before the
// letter, as mod_log_config accepts them: '!', '<', '>', ',', digits, {argument}.
Result<Item> parse_directive(std::string_view& rest, std::string_view format) {
  Item item;
  std::string_view arg;
  while (!rest.empty()) {
    const char c = rest.front();
    if (c == '!') {
      item.negate = !item.negate;
      rest.remove_prefix(1);
    } else if (c == '<' || c == '>' || c == ',') {
      // Original vs final request: itkd has no internal redirects, both are the same.
      rest.remove_prefix(1);
    } else if (c == '{') {
      size_t close = rest.find('}');
      if (close == std::string_view::npos) return format_error("unterminated %{", format);
      arg = rest.substr(1, close - 1);
      rest.remove_prefix(close + 1);
    } else if (c >= '0' && c <= '9') {
      int status = 0;
      auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), status);
      if (ec != std::errc()) return format_error("status number out of range", format);
      item.statuses.push_back(status);
      rest.remove_prefix(static_cast<size_t>(end - rest.data()));
    } else {
      std::string why;
      rest.remove_prefix(1);
      if (!set_kind(item, c, arg, why)) return format_error(why, format);
      return item;
    }
  }
  return format_error("format ends inside a % directive (write %% for a literal %)", format);
}

// Numbers without allocating.
void append_number(std::string& out, uint64_t value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, static_cast<size_t>(end - buf));
}

void append_padded(std::string& out, uint64_t value, int width) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  for (int n = static_cast<int>(end - buf); n < width; ++n) out.push_back('0');
  out.append(buf, static_cast<size_t>(end - buf));
}

// Escaped value, or "-" when there is none.
void append_value(std::string& out, std::string_view value) {
  if (value.empty()) {
    out.push_back('-');
  } else {
    log_text::append_escaped(out, value);
  }
}

std::string_view lookup(const std::function<std::string_view(std::string_view)>& fn,
                        std::string_view name) {
  return fn ? fn(name) : std::string_view();
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) {
           return lower(x) == lower(y);
         });
}

std::string_view trim_blanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Value of one cookie in a Cookie header ("a=1; b=2"), as mod_log_config's log_cookie:
// names match without case, pairs with an empty name or value are skipped.
std::string_view cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    size_t semi = header.find(';');
    std::string_view pair = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    size_t eq = pair.find('=');
    if (eq == 0 || eq == std::string_view::npos || eq + 1 == pair.size()) continue;
    if (!equal_ignoring_case(trim_blanks(pair.substr(0, eq)), name)) continue;
    return trim_blanks(pair.substr(eq + 1));
  }
  return {};
}

// strftime in the C locale, whatever the process locale is: log lines must not change
// language with the environment.
locale_t c_locale() {
  static locale_t locale = newlocale(LC_ALL_MASK, "C", static_cast<locale_t>(nullptr));
  return locale;
}

// "[27/Nov/2026:07:25:16 +0000]", built once per second per thread as Apache caches it.
void append_clf_time(std::string& out, time_t seconds) {
  struct Cache {
    time_t seconds = -1;
    char text[40] = {};
    int length = 0;
  };
  thread_local Cache cache;
  if (cache.seconds != seconds) {
    struct tm tm {};
    localtime_r(&seconds, &tm);
    long offset = tm.tm_gmtoff;
    char sign = '+';
    if (offset < 0) {
      sign = '-';
      offset = -offset;
    }
    int n = std::snprintf(cache.text, sizeof cache.text, "[%02d/%s/%d:%02d:%02d:%02d %c%.2ld%.2ld]",
                          tm.tm_mday, log_text::kMonthNames[static_cast<size_t>(tm.tm_mon)],
                          tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, sign,
                          offset / 3600, (offset % 3600) / 60);
    cache.length = std::clamp(n, 0, static_cast<int>(sizeof cache.text) - 1);
    cache.seconds = seconds;
  }
  out.append(cache.text, static_cast<size_t>(cache.length));
}

void append_time(std::string& out, const Item& item, const AccessLogRecord& record) {
  uint64_t us = static_cast<uint64_t>(record.request_start.tv_sec) * 1000000u +
                static_cast<uint64_t>(record.request_start.tv_usec);
  if (item.time_at_end) us += record.duration_us;
  const time_t seconds = static_cast<time_t>(us / 1000000u);
  switch (item.time_style) {
    case TimeStyle::Clf: append_clf_time(out, seconds); return;
    case TimeStyle::Sec: append_number(out, us / 1000000u); return;
    case TimeStyle::Msec: append_number(out, us / 1000u); return;
    case TimeStyle::Usec: append_number(out, us); return;
    case TimeStyle::MsecFrac: append_padded(out, (us / 1000u) % 1000u, 3); return;
    case TimeStyle::UsecFrac: append_padded(out, us % 1000000u, 6); return;
    case TimeStyle::Custom: {
      struct tm tm {};
      localtime_r(&seconds, &tm);
      char buf[1024];
      size_t n = strftime_l(buf, sizeof buf, item.text.c_str(), &tm, c_locale());
      out.append(buf, n);
      return;
    }
  }
}

void append_item(std::string& out, const Item& item, const AccessLogRecord& r) {
  switch (item.kind) {
    case Kind::Literal: out += item.text; return;
    case Kind::RemoteIp:
    case Kind::RemoteHost: append_value(out, r.remote_ip); return;
    case Kind::LocalIp: append_value(out, r.local_ip); return;
    case Kind::BodyBytes: append_number(out, r.bytes_sent); return;
    case Kind::BodyBytesClf:
      if (r.bytes_sent == 0) out.push_back('-');
      else append_number(out, r.bytes_sent);
      return;
    case Kind::DurationUs: append_number(out, r.duration_us); return;
    case Kind::Filename: append_value(out, r.filename); return;
    case Kind::Protocol: append_value(out, r.protocol); return;
    case Kind::RequestHeader: append_value(out, lookup(r.request_header, item.text)); return;
    case Kind::ResponseHeader: append_value(out, lookup(r.response_header, item.text)); return;
    case Kind::Cookie:
      append_value(out, cookie_value(lookup(r.request_header, "Cookie"), item.text));
      return;
    case Kind::KeepaliveCount: append_number(out, r.keepalive_count); return;
    case Kind::RemoteLogname:  // no identd lookups, as Apache with IdentityCheck Off
    case Kind::Unavailable: out.push_back('-'); return;
    case Kind::Method: append_value(out, r.method); return;
    case Kind::LocalPort: append_number(out, r.local_port); return;
    case Kind::RemotePort: append_number(out, r.remote_port); return;
    case Kind::Pid: append_number(out, r.pid > 0 ? static_cast<uint64_t>(r.pid)
                                                 : static_cast<uint64_t>(getpid()));
      return;
    case Kind::Tid: append_number(out, static_cast<uint64_t>(syscall(SYS_gettid))); return;
    case Kind::HexTid: {
      char buf[24];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf,
                                     static_cast<uint64_t>(syscall(SYS_gettid)), 16);
      out.append(buf, static_cast<size_t>(end - buf));
      return;
    }
    case Kind::Query:  // "" rather than "-" without a query, as Apache
      if (!r.query.empty()) {
        if (r.query.front() == '?') {
          out.push_back('?');
          log_text::append_escaped(out, r.query.substr(1));
        } else {
          log_text::append_escaped(out, r.query);
        }
      }
      return;
    case Kind::RequestLine: append_value(out, r.request_line); return;
    case Kind::Status:
      if (r.status <= 0) out.push_back('-');
      else append_number(out, static_cast<uint64_t>(r.status));
      return;
    case Kind::Time: append_time(out, item, r); return;
    case Kind::Duration:
      switch (item.unit) {
        case DurationUnit::Seconds: append_number(out, r.duration_us / 1000000u); return;
        case DurationUnit::Milliseconds: append_number(out, r.duration_us / 1000u); return;
        case DurationUnit::Microseconds: append_number(out, r.duration_us); return;
      }
      return;
    case Kind::RemoteUser: append_value(out, r.remote_user); return;
    case Kind::UrlPath: append_value(out, r.url_path); return;
    case Kind::ServerName: append_value(out, r.server_name); return;
    case Kind::HostName:
      append_value(out, r.host_header.empty() ? r.server_name : r.host_header);
      return;
    case Kind::ConnectionState:
      out.push_back(r.connection_aborted ? 'X' : r.keepalive_connection ? '+' : '-');
      return;
    case Kind::BytesIn: append_number(out, r.bytes_in); return;
    case Kind::BytesOut: append_number(out, r.bytes_out); return;
    case Kind::BytesTotal: append_number(out, r.bytes_in + r.bytes_out); return;
  }
}

}  // namespace

AccessLogFormat::AccessLogFormat() = default;
AccessLogFormat::~AccessLogFormat() = default;
AccessLogFormat::AccessLogFormat(AccessLogFormat&&) noexcept = default;
AccessLogFormat& AccessLogFormat::operator=(AccessLogFormat&&) noexcept = default;

Result<AccessLogFormat> AccessLogFormat::compile(std::string_view format) {
  AccessLogFormat compiled;
  std::string_view rest = format;
  while (!rest.empty()) {
    if (rest.front() != '%') {
      Item literal;
      parse_literal(rest, literal.text);
      compiled.items_.push_back(std::move(literal));
      continue;
    }
    rest.remove_prefix(1);
    if (!rest.empty() && rest.front() == '%') {
      rest.remove_prefix(1);
      Item percent;
      percent.text = "%";
      compiled.items_.push_back(std::move(percent));
      continue;
    }
    Result<Item> item = parse_directive(rest, format);
    if (!item) return item.error();
    compiled.items_.push_back(std::move(item.value()));
  }
  return compiled;
}

std::string AccessLogFormat::format(const AccessLogRecord& record) const {
  std::string out;
  out.reserve(256 + record.request_line.size());
  for (const Item& item : items_) {
    // Conditional items print "-" unless the status is (or, negated, is not) listed.
    if (!item.statuses.empty()) {
      bool listed = std::find(item.statuses.begin(), item.statuses.end(), record.status) !=
                    item.statuses.end();
      if (listed == item.negate) {
        out.push_back('-');
        continue;
      }
    }
    append_item(out, item, record);
  }
  return out;
}

}  // namespace itkd
