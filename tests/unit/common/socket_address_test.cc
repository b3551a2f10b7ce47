#include "common/socket_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <gtest/gtest.h>

#include <cstring>
#include <random>

namespace itkd {
namespace {

sockaddr_storage v4(uint32_t host_order, uint16_t port) {
  sockaddr_storage s{};
  auto* a = reinterpret_cast<sockaddr_in*>(&s);
  a->sin_family = AF_INET;
  a->sin_addr.s_addr = htonl(host_order);
  a->sin_port = htons(port);
  return s;
}

sockaddr_storage v6(const char* text, uint16_t port) {
  sockaddr_storage s{};
  auto* a = reinterpret_cast<sockaddr_in6*>(&s);
  a->sin6_family = AF_INET6;
  EXPECT_EQ(inet_pton(AF_INET6, text, &a->sin6_addr), 1) << text;
  a->sin6_port = htons(port);
  return s;
}

std::string reference_v4(uint32_t host_order) {
  in_addr in{htonl(host_order)};
  char buf[INET_ADDRSTRLEN];
  return inet_ntop(AF_INET, &in, buf, sizeof buf);
}

TEST(SocketAddress, Ipv4AsInetNtopPrintsIt) {
  for (uint32_t a : {0x00000000u, 0xffffffffu, 0x7f000001u, 0x0a000c03u, 0xc0a80064u, 0x01020304u, 0x64000a09u})
    EXPECT_EQ(address_ip(v4(a, 80)), reference_v4(a));
  std::mt19937 rng(42);
  for (int i = 0; i < 10000; ++i) {
    uint32_t a = rng();
    ASSERT_EQ(address_ip(v4(a, 1)), reference_v4(a));
  }
}

TEST(SocketAddress, TextWithPort) {
  EXPECT_EQ(address_text(v4(0x7f000001, 5678)), "127.0.0.1:5678");
  EXPECT_EQ(address_text(v4(0x0a000001, 0)), "10.0.0.1:0");
  EXPECT_EQ(address_text(v4(0xffffffff, 65535)), "255.255.255.255:65535");
  EXPECT_EQ(address_text(v6("::1", 443)), "[::1]:443");
  EXPECT_EQ(address_text(v6("2001:db8::7", 8080)), "[2001:db8::7]:8080");
  EXPECT_EQ(address_port(v6("::1", 443)), 443);
}

TEST(SocketAddress, MappedIpv4PrintsAsIpv4) {
  EXPECT_EQ(address_ip(v6("::ffff:192.0.2.33", 80)), "192.0.2.33");
  EXPECT_EQ(address_text(v6("::ffff:192.0.2.33", 80)), "192.0.2.33:80");
  sockaddr_storage unknown{};
  unknown.ss_family = AF_UNIX;
  EXPECT_EQ(address_ip(unknown), "unknown");
}

}  // namespace
}  // namespace itkd
