// HTTP dates (RFC 9110 5.6.7). Formatted and parsed by hand: strftime/strptime follow
// the process locale, and HTTP dates are always English and GMT.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>

#include "http/response_head.h"

namespace itkd::http {

namespace {

constexpr std::string_view kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::string_view kLongDays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                          "Thursday", "Friday", "Saturday"};
constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

size_t format_date(time_t t, char* buffer, size_t size) {
  tm parts{};
  if (gmtime_r(&t, &parts) == nullptr) return 0;
  const int year = parts.tm_year + 1900;
  if (year >= 0 && year <= 9999 && size >= 30) {
    // IMF-fixdate by hand: snprintf was 1.6% of a keep-alive static request's CPU, as
    // Last-Modified is formatted on every response.
    char* p = buffer;
    auto text = [&](std::string_view s) { p = std::copy(s.begin(), s.begin() + 3, p); };
    auto two = [&](int v) {
      *p++ = static_cast<char>('0' + v / 10);
      *p++ = static_cast<char>('0' + v % 10);
    };
    text(kDays[parts.tm_wday]);
    *p++ = ',';
    *p++ = ' ';
    two(parts.tm_mday);
    *p++ = ' ';
    text(kMonths[parts.tm_mon]);
    *p++ = ' ';
    two(year / 100);
    two(year % 100);
    *p++ = ' ';
    two(parts.tm_hour);
    *p++ = ':';
    two(parts.tm_min);
    *p++ = ':';
    two(parts.tm_sec);
    p = std::copy_n(" GMT", 4, p);
    return static_cast<size_t>(p - buffer);
  }
  const int n = std::snprintf(buffer, size, "%s, %02d %s %04d %02d:%02d:%02d GMT",
                              kDays[parts.tm_wday].data(), parts.tm_mday,
                              kMonths[parts.tm_mon].data(), parts.tm_year + 1900,
                              parts.tm_hour, parts.tm_min, parts.tm_sec);
  return n > 0 && static_cast<size_t>(n) < size ? static_cast<size_t>(n) : 0;
}

// A cursor over the date text; every take_* consumes exactly what it matched or fails.
class Reader {
 public:
  explicit Reader(std::string_view text) : text_(text) {}
  bool literal(std::string_view s) {
    if (text_.substr(0, s.size()) != s) return false;
    text_.remove_prefix(s.size());
    return true;
  }
  bool digits(size_t count, int& value) {
    if (text_.size() < count) return false;
    value = 0;
    for (size_t i = 0; i < count; ++i) {
      const char c = text_[i];
      if (c < '0' || c > '9') return false;
      value = value * 10 + (c - '0');
    }
    text_.remove_prefix(count);
    return true;
  }
  template <size_t N>
  bool one_of(const std::string_view (&names)[N], int& index) {
    for (size_t i = 0; i < N; ++i) {
      if (literal(names[i])) {
        index = static_cast<int>(i);
        return true;
      }
    }
    return false;
  }
  bool time_of_day(tm& parts) {
    return digits(2, parts.tm_hour) && literal(":") && digits(2, parts.tm_min) &&
           literal(":") && digits(2, parts.tm_sec);
  }
  bool at_end() const { return text_.empty(); }
  bool peek(char c) const { return !text_.empty() && text_.front() == c; }

 private:
  std::string_view text_;
};

// "Sun, 06 Nov 1994 08:49:37 GMT"
bool parse_imf_fixdate(std::string_view text, tm& parts) {
  Reader r(text);
  int wday = 0;
  return r.one_of(kDays, wday) && r.literal(", ") && r.digits(2, parts.tm_mday) &&
         r.literal(" ") && r.one_of(kMonths, parts.tm_mon) && r.literal(" ") &&
         r.digits(4, parts.tm_year) && r.literal(" ") && r.time_of_day(parts) &&
         r.literal(" GMT") && r.at_end();
}

// "Sunday, 06-Nov-94 08:49:37 GMT"; the two-digit year is read as RFC 9110 5.6.7 says:
// a year more than 50 years in the future is taken as the same year of the last century.
bool parse_rfc850(std::string_view text, tm& parts) {
  Reader r(text);
  int wday = 0;
  int year = 0;
  if (!(r.one_of(kLongDays, wday) && r.literal(", ") && r.digits(2, parts.tm_mday) &&
        r.literal("-") && r.one_of(kMonths, parts.tm_mon) && r.literal("-") &&
        r.digits(2, year) && r.literal(" ") && r.time_of_day(parts) && r.literal(" GMT") &&
        r.at_end())) {
    return false;
  }
  tm now{};
  const time_t now_t = std::time(nullptr);
  gmtime_r(&now_t, &now);
  const int this_year = now.tm_year + 1900;
  int full = this_year - this_year % 100 + year;
  if (full > this_year + 50) full -= 100;
  parts.tm_year = full;
  return true;
}

// "Sun Nov  6 08:49:37 1994"
bool parse_asctime(std::string_view text, tm& parts) {
  Reader r(text);
  int wday = 0;
  if (!(r.one_of(kDays, wday) && r.literal(" ") && r.one_of(kMonths, parts.tm_mon) &&
        r.literal(" "))) {
    return false;
  }
  if (r.peek(' ')) {
    if (!(r.literal(" ") && r.digits(1, parts.tm_mday))) return false;
  } else if (!r.digits(2, parts.tm_mday)) {
    return false;
  }
  return r.literal(" ") && r.time_of_day(parts) && r.literal(" ") &&
         r.digits(4, parts.tm_year) && r.at_end();
}

}  // namespace

std::string http_date(time_t t) {
  char buffer[64];
  const size_t n = format_date(t, buffer, sizeof buffer);
  return std::string(buffer, n);
}

std::string_view http_date_now() {
  // One formatting per second per thread; every response of that second reuses it.
  thread_local time_t cached_second = -1;
  thread_local char cached[64];
  thread_local size_t cached_length = 0;
  const time_t now = std::time(nullptr);
  if (now != cached_second) {
    cached_length = format_date(now, cached, sizeof cached);
    cached_second = now;
  }
  return std::string_view(cached, cached_length);
}

time_t parse_http_date(std::string_view text) {
  tm parts{};
  if (!parse_imf_fixdate(text, parts) && !parse_rfc850(text, parts) &&
      !parse_asctime(text, parts)) {
    return -1;
  }
  // Ranges first (60 is a leap second), then timegm, then a round trip that catches
  // day-of-month overflow such as "31 Feb" which timegm would silently normalize.
  if (parts.tm_mday < 1 || parts.tm_mday > 31 || parts.tm_hour > 23 || parts.tm_min > 59 ||
      parts.tm_sec > 60 || parts.tm_year < 1900) {
    return -1;
  }
  const int mday = parts.tm_mday;
  const int mon = parts.tm_mon;
  const bool leap_second = parts.tm_sec == 60;
  parts.tm_year -= 1900;
  parts.tm_isdst = 0;
  const time_t t = timegm(&parts);
  if (t == -1) return -1;
  tm check{};
  if (gmtime_r(&t, &check) == nullptr) return -1;
  if (!leap_second && (check.tm_mday != mday || check.tm_mon != mon)) return -1;
  return t;
}

}  // namespace itkd::http
