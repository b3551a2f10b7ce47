// Host / authority normalization (RFC 9110 7.2, RFC 3986 3.2.2), strict enough that the
// result is safe to route on, log and hand to CGI as SERVER_NAME.
#include <arpa/inet.h>

#include <string>
#include <string_view>

#include "http/char_class.h"
#include "http/request_head.h"

namespace itkd::http {

namespace {

// port = *DIGIT (RFC 3986); we also bound it to 0..65535 since nothing larger can be real.
bool valid_port(std::string_view port) {
  if (port.size() > 5) return false;
  unsigned value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value <= 65535;
}

// Only letters, digits, '-', '_' and non-empty dot-separated labels: every real DNS name
// and IPv4 address fits, and nothing that could confuse a path, a log or a shell does.
bool valid_reg_name(std::string_view name) {
  if (name.empty() || name.front() == '.') return false;
  char previous = 0;
  for (char c : name) {
    if (!chars::is(c, chars::kHostName)) return false;
    if (c == '.' && previous == '.') return false;
    previous = c;
  }
  return name.back() != '.';
}

}  // namespace

bool normalize_host(std::string_view authority, std::string& out) {
  out.clear();
  if (authority.empty()) return true;  // "Host:" with an empty authority is allowed

  if (authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return false;
    const std::string_view rest = authority.substr(close + 1);
    if (!rest.empty() && (rest.front() != ':' || !valid_port(rest.substr(1)))) return false;
    const std::string_view literal = authority.substr(1, close - 1);
    // inet_pton needs a terminated string; an IPv6 literal is at most 45 characters.
    char buffer[64];
    if (literal.empty() || literal.size() >= sizeof buffer) return false;
    literal.copy(buffer, literal.size());
    buffer[literal.size()] = '\0';
    in6_addr address;
    if (inet_pton(AF_INET6, buffer, &address) != 1) return false;
    out.reserve(literal.size() + 2);
    out.push_back('[');
    for (char c : literal) out.push_back(chars::lower(c));
    out.push_back(']');
    return true;
  }

  // A reg-name or IPv4 address never contains ':', so the first one starts the port.
  std::string_view name = authority;
  const size_t colon = authority.find(':');
  if (colon != std::string_view::npos) {
    if (!valid_port(authority.substr(colon + 1))) return false;
    name = authority.substr(0, colon);
  }
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (!valid_reg_name(name)) return false;
  out.resize(name.size());
  for (size_t i = 0; i < name.size(); ++i) out[i] = chars::lower(name[i]);
  return true;
}

}  // namespace itkd::http
