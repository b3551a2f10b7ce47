#include "http/proxy_protocol.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace itkd::http {
namespace {

constexpr std::string_view kV1Prefix = "PROXY ";
constexpr std::string_view kV2Signature{"\r\n\r\n\0\r\nQUIT\n", 12};
constexpr size_t kV1MaxBytes = 107;

ProxyHeader malformed(std::string reason) {
  ProxyHeader h;
  h.status = ProxyHeaderStatus::Malformed;
  h.reason = std::move(reason);
  return h;
}

// "0".."65535", no sign, no leading zero (the spec's form).
std::optional<uint16_t> parse_port(std::string_view s) {
  if (s.empty() || s.size() > 5 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v > 65535) return std::nullopt;
  return static_cast<uint16_t>(v);
}

std::optional<sockaddr_storage> text_address(int family, std::string_view ip, std::string_view port_text) {
  auto port = parse_port(port_text);
  if (!port || ip.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN] = {};
  std::memcpy(buf, ip.data(), ip.size());
  sockaddr_storage ss{};
  if (family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&ss);
    in->sin_family = AF_INET;
    in->sin_port = htons(*port);
    if (::inet_pton(AF_INET, buf, &in->sin_addr) != 1) return std::nullopt;
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(*port);
    if (::inet_pton(AF_INET6, buf, &in6->sin6_addr) != 1) return std::nullopt;
  }
  return ss;
}

ProxyHeader parse_v1(std::string_view bytes) {
  size_t end = bytes.find("\r\n");
  if (end == std::string_view::npos) {
    if (bytes.size() >= kV1MaxBytes) return malformed("PROXY v1 line longer than 107 bytes");
    // A bare LF or a control byte already says it isn't one.
    for (char c : bytes)
      if (c == '\n' || (c != '\r' && (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)))
        return malformed("PROXY v1 line with a control character");
    return {};
  }
  if (end + 2 > kV1MaxBytes) return malformed("PROXY v1 line longer than 107 bytes");
  std::string_view line = bytes.substr(kV1Prefix.size(), end - kV1Prefix.size());
  ProxyHeader h;
  h.version = 1;
  h.length = end + 2;
  if (line == "UNKNOWN" || line.starts_with("UNKNOWN ")) {  // the rest is to be ignored
    h.status = ProxyHeaderStatus::Complete;
    return h;
  }
  // "TCP4 <src ip> <dst ip> <src port> <dst port>", single spaces.
  std::string_view fields[5];
  size_t n = 0;
  while (n < 5) {
    size_t sp = line.find(' ');
    fields[n++] = line.substr(0, sp);
    if (sp == std::string_view::npos) {
      line = {};
      break;
    }
    line.remove_prefix(sp + 1);
    if (n == 5) return malformed("PROXY v1 line with more than five fields");
  }
  if (n != 5) return malformed("PROXY v1 line without its five fields");
  int family;
  if (fields[0] == "TCP4") family = AF_INET;
  else if (fields[0] == "TCP6") family = AF_INET6;
  else return malformed("PROXY v1 protocol '" + std::string(fields[0].substr(0, 16)) + "' is not TCP4, TCP6 or UNKNOWN");
  h.source = text_address(family, fields[1], fields[3]);
  h.destination = text_address(family, fields[2], fields[4]);
  if (!h.source || !h.destination) return malformed("PROXY v1 line with an invalid address or port");
  h.status = ProxyHeaderStatus::Complete;
  return h;
}

ProxyHeader parse_v2(std::string_view bytes) {
  if (bytes.size() < 16) return {};
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  const unsigned version = b[12] >> 4, command = b[12] & 0x0f;
  if (version != 2) return malformed("PROXY v2 header with version " + std::to_string(version));
  if (command > 1) return malformed("PROXY v2 header with command " + std::to_string(command));
  const size_t length = (static_cast<size_t>(b[14]) << 8) | b[15];
  if (16 + length > kMaxProxyHeaderBytes)
    return malformed("PROXY v2 header of " + std::to_string(16 + length) + " bytes (at most " +
                     std::to_string(kMaxProxyHeaderBytes) + ")");
  if (bytes.size() < 16 + length) return {};
  ProxyHeader h;
  h.version = 2;
  h.length = 16 + length;
  h.status = ProxyHeaderStatus::Complete;
  if (command == 0) return h;  // LOCAL: the balancer's own connection (a health check)
  const unsigned char family = b[13];
  const unsigned char* a = b + 16;
  if (family == 0x00) return h;  // UNSPEC: nothing to say about the addresses
  if (family == 0x11) {          // TCP over IPv4: src, dst, src port, dst port
    if (length < 12) return malformed("PROXY v2 TCP4 header with " + std::to_string(length) + " address bytes");
    sockaddr_storage src{}, dst{};
    auto* s = reinterpret_cast<sockaddr_in*>(&src);
    auto* d = reinterpret_cast<sockaddr_in*>(&dst);
    s->sin_family = d->sin_family = AF_INET;
    std::memcpy(&s->sin_addr, a, 4);
    std::memcpy(&d->sin_addr, a + 4, 4);
    std::memcpy(&s->sin_port, a + 8, 2);
    std::memcpy(&d->sin_port, a + 10, 2);
    h.source = src;
    h.destination = dst;
    return h;
  }
  if (family == 0x21) {  // TCP over IPv6
    if (length < 36) return malformed("PROXY v2 TCP6 header with " + std::to_string(length) + " address bytes");
    sockaddr_storage src{}, dst{};
    auto* s = reinterpret_cast<sockaddr_in6*>(&src);
    auto* d = reinterpret_cast<sockaddr_in6*>(&dst);
    s->sin6_family = d->sin6_family = AF_INET6;
    std::memcpy(&s->sin6_addr, a, 16);
    std::memcpy(&d->sin6_addr, a + 16, 16);
    std::memcpy(&s->sin6_port, a + 32, 2);
    std::memcpy(&d->sin6_port, a + 34, 2);
    h.source = src;
    h.destination = dst;
    return h;
  }
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02x", family);
  return malformed(std::string("PROXY v2 header for address family/transport ") + hex + " (only TCP over IPv4 or IPv6)");
}

}  // namespace

ProxyHeader parse_proxy_header(std::string_view bytes) {
  // Which of the two it can still become, from the bytes so far.
  const size_t v1 = std::min(bytes.size(), kV1Prefix.size());
  const size_t v2 = std::min(bytes.size(), kV2Signature.size());
  const bool maybe_v1 = bytes.substr(0, v1) == kV1Prefix.substr(0, v1);
  const bool maybe_v2 = bytes.substr(0, v2) == kV2Signature.substr(0, v2);
  if (!maybe_v1 && !maybe_v2) return malformed("no PROXY header (the connection must start with one)");
  if (bytes.size() < (maybe_v1 ? kV1Prefix.size() : kV2Signature.size())) return {};
  return maybe_v1 ? parse_v1(bytes) : parse_v2(bytes);
}

}  // namespace itkd::http
