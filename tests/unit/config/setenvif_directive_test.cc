// mod_setenvif's directives and the env= conditions that read what they set.
#include <gtest/gtest.h>

#include "parse_support.h"

namespace itkd {
namespace {

using test::kBaseConfig;
using test::parse_err;
using test::parse_ok;
using test::parse_vhost;

TEST(SetEnvIfDirectives, AttributesVariablesAndMerge) {
  ServerConfig c = parse_ok(kBaseConfig + "SetEnvIf Request_URI \"^/health$\" dontlog\n"
                                          "<VirtualHost *:80>\nServerName a\nDocumentRoot /srv/a\n"
                                          "SetEnvIf X-Forwarded-Proto ^https$ HTTPS=on\n"
                                          "SetEnvIfNoCase Authorization \"(.+)\" HTTP_AUTHORIZATION=$1 !unwanted\n"
                                          "BrowserMatch \"MSIE [2-6]\" nokeepalive downgrade-1.0\n"
                                          "</VirtualHost>\n");
  const auto& rules = c.vhosts[1].setenvif;
  ASSERT_EQ(rules.size(), 4u);  // the main server's first
  EXPECT_EQ(rules[0].attribute, SetEnvIfRule::Attribute::RequestUri);
  EXPECT_EQ(rules[0].sets[0], (std::pair<std::string, std::optional<std::string>>{"dontlog", "1"}));
  EXPECT_EQ(rules[1].attribute, SetEnvIfRule::Attribute::Header);
  EXPECT_EQ(rules[1].name, "X-Forwarded-Proto");
  EXPECT_EQ(rules[2].sets[0].second, "$1");
  EXPECT_EQ(rules[2].sets[1].second, std::nullopt);
  EXPECT_EQ(rules[3].name, "User-Agent");
  EXPECT_EQ(rules[3].sets.size(), 2u);
  EXPECT_EQ(rules[3].where.line, 9);
}

TEST(SetEnvIfDirectives, RefusedWithFileAndLine) {
  struct Case { std::string line, message; };
  for (const Case& c : std::vector<Case>{
           {"SetEnvIf ^TS.* ^x HAVE_TS", "a regular expression over header names is not supported"},
           {"SetEnvIf X-Ini (.*) PHP_VALUE=$1", "PHP_VALUE"},
           {"SetEnvIf X-Addr (.*) REMOTE_ADDR=$1", "REMOTE_ADDR"},
           {"SetEnvIf X-A (?i)x y", "(?i)"},
           {"SetEnvIf X-A x !y=1", "an unset variable takes no value"},
           {"SetEnvIfExpr \"-R '10.0.0.0/8'\" internal", "not supported yet"},
           {"<Files x>\nSetEnvIf X-A x y\n</Files>", "SetEnvIf not allowed in <Files>"},
       }) {
    std::string err = parse_err(kBaseConfig + "<VirtualHost *:80>\nServerName a\nDocumentRoot /srv/a\n" + c.line +
                                "\n</VirtualHost>\n");
    EXPECT_NE(err.find(c.message), std::string::npos) << c.line << "\n -> " << err;
    EXPECT_NE(err.find("t.conf:"), std::string::npos) << err;
  }
}

TEST(SetEnvIfDirectives, CustomLogAndHeaderConditionsNameAnyVariable) {
  VirtualHost v = parse_vhost("CustomLog /var/log/a.log combined env=!dontlog\n"
                              "CustomLog /var/log/b.log common env=api\n"
                              "Header set X-Internal yes env=internal\n");
  ASSERT_EQ(v.custom_logs.size(), 2u);
  EXPECT_EQ(v.custom_logs[0].env_condition, "dontlog");
  EXPECT_TRUE(v.custom_logs[0].env_negated);
  EXPECT_EQ(v.custom_logs[1].env_condition, "api");
  EXPECT_FALSE(v.custom_logs[1].env_negated);
  ASSERT_EQ(v.header_rules.size(), 1u);
  EXPECT_EQ(v.header_rules[0].condition, HeaderRule::Condition::Set);
  EXPECT_EQ(v.header_rules[0].condition_env, "internal");
}

}  // namespace
}  // namespace itkd
