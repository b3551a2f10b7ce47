#include "common/socket_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>

namespace itkd {

namespace {

// Dotted quad from network-order bytes. glibc's inet_ntop formats IPv4 with sprintf,
// which showed up in every PHP request's profile (SERVER_ADDR, REMOTE_ADDR, log prefix).
std::string ipv4_text(const unsigned char* b) {
  std::string out;
  out.reserve(15);
  for (int i = 0; i < 4; ++i) {
    if (i) out += '.';
    unsigned v = b[i];
    if (v >= 100) out += static_cast<char>('0' + v / 100);
    if (v >= 10) out += static_cast<char>('0' + v / 10 % 10);
    out += static_cast<char>('0' + v % 10);
  }
  return out;
}

}  // namespace

std::string address_ip(const sockaddr_storage& addr) {
  char buf[INET6_ADDRSTRLEN] = "";
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    return ipv4_text(reinterpret_cast<const unsigned char*>(&a->sin_addr));
  } else if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
      return ipv4_text(&a->sin6_addr.s6_addr[12]);
    } else {
      ::inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
    }
  } else {
    return "unknown";
  }
  return buf;
}

uint16_t address_port(const sockaddr_storage& addr) {
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
  return 0;
}

std::string address_text(const sockaddr_storage& addr) {
  std::string text = address_ip(addr);
  if (text.find(':') != std::string::npos) text = "[" + text + "]";
  char port[8];
  auto end = std::to_chars(port, port + sizeof port, address_port(addr)).ptr;
  text += ':';
  text.append(port, end);
  return text;
}

}  // namespace itkd
