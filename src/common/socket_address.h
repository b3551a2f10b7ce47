// Printing and comparing socket addresses for logs and routing.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>

namespace itkd {

// "127.0.0.1" / "::1"; IPv4-mapped IPv6 addresses print as IPv4.
std::string address_ip(const sockaddr_storage& addr);
uint16_t address_port(const sockaddr_storage& addr);
// "127.0.0.1:5678" / "[::1]:5678"
std::string address_text(const sockaddr_storage& addr);

}  // namespace itkd
