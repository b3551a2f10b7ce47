// mod_remoteip's RemoteIPProxyProtocol: which listeners expect a PROXY header.
#include <gtest/gtest.h>
#include <netinet/in.h>

#include "parse_support.h"

namespace itkd {
namespace {

using test::parse_err;
using test::parse_ok;

const std::string kTwoListeners = "Listen 80\nListen 8080\nDocumentRoot /srv/main\n";

TEST(RemoteIPProxyProtocol, OffByDefault) {
  ServerConfig c = parse_ok(kTwoListeners);
  for (const Listener& l : c.listeners) EXPECT_FALSE(l.proxy_protocol);
}

TEST(RemoteIPProxyProtocol, ServerLevelCoversEveryListener) {
  ServerConfig c = parse_ok(kTwoListeners + "RemoteIPProxyProtocol On\nRemoteIPProxyProtocolExceptions 10.0.0.0/8\n");
  ASSERT_EQ(c.listeners.size(), 2u);
  for (const Listener& l : c.listeners) {
    EXPECT_TRUE(l.proxy_protocol);
    ASSERT_EQ(l.proxy_protocol_exceptions.size(), 1u);
  }
  sockaddr_storage inside{}, outside{};
  auto* a = reinterpret_cast<sockaddr_in*>(&inside);
  a->sin_family = AF_INET;
  a->sin_addr.s_addr = htonl(0x0a010203);  // 10.1.2.3
  auto* b = reinterpret_cast<sockaddr_in*>(&outside);
  b->sin_family = AF_INET;
  b->sin_addr.s_addr = htonl(0xc0000201);  // 192.0.2.1
  EXPECT_TRUE(address_in_ranges(inside, c.listeners[0].proxy_protocol_exceptions));
  EXPECT_FALSE(address_in_ranges(outside, c.listeners[0].proxy_protocol_exceptions));
  EXPECT_NE(describe_config(c).find("Listen *:80 (http, PROXY header required except from 10.0.0.0/8)"),
            std::string::npos)
      << describe_config(c);
}

TEST(RemoteIPProxyProtocol, AVhostTurnsItOnForItsListenerOnly) {
  ServerConfig c = parse_ok(kTwoListeners +
                            "<VirtualHost *:8080>\nServerName lb.example\nRemoteIPProxyProtocol On\n</VirtualHost>\n"
                            "<VirtualHost *:80>\nServerName direct.example\n</VirtualHost>\n");
  ASSERT_EQ(c.listeners.size(), 2u);
  EXPECT_FALSE(c.listeners[0].proxy_protocol);
  EXPECT_TRUE(c.listeners[1].proxy_protocol);
}

TEST(RemoteIPProxyProtocol, BadValuesNameTheLine) {
  EXPECT_NE(parse_err(kTwoListeners + "RemoteIPProxyProtocol Maybe\n").find("t.conf:4:"), std::string::npos);
  std::string e = parse_err(kTwoListeners + "RemoteIPProxyProtocolExceptions lb.example\n");
  EXPECT_NE(e.find("t.conf:4: RemoteIPProxyProtocolExceptions:"), std::string::npos) << e;
  EXPECT_NE(e.find("not an IP address"), std::string::npos) << e;
  EXPECT_NE(parse_err(kTwoListeners + "<Directory /srv>\nRemoteIPProxyProtocol On\n</Directory>\n").find("t.conf:5:"),
            std::string::npos);
}

TEST(RemoteIPHeader, InheritedAndNeedsAProxyList) {
  ServerConfig c = parse_ok(kTwoListeners + "RemoteIPHeader X-Forwarded-For\nRemoteIPInternalProxy 10.0.0.0/8\n" +
                            "<VirtualHost *:80>\nServerName a\n</VirtualHost>\n"
                            "<VirtualHost *:80>\nServerName b\nRemoteIPTrustedProxy 198.51.100.0/24\n</VirtualHost>\n");
  ASSERT_EQ(c.vhosts.size(), 3u);
  EXPECT_EQ(c.vhosts[1].remote_ip.header, "X-Forwarded-For");
  EXPECT_EQ(c.vhosts[1].remote_ip.internal_proxies.size(), 1u);
  EXPECT_EQ(c.vhosts[2].remote_ip.trusted_proxies.size(), 1u);
  std::string e = parse_err(kTwoListeners + "<VirtualHost *:80>\nServerName a\nRemoteIPHeader X-Real-IP\n</VirtualHost>\n");
  EXPECT_NE(e.find("t.conf:6: RemoteIPHeader X-Real-IP needs RemoteIPInternalProxy or RemoteIPTrustedProxy"),
            std::string::npos)
      << e;
  EXPECT_NE(parse_err(kTwoListeners + "RemoteIPHeader X-Forwarded-For\nRemoteIPInternalProxyList /etc/x\n")
                .find("t.conf:5: RemoteIPInternalProxyList is not supported yet"),
            std::string::npos);
}

}  // namespace
}  // namespace itkd
