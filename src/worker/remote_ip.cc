#include "worker/remote_ip.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "common/socket_address.h"
#include "http/char_class.h"

namespace itkd {
namespace {

// "203.0.113.7", "2001:db8::7" or "[2001:db8::7]", with `port` kept.
std::optional<sockaddr_storage> parse_ip(std::string_view text, uint16_t port) {
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN] = {};
  std::memcpy(buf, text.data(), text.size());
  sockaddr_storage ss{};
  auto* in = reinterpret_cast<sockaddr_in*>(&ss);
  if (::inet_pton(AF_INET, buf, &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    return ss;
  }
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (::inet_pton(AF_INET6, buf, &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    return ss;
  }
  return std::nullopt;
}

bool is_private(const sockaddr_storage& a) {
  auto ip = ip_bytes_of(a);
  if (!ip) return true;
  const auto& b = *ip;
  const bool v4 = std::all_of(b.begin(), b.begin() + 10, [](uint8_t x) { return x == 0; }) && b[10] == 0xff &&
                  b[11] == 0xff;
  if (!v4) return (b[0] & 0xe0) != 0x20;  // global unicast is 2000::/3
  return b[12] == 10 || b[12] == 127 || (b[12] == 172 && (b[13] & 0xf0) == 16) || (b[12] == 192 && b[13] == 168) ||
         (b[12] == 169 && b[13] == 254);
}

}  // namespace

std::optional<sockaddr_storage> client_from_proxy_header(const RemoteIpSettings& settings,
                                                         const sockaddr_storage& peer,
                                                         const http::RequestHead& head) {
  if (settings.header.empty()) return std::nullopt;
  // Every field of that name, in order, as one list (RFC 9110 5.3).
  std::vector<std::string_view> entries;
  for (const http::HeaderField& f : head.fields) {
    if (!http::chars::iequals(f.name, settings.header)) continue;
    http::chars::for_each_list_element(f.value, [&](std::string_view item) {
      entries.push_back(item);
      return true;
    });
  }
  sockaddr_storage current = peer;
  bool changed = false;
  while (!entries.empty()) {
    const bool internal = address_in_ranges(current, settings.internal_proxies);
    const bool trusted = !internal && address_in_ranges(current, settings.trusted_proxies);
    if (!internal && !trusted) break;
    auto next = parse_ip(entries.back(), address_port(peer));
    if (!next) break;  // not an address: what follows it can't be trusted either
    if (trusted && is_private(*next)) break;
    entries.pop_back();
    current = *next;
    changed = true;
  }
  if (!changed) return std::nullopt;
  return current;
}

}  // namespace itkd
