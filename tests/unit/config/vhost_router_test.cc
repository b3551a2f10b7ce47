#include <arpa/inet.h>
#include <gtest/gtest.h>


#include "config/config_parser.h"
#include "config/vhost_router.h"

namespace itkd {
namespace {

ServerConfig parse_ok(const std::string& text) {
  ParseOptions o;
  o.resolve_identities = false;
  auto r = parse_config_text(text, "r.conf", o);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? std::move(r).value() : ServerConfig{};
}

// vhosts: 1 a.example (*:80), 2 b.example + aliases, 3 wildcard-first, 4 exact-later,
// 5 IP-specific 127.0.0.2:80, 6 second IP-specific, 7 *:8080 only, 8 any-port vhost
// on 127.0.0.3, 9 IPv6 vhost.
const char* kConfig = R"(
Listen 80
Listen 8080
Listen 8081
DocumentRoot /srv/main
<VirtualHost *:80>
  ServerName a.example
</VirtualHost>
<VirtualHost *:80>
  ServerName b.example
  ServerAlias www.b.example *.b.example b?.example
</VirtualHost>
<VirtualHost *:80>
  ServerName first.example
  ServerAlias *.shared.example
</VirtualHost>
<VirtualHost *:80>
  ServerName exact.shared.example
  ServerAlias later.example
</VirtualHost>
<VirtualHost 127.0.0.2:80>
  ServerName ip.example
</VirtualHost>
<VirtualHost 127.0.0.2:80>
  ServerName ip2.example
</VirtualHost>
<VirtualHost *:8080>
  ServerName port8080.example
</VirtualHost>
<VirtualHost 127.0.0.3>
  ServerName anyport.example
</VirtualHost>
<VirtualHost [::1]:80>
  ServerName v6.example
</VirtualHost>
)";

struct Case {
  const char* ip;
  uint16_t port;
  const char* host;
  size_t want;
};

TEST(VhostRouter, HostTable) {
  ServerConfig c = parse_ok(kConfig);
  ASSERT_EQ(c.vhosts.size(), 10u);
  VhostRouter router(c);
  const Case cases[] = {
      {"127.0.0.1", 80, "a.example", 1},
      {"127.0.0.1", 80, "A.EXAMPLE", 1},           // case-insensitive
      {"127.0.0.1", 80, "a.example.", 1},          // trailing dot
      {"127.0.0.1", 80, "b.example", 2},
      {"127.0.0.1", 80, "www.b.example", 2},       // exact alias
      {"127.0.0.1", 80, "x.y.b.example", 2},       // * spans dots
      {"127.0.0.1", 80, "b.example.com", 1},       // no match: first vhost is default
      {"127.0.0.1", 80, "b1.example", 2},          // ?
      {"127.0.0.1", 80, "b12.example", 1},         // ? is exactly one character
      {"127.0.0.1", 80, "", 1},                    // no Host: default
      {"127.0.0.1", 80, "unknown", 1},
      {"127.0.0.1", 80, "exact.shared.example", 3},  // earlier wildcard beats later exact
      {"127.0.0.1", 80, "later.example", 4},
      {"127.0.0.1", 80, "first.example", 3},
      {"127.0.0.2", 80, "ip.example", 5},          // IP-specific
      {"127.0.0.2", 80, "ip2.example", 6},
      {"127.0.0.2", 80, "a.example", 5},           // IP match excludes * vhosts
      {"127.0.0.2", 80, "", 5},
      {"127.0.0.1", 8080, "a.example", 7},         // port separation
      {"127.0.0.1", 8080, "", 7},
      {"127.0.0.2", 8080, "ip.example", 7},        // no IP vhost on 8080: * ones
      {"127.0.0.1", 8081, "a.example", 0},         // nothing on 8081: main server
      {"127.0.0.3", 8081, "x", 8},                 // any-port IP vhost
      {"127.0.0.3", 80, "a.example", 8},
      {"127.0.0.3", 12345, "a.example", 8},        // port not in config at all
      {"10.9.9.9", 12345, "a.example", 0},
      {"::ffff:127.0.0.2", 80, "ip2.example", 6},  // IPv4-mapped local address
      {"::1", 80, "whatever", 9},
      {"0:0::1", 80, "v6.example", 9},
      {"::2", 80, "b.example", 2},
  };
  for (const auto& k : cases) {
    EXPECT_EQ(router.route(k.ip, k.port, k.host), k.want) << k.ip << ":" << k.port << " " << k.host;
  }
}

TEST(VhostRouter, SockaddrForms) {
  ServerConfig c = parse_ok(kConfig);
  VhostRouter router(c);
  sockaddr_storage ss{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  v4->sin_family = AF_INET;
  v4->sin_port = htons(80);
  inet_pton(AF_INET, "127.0.0.2", &v4->sin_addr);
  EXPECT_EQ(router.route(ss, "ip2.example"), 6u);

  sockaddr_storage ss6{};
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss6);
  v6->sin6_family = AF_INET6;
  v6->sin6_port = htons(80);
  inet_pton(AF_INET6, "::ffff:127.0.0.2", &v6->sin6_addr);
  EXPECT_EQ(router.route(ss6, "ip.example"), 5u);
  inet_pton(AF_INET6, "::1", &v6->sin6_addr);
  EXPECT_EQ(router.route(ss6, ""), 9u);
  v6->sin6_port = htons(8080);
  EXPECT_EQ(router.route(ss6, "port8080.example"), 7u);
}

TEST(VhostRouter, DefaultVhostPerAddress) {
  ServerConfig c = parse_ok(R"(
Listen 80
DocumentRoot /srv
<VirtualHost _default_:80>
  ServerName dflt.example
</VirtualHost>
<VirtualHost *:80>
  ServerName named.example
</VirtualHost>
)");
  VhostRouter router(c);
  EXPECT_EQ(router.route("192.0.2.1", 80, "named.example"), 2u);
  EXPECT_EQ(router.route("192.0.2.1", 80, "other"), 1u);
}

TEST(VhostRouter, MainServerWhenNoVhosts) {
  ServerConfig c = parse_ok("Listen 80\nDocumentRoot /srv\n");
  VhostRouter router(c);
  EXPECT_EQ(router.route("127.0.0.1", 80, "x"), 0u);
}

TEST(VhostRouter, ServerNameIsNotAWildcard) {
  ServerConfig c = parse_ok("Listen 80\nDocumentRoot /srv\n<VirtualHost *:80>\nServerName d\n</VirtualHost>\n"
                            "<VirtualHost *:80>\nServerName *.example\n</VirtualHost>\n");
  VhostRouter router(c);
  EXPECT_EQ(router.route("127.0.0.1", 80, "a.example"), 1u);
  EXPECT_EQ(router.route("127.0.0.1", 80, "*.example"), 2u);
}

// Correctness at scale; speed is measured in bench/scale.sh, never asserted here.
TEST(VhostRouter, TenThousandVhostsRoute) {
  std::string text = "Listen 80\nListen 443\nDocumentRoot /srv\n";
  for (int i = 0; i < 10000; ++i) {
    text += "<VirtualHost *:80 *:443>\nServerName site" + std::to_string(i) +
            ".example\nServerAlias www.site" + std::to_string(i) + ".example\n</VirtualHost>\n";
  }
  text += "<VirtualHost *:80>\nServerName tail\nServerAlias *.wild.example\n</VirtualHost>\n";
  ServerConfig c = parse_ok(text);
  ASSERT_EQ(c.vhosts.size(), 10002u);
  VhostRouter router(c);
  size_t sum = 0;
  for (int round = 0; round < 10; ++round) {
    for (int i = 0; i < 10000; i += 7) {
      sum += router.route("127.0.0.1", 80, "www.site" + std::to_string(i) + ".example");
    }
    sum += router.route("127.0.0.1", 80, "x.wild.example");
  }
  EXPECT_EQ(router.route("127.0.0.1", 80, "site9999.example"), 10000u);
  EXPECT_EQ(router.route("127.0.0.1", 443, "www.site5.example"), 6u);
  EXPECT_EQ(router.route("127.0.0.1", 80, "a.wild.example"), 10001u);
  EXPECT_EQ(router.route("127.0.0.1", 443, "a.wild.example"), 1u);
  EXPECT_GT(sum, 0u);
}

TEST(HostMatchesPattern, Wildcards) {
  EXPECT_TRUE(host_matches_pattern("*.example.com", "www.example.com"));
  EXPECT_TRUE(host_matches_pattern("*.example.com", "a.b.example.com"));
  EXPECT_FALSE(host_matches_pattern("*.example.com", "example.com"));
  EXPECT_TRUE(host_matches_pattern("www.example.*", "www.example.org"));
  EXPECT_TRUE(host_matches_pattern("w?w.example.com", "wxw.example.com"));
  EXPECT_FALSE(host_matches_pattern("w?w.example.com", "ww.example.com"));
  EXPECT_TRUE(host_matches_pattern("*", ""));
  EXPECT_TRUE(host_matches_pattern("a*b*c", "aXXbYYc"));
  EXPECT_FALSE(host_matches_pattern("a*b*c", "aXXbYY"));
  EXPECT_TRUE(host_matches_pattern("*.example.com", "WWW.EXAMPLE.COM"));
  EXPECT_FALSE(host_matches_pattern("", "a"));
  EXPECT_TRUE(host_matches_pattern("**a", "bba"));
}

}  // namespace
}  // namespace itkd
