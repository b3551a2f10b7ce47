#include "http/proxy_protocol.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <string>

namespace itkd::http {
namespace {

std::string ip_of(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET)
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(ss).sin_addr, buf, sizeof buf);
  else
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr, buf, sizeof buf);
  return buf;
}
int port_of(const sockaddr_storage& ss) {
  return ntohs(ss.ss_family == AF_INET ? reinterpret_cast<const sockaddr_in&>(ss).sin_port
                                       : reinterpret_cast<const sockaddr_in6&>(ss).sin6_port);
}

const std::string kSig("\r\n\r\n\0\r\nQUIT\n", 12);

std::string v2(unsigned char ver_cmd, unsigned char family, const std::string& payload) {
  std::string h = kSig;
  h += static_cast<char>(ver_cmd);
  h += static_cast<char>(family);
  h += static_cast<char>(payload.size() >> 8);
  h += static_cast<char>(payload.size() & 0xff);
  return h + payload;
}

TEST(ProxyProtocol, V1Tcp4) {
  std::string head = "PROXY TCP4 203.0.113.7 192.0.2.1 56324 443\r\n";
  auto h = parse_proxy_header(head + "GET / HTTP/1.1\r\n");
  ASSERT_EQ(h.status, ProxyHeaderStatus::Complete) << h.reason;
  EXPECT_EQ(h.version, 1);
  EXPECT_EQ(h.length, head.size());
  EXPECT_EQ(ip_of(*h.source), "203.0.113.7");
  EXPECT_EQ(port_of(*h.source), 56324);
  EXPECT_EQ(ip_of(*h.destination), "192.0.2.1");
  EXPECT_EQ(port_of(*h.destination), 443);
}

TEST(ProxyProtocol, V1Tcp6AndUnknown) {
  auto h = parse_proxy_header("PROXY TCP6 2001:db8::7 2001:db8::1 1 65535\r\n");
  ASSERT_EQ(h.status, ProxyHeaderStatus::Complete) << h.reason;
  EXPECT_EQ(ip_of(*h.source), "2001:db8::7");
  EXPECT_EQ(port_of(*h.destination), 65535);
  for (std::string u : {"PROXY UNKNOWN\r\n", "PROXY UNKNOWN ffff::1 ffff::2 1 2 and more\r\n"}) {
    auto k = parse_proxy_header(u + "GET");
    ASSERT_EQ(k.status, ProxyHeaderStatus::Complete) << u;
    EXPECT_EQ(k.length, u.size());
    EXPECT_FALSE(k.source);
  }
}

TEST(ProxyProtocol, EveryPrefixIsIncomplete) {
  std::string v1 = "PROXY TCP4 203.0.113.7 192.0.2.1 56324 443\r\n";
  std::string v2h = v2(0x21, 0x11, std::string("\xcb\x00\x71\x07\xc0\x00\x02\x01\xdc\x04\x01\xbb", 12));
  for (const std::string& whole : {v1, v2h}) {
    for (size_t n = 0; n < whole.size(); ++n)
      EXPECT_EQ(parse_proxy_header(whole.substr(0, n)).status, ProxyHeaderStatus::Incomplete) << n;
    EXPECT_EQ(parse_proxy_header(whole).status, ProxyHeaderStatus::Complete);
  }
}

TEST(ProxyProtocol, V1Refusals) {
  for (std::string bad : {
           "GET / HTTP/1.1\r\n",                              // no header at all
           "PROXY TCP4 203.0.113.7 192.0.2.1 56324\r\n",      // a field missing
           "PROXY TCP4 203.0.113.7 192.0.2.1 56324 443 x\r\n",  // one too many
           "PROXY TCP4 203.0.113.7  192.0.2.1 56324 443\r\n",   // double space
           "PROXY TCP4 2001:db8::7 192.0.2.1 56324 443\r\n",    // v6 address as TCP4
           "PROXY TCP4 203.0.113.7 192.0.2.1 65536 443\r\n",    // port out of range
           "PROXY TCP4 203.0.113.7 192.0.2.1 0443 443\r\n",     // leading zero
           "PROXY TCP4 203.0.113.7 192.0.2.1 +443 443\r\n",
           "PROXY UDP4 203.0.113.7 192.0.2.1 1 2\r\n",
           "PROXY TCP4 203.0.113.7 192.0.2.1 1 2\n",            // bare LF
           "proxy TCP4 203.0.113.7 192.0.2.1 1 2\r\n",
       }) {
    auto h = parse_proxy_header(bad);
    EXPECT_EQ(h.status, ProxyHeaderStatus::Malformed) << bad;
    EXPECT_FALSE(h.reason.empty());
  }
  // No CRLF within 107 bytes.
  EXPECT_EQ(parse_proxy_header("PROXY UNKNOWN " + std::string(100, 'x')).status, ProxyHeaderStatus::Malformed);
  EXPECT_EQ(parse_proxy_header("PROXY UNKNOWN " + std::string(91, 'x') + "\r\n").status, ProxyHeaderStatus::Complete);
  EXPECT_EQ(parse_proxy_header("PROXY UNKNOWN " + std::string(92, 'x') + "\r\n").status, ProxyHeaderStatus::Malformed);
}

