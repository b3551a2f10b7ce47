// RemoteIPHeader: which address of X-Forwarded-For becomes the client, and when none does.
#include "worker/remote_ip.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <string>
#include <vector>

#include "common/socket_address.h"

namespace itkd {
namespace {

sockaddr_storage v4(const char* ip, uint16_t port = 5000) {
  sockaddr_storage ss{};
  auto* in = reinterpret_cast<sockaddr_in*>(&ss);
  in->sin_family = AF_INET;
  in->sin_port = htons(port);
  ::inet_pton(AF_INET, ip, &in->sin_addr);
  return ss;
}

RemoteIpSettings settings(std::vector<std::string> internal, std::vector<std::string> trusted = {}) {
  RemoteIpSettings s;
  s.header = "X-Forwarded-For";
  for (auto& i : internal) s.internal_proxies.push_back(*parse_ip_range(i));
  for (auto& t : trusted) s.trusted_proxies.push_back(*parse_ip_range(t));
  return s;
}

// The client for a request from `peer` with these header fields, "" if unchanged.
std::string client(const RemoteIpSettings& s, const char* peer, std::vector<std::pair<std::string, std::string>> fields) {
  http::RequestHead head;
  for (auto& [n, v] : fields) head.fields.push_back({n, v});
  auto c = client_from_proxy_header(s, v4(peer), head);
  return c ? address_ip(*c) : "";
}

TEST(RemoteIp, FromAListedProxy) {
  auto s = settings({"10.0.0.0/8"});
  EXPECT_EQ(client(s, "10.0.0.5", {{"X-Forwarded-For", "203.0.113.7"}}), "203.0.113.7");
  EXPECT_EQ(client(s, "10.0.0.5", {{"x-forwarded-for", " 203.0.113.7 "}}), "203.0.113.7");
}

TEST(RemoteIp, NotFromAProxyChangesNothing) {
  auto s = settings({"10.0.0.0/8"});
  // A client that writes the header itself: ignored.
  EXPECT_EQ(client(s, "198.51.100.1", {{"X-Forwarded-For", "127.0.0.1"}}), "");
  EXPECT_EQ(client(s, "10.0.0.5", {}), "");
}

TEST(RemoteIp, WalksFromTheRightThroughProxies) {
  auto s = settings({"10.0.0.0/8"});
  // The client's own claim (1.2.3.4) sits left of what our proxies added.
  EXPECT_EQ(client(s, "10.0.0.5", {{"X-Forwarded-For", "1.2.3.4, 203.0.113.7, 10.0.0.9"}}), "203.0.113.7");
  // Two fields are one list, in order.
  EXPECT_EQ(client(s, "10.0.0.5", {{"X-Forwarded-For", "1.2.3.4"}, {"X-Forwarded-For", "203.0.113.8, 10.0.0.9"}}),
            "203.0.113.8");
  // All proxies: the leftmost.
  EXPECT_EQ(client(s, "10.0.0.5", {{"X-Forwarded-For", "10.1.1.1, 10.2.2.2"}}), "10.1.1.1");
  EXPECT_EQ(client(s, "10.0.0.5", {{"X-Forwarded-For", "[2001:db8::7]"}}), "2001:db8::7");
}

TEST(RemoteIp, GarbageStopsTheWalk) {
  auto s = settings({"10.0.0.0/8"});
  EXPECT_EQ(client(s, "10.0.0.5", {{"X-Forwarded-For", "203.0.113.7, unknown"}}), "");
  EXPECT_EQ(client(s, "10.0.0.5", {{"X-Forwarded-For", "203.0.113.7, unknown, 10.0.0.9"}}), "10.0.0.9");
}

TEST(RemoteIp, TrustedProxiesDontVouchForPrivateAddresses) {
  auto s = settings({}, {"198.51.100.0/24"});
  EXPECT_EQ(client(s, "198.51.100.1", {{"X-Forwarded-For", "203.0.113.7"}}), "203.0.113.7");
  EXPECT_EQ(client(s, "198.51.100.1", {{"X-Forwarded-For", "192.168.1.10"}}), "");
  EXPECT_EQ(client(s, "198.51.100.1", {{"X-Forwarded-For", "127.0.0.1"}}), "");
  auto internal = settings({"198.51.100.0/24"});
  EXPECT_EQ(client(internal, "198.51.100.1", {{"X-Forwarded-For", "192.168.1.10"}}), "192.168.1.10");
}

TEST(RemoteIp, KeepsTheConnectionsPort) {
  auto s = settings({"10.0.0.0/8"});
  http::RequestHead head;
  head.fields.push_back({"X-Forwarded-For", "203.0.113.7"});
  auto c = client_from_proxy_header(s, v4("10.0.0.5", 4711), head);
  ASSERT_TRUE(c);
  EXPECT_EQ(address_port(*c), 4711);
}

}  // namespace
}  // namespace itkd
