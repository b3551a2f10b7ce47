// mod_expires' directives: codes in both syntaxes, scopes, merging, refusals.
#include <gtest/gtest.h>

#include "config/config_parser.h"
#include "config/parse_support.h"
#include "config/expires_rules.h"

namespace itkd {
namespace {

using test::parse_err;
using test::parse_ok;
const std::string& kBase = test::kBaseConfig;

TEST(ExpiresCode, BothSyntaxes) {
  EXPECT_EQ(*parse_expires_code("A3600"), (ExpiresRule{false, 3600}));
  EXPECT_EQ(*parse_expires_code("M0"), (ExpiresRule{true, 0}));
  EXPECT_EQ(*parse_expires_code("access plus 1 month"), (ExpiresRule{false, 30 * 86400}));
  EXPECT_EQ(*parse_expires_code("now plus 1 year 2 days"), (ExpiresRule{false, 367 * 86400}));
  EXPECT_EQ(*parse_expires_code("modification plus 5 hours 3 minutes"), (ExpiresRule{true, 5 * 3600 + 180}));
  EXPECT_EQ(*parse_expires_code("access 1 week"), (ExpiresRule{false, 7 * 86400}));  // "plus" is optional
  EXPECT_EQ(*parse_expires_code("Access Plus 10 Seconds"), (ExpiresRule{false, 10}));
  EXPECT_EQ(*parse_expires_code("access plus 1 mo 1 mi"), (ExpiresRule{false, 30 * 86400 + 60}));
}

TEST(ExpiresCode, Refused) {
  EXPECT_NE(parse_expires_code("later plus 1 day").error().message.find("base 'later'"), std::string::npos);
  EXPECT_NE(parse_expires_code("access plus 1 fortnight").error().message.find("unknown unit 'fortnight'"),
            std::string::npos);
  EXPECT_NE(parse_expires_code("access plus 3").error().message.find("3 of what?"), std::string::npos);
  EXPECT_NE(parse_expires_code("access plus").error().message.find("no interval"), std::string::npos);
  EXPECT_FALSE(parse_expires_code("A-5").ok());
  EXPECT_FALSE(parse_expires_code("Aforever").ok());
  EXPECT_FALSE(parse_expires_code("access plus 1000 years").ok());
  EXPECT_FALSE(parse_expires_code("access plus m days").ok());
  EXPECT_FALSE(parse_expires_code("").ok());
}

TEST(ExpiresDirective, ScopesAndMerge) {
  auto c = parse_ok(kBase + "ExpiresActive On\nExpiresByType text/css \"access plus 1 day\"\n"
                            "<VirtualHost *:80>\nServerName a\nExpiresByType TEXT/CSS A60\n"
                            "ExpiresDefault \"access plus 1 hour\"\n"
                            "<Directory /srv/a/static>\nExpiresByType image/* \"modification plus 1 week\"\n</Directory>\n"
                            "<FilesMatch \"\\.html$\">\nExpiresActive Off\n</FilesMatch>\n</VirtualHost>\n"
                            "<VirtualHost *:80>\nServerName b\nExpiresActive Off\n</VirtualHost>\n");
  const VirtualHost& a = c.vhosts[1];
  EXPECT_TRUE(a.expires.active.value_or(false));  // inherited
  EXPECT_EQ(a.expires.by_type.at("text/css").seconds, 60);  // own wins, lowercased
  EXPECT_EQ(a.expires.default_rule->seconds, 3600);
  EXPECT_TRUE(a.has_expires);
  ASSERT_EQ(a.directories.size(), 1u);
  EXPECT_TRUE(a.directories[0].expires.by_type.at("image/*").from_modification);
  EXPECT_FALSE(*a.files_blocks[0].expires.active);
  const VirtualHost& b = c.vhosts[2];
  EXPECT_FALSE(b.expires.active.value_or(true));
  EXPECT_EQ(b.expires.by_type.at("text/css").seconds, 86400);
  EXPECT_FALSE(b.has_expires);
}

TEST(ExpiresDirective, InsideIfModuleIsRead) {
  auto c = parse_ok(kBase + "<IfModule mod_expires.c>\nExpiresActive on\nExpiresDefault A300\n</IfModule>\n");
  EXPECT_TRUE(c.vhosts[0].has_expires);
}

TEST(ExpiresDirective, RefusedWithFileAndLine) {
  EXPECT_NE(parse_err(kBase + "ExpiresActive maybe\n").find("t.conf:3: ExpiresActive takes On or Off"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "ExpiresByType css A60\n").find("t.conf:3: ExpiresByType: 'css' is not a MIME type"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "ExpiresDefault \"access plus 2 fortnights\"\n").find("t.conf:3: ExpiresDefault"),
            std::string::npos);
}

}  // namespace
}  // namespace itkd
