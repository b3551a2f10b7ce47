// mod_rewrite's directives as written in Apache configs: what loads, and what is refused
// with file:line instead of doing nothing.
#include <gtest/gtest.h>

#include "config/rewrite_rules.h"
#include "parse_support.h"

namespace itkd {
namespace {

using test::kBaseConfig;
using test::parse_err;
using test::parse_ok;
using test::parse_vhost;

TEST(RewriteDirectives, WordPressBlockInADirectory) {
  VirtualHost v = parse_vhost(
      "<Directory /srv/a>\n<IfModule mod_rewrite.c>\nRewriteEngine On\nRewriteBase /\n"
      "RewriteRule ^index\\.php$ - [L]\nRewriteCond %{REQUEST_FILENAME} !-f\nRewriteCond %{REQUEST_FILENAME} !-d\n"
      "RewriteRule . /index.php [L]\n</IfModule>\n</Directory>\n");
  ASSERT_FALSE(v.directories.empty());
  const RewriteSettings& r = v.directories.back().rewrite;
  EXPECT_TRUE(r.engine.value_or(false));
  ASSERT_TRUE(r.base);
  EXPECT_EQ(*r.base, "/");
  ASSERT_EQ(r.rules.size(), 2u);
  EXPECT_TRUE(r.rules[0].no_substitution);
  EXPECT_TRUE(r.rules[0].last);
  EXPECT_TRUE(r.rules[0].conditions.empty());
  ASSERT_EQ(r.rules[1].conditions.size(), 2u);
  EXPECT_EQ(r.rules[1].conditions[0].test, RewriteCondition::Test::File);
  EXPECT_TRUE(r.rules[1].conditions[0].negate);
  EXPECT_EQ(r.rules[1].conditions[1].test, RewriteCondition::Test::Directory);
  EXPECT_EQ(r.rules[1].where.line, 13);
  EXPECT_TRUE(v.has_rewrite);
}

TEST(RewriteDirectives, VhostRulesAndFlags) {
  VirtualHost v = parse_vhost("RewriteEngine on\nRewriteCond %{HTTPS} !=on\n"
                              "RewriteRule ^/?(.*) https://%{SERVER_NAME}/$1 [R=301,L,NE]\n"
                              "RewriteRule ^/p/([0-9]+)$ /index.php?p=$1 [QSA,NC,E=FROM_RULE:$1]\n");
  ASSERT_EQ(v.rewrite.rules.size(), 2u);
  const RewriteRuleSpec& r = v.rewrite.rules[0];
  EXPECT_EQ(r.status, 301);
  EXPECT_TRUE(r.redirect && r.last && r.no_escape);
  EXPECT_EQ(r.conditions[0].test, RewriteCondition::Test::StringEqual);
  EXPECT_EQ(r.conditions[0].operand, "on");
  EXPECT_TRUE(v.rewrite.rules[1].qsa && v.rewrite.rules[1].nocase);
  ASSERT_EQ(v.rewrite.rules[1].env.size(), 1u);
  EXPECT_EQ(v.rewrite.rules[1].env[0].first, "FROM_RULE");
  EXPECT_TRUE(v.has_rewrite);
  EXPECT_FALSE(parse_vhost("RewriteRule ^/a /b\n").has_rewrite);  // no RewriteEngine On
}

TEST(RewriteDirectives, TemplatesKnowBackreferencesVariablesAndEscapes) {
  auto t = parse_rewrite_template("/x/$1/%2/%{HTTP:X-Y}/%{ENV:REDIRECT_STATUS}/\\$3/%{request_uri}");
  ASSERT_TRUE(t.ok()) << t.error().message;
  using K = RewritePart::Kind;
  std::vector<K> kinds;
  for (const RewritePart& p : *t) kinds.push_back(p.kind);
  EXPECT_EQ(kinds, (std::vector<K>{K::Text, K::RuleGroup, K::Text, K::CondGroup, K::Text, K::Header, K::Text, K::Env,
                                   K::Text, K::Variable}));
  EXPECT_EQ((*t)[8].text, "/$3/");
  EXPECT_EQ((*t)[9].text, "REQUEST_URI");
}

TEST(RewriteDirectives, WhatItkdCannotDoIsRefusedWithFileAndLine) {
  struct Case { std::string line, message; int at = 6; };
  for (const Case& c : std::vector<Case>{
           {"RewriteRule ^/a http://b/ [P]", "[P] (proxying) is not supported"},
           {"RewriteRule ^/a /b [N]", "[N] (restart the rules) is not supported"},
           {"RewriteRule ^/a /b [CO=x:y:z]", "flag 'CO=x:y:z' is not supported"},
           {"RewriteRule ^/a /b L", "flags must be written in brackets"},
           {"RewriteRule ^/a ${map:x}", "RewriteMap"},
           {"RewriteMap m txt:/etc/m.txt", "RewriteMap is not supported"},
           {"RewriteCond %{SSL:SSL_CIPHER} x\nRewriteRule ^ -", "mod_ssl variables"},
           {"RewriteCond %{NO_SUCH_THING} x\nRewriteRule ^ -", "not a variable mod_rewrite knows"},
           {"RewriteCond %{HTTP_HOST} (?i)x\nRewriteRule ^ -", "(?i)"},
           {"RewriteRule ^/(a+?) /b", "lazy"},
           {"RewriteRule ^/a /b [R=200]", "a redirect takes a 3xx status"},
           {"RewriteRule ^/a /b [E=PHP_VALUE:x]", "PHP_VALUE"},
           {"RewriteRule ^/a - [R]", "nowhere to redirect to"},
           {"RewriteBase /", "not allowed in <VirtualHost>"},
           {"RewriteOptions AllowNoSlash", "not supported"},
           {"<Location /x>\nRewriteRule ^ /y\n</Location>", "RewriteRule not allowed in <Location>", 7},
           {"<DirectoryMatch ^/srv/a>\nRewriteEngine On\n</DirectoryMatch>", "<DirectoryMatch> is not supported", 7},
       }) {
    std::string err = parse_err(kBaseConfig + "<VirtualHost *:80>\nServerName a\nDocumentRoot /srv/a\n" + c.line +
                                "\n</VirtualHost>\n");
    EXPECT_NE(err.find(c.message), std::string::npos) << c.line << "\n -> " << err;
    EXPECT_NE(err.find("t.conf:" + std::to_string(c.at) + ":"), std::string::npos) << c.line << "\n -> " << err;
  }
}

TEST(RewriteDirectives, HttpAuthorizationMayBeSetForScripts) {
  VirtualHost v = parse_vhost("RewriteEngine On\nRewriteRule .* - [E=HTTP_AUTHORIZATION:%{HTTP:Authorization}]\n");
  ASSERT_EQ(v.rewrite.rules.size(), 1u);
  EXPECT_EQ(v.rewrite.rules[0].env[0].first, "HTTP_AUTHORIZATION");
}

TEST(RewriteDirectives, AConditionWithoutItsRuleIsAWarning) {
  ServerConfig c = parse_ok(kBaseConfig + "<VirtualHost *:80>\nServerName a\nDocumentRoot /srv/a\n"
                                          "RewriteEngine On\nRewriteCond %{HTTPS} off\n</VirtualHost>\n");
  bool warned = false;
  for (const std::string& w : c.warnings)
    warned |= w.find("t.conf:7: RewriteCond ignored: no RewriteRule follows it") != std::string::npos;
  EXPECT_TRUE(warned);
}

TEST(RewriteDirectives, MainServerRulesReachVhostsThatAskForThem) {
  std::string main = kBaseConfig + "RewriteEngine On\nRewriteRule ^/m$ /main\n";
  auto vhost = [&](const std::string& global, const std::string& inside) {
    ServerConfig c = parse_ok(global + "<VirtualHost *:80>\nServerName a\nDocumentRoot /srv/a\n" + inside +
                              "</VirtualHost>\n");
    return c.vhosts[1].rewrite.rules.size();
  };
  EXPECT_EQ(vhost(main, "RewriteRule ^/v$ /own\n"), 1u);
  EXPECT_EQ(vhost(main, "RewriteOptions Inherit\nRewriteRule ^/v$ /own\n"), 2u);
  EXPECT_EQ(vhost(main + "RewriteOptions InheritDown\n", "RewriteRule ^/v$ /own\n"), 2u);
  ServerConfig c = parse_ok(main + "<VirtualHost *:80>\nServerName a\nRewriteOptions InheritBefore\n"
                                   "RewriteRule ^/v$ /own\n</VirtualHost>\n");
  EXPECT_EQ(c.vhosts[1].rewrite.rules[0].pattern, "^/m$");
}

}  // namespace
}  // namespace itkd