TEST(ProxyProtocol, V2Tcp4WithTlvs) {
  // 203.0.113.7:56324 -> 192.0.2.1:443, then an ALPN TLV (type 1, length 2, "h2").
  std::string payload("\xcb\x00\x71\x07\xc0\x00\x02\x01\xdc\x04\x01\xbb" "\x01\x00\x02h2", 17);
  std::string head = v2(0x21, 0x11, payload);
  auto h = parse_proxy_header(head + "\x16\x03\x01");
  ASSERT_EQ(h.status, ProxyHeaderStatus::Complete) << h.reason;
  EXPECT_EQ(h.version, 2);
  EXPECT_EQ(h.length, head.size());
  EXPECT_EQ(ip_of(*h.source), "203.0.113.7");
  EXPECT_EQ(port_of(*h.source), 56324);
  EXPECT_EQ(port_of(*h.destination), 443);
}

TEST(ProxyProtocol, V2Tcp6LocalAndUnspec) {
  std::string a(36, '\0');
  a[0] = '\x20', a[1] = '\x01', a[2] = '\x0d', a[3] = '\xb8', a[15] = '\x07';
  a[32] = '\x00', a[33] = '\x50';
  auto h = parse_proxy_header(v2(0x21, 0x21, a));
  ASSERT_EQ(h.status, ProxyHeaderStatus::Complete) << h.reason;
  EXPECT_EQ(ip_of(*h.source), "2001:db8::7");
  EXPECT_EQ(port_of(*h.source), 80);
  // LOCAL (a health check) and UNSPEC: complete, and the connection's own addresses stand.
  auto local = parse_proxy_header(v2(0x20, 0x11, std::string(12, '\x01')));
  ASSERT_EQ(local.status, ProxyHeaderStatus::Complete);
  EXPECT_FALSE(local.source);
  auto unspec = parse_proxy_header(v2(0x21, 0x00, ""));
  ASSERT_EQ(unspec.status, ProxyHeaderStatus::Complete);
  EXPECT_FALSE(unspec.source);
}

TEST(ProxyProtocol, V2Refusals) {
  EXPECT_EQ(parse_proxy_header(v2(0x11, 0x11, std::string(12, '\0'))).status, ProxyHeaderStatus::Malformed);  // version 1
  EXPECT_EQ(parse_proxy_header(v2(0x22, 0x11, std::string(12, '\0'))).status, ProxyHeaderStatus::Malformed);  // command 2
  EXPECT_EQ(parse_proxy_header(v2(0x21, 0x11, std::string(11, '\0'))).status, ProxyHeaderStatus::Malformed);  // short
  EXPECT_EQ(parse_proxy_header(v2(0x21, 0x21, std::string(35, '\0'))).status, ProxyHeaderStatus::Malformed);
  EXPECT_EQ(parse_proxy_header(v2(0x21, 0x31, std::string(216, '\0'))).status, ProxyHeaderStatus::Malformed);  // unix
  EXPECT_EQ(parse_proxy_header(v2(0x21, 0x12, std::string(12, '\0'))).status, ProxyHeaderStatus::Malformed);  // UDP
  // Too long to wait for: refused from its first 16 bytes.
  std::string huge = v2(0x21, 0x11, std::string(kMaxProxyHeaderBytes, '\0'));
  auto h = parse_proxy_header(huge.substr(0, 16));
  EXPECT_EQ(h.status, ProxyHeaderStatus::Malformed);
  EXPECT_NE(h.reason.find("at most"), std::string::npos);
  EXPECT_EQ(parse_proxy_header(std::string("\r\n\r\n\0\r\nQUIT\r", 12)).status, ProxyHeaderStatus::Malformed);
}

}  // namespace
}  // namespace itkd::http
