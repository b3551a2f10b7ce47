// mod_headers' Header directive: where rules land, and the lines that must not load.
#include <gtest/gtest.h>

#include "config/config_parser.h"
#include "config/parse_support.h"

namespace itkd {
namespace {

using test::parse_err;
using test::parse_ok;
const std::string& kBase = test::kBaseConfig;

TEST(HeaderDirective, LandsInEachScopeInOrder) {
  auto c = parse_ok(kBase +
                    "Header always set Strict-Transport-Security \"max-age=63072000; includeSubDomains\"\n"
                    "<VirtualHost *:80>\nServerName a\nHeader set X-Frame-Options SAMEORIGIN\n"
                    "<Directory /srv/a>\nHeader append Cache-Control no-transform\n</Directory>\n"
                    "<FilesMatch \"\\.css$\">\nHeader merge Vary Accept-Encoding\n</FilesMatch>\n"
                    "<Location /api>\nHeader unset X-Powered-By\n</Location>\n"
                    "</VirtualHost>\n"
                    "<VirtualHost *:80>\nServerName b\n</VirtualHost>\n");
  ASSERT_EQ(c.vhosts.size(), 3u);
  const VirtualHost& a = c.vhosts[1];
  ASSERT_EQ(a.header_rules.size(), 2u);  // the main server's first
  EXPECT_TRUE(a.header_rules[0].always);
  EXPECT_EQ(a.header_rules[0].name, "Strict-Transport-Security");
  ASSERT_EQ(a.header_rules[0].value.size(), 1u);
  EXPECT_EQ(a.header_rules[0].value[0].text, "max-age=63072000; includeSubDomains");
  EXPECT_FALSE(a.header_rules[1].always);
  EXPECT_EQ(a.header_rules[1].action, HeaderRule::Action::Set);
  ASSERT_EQ(a.directories.size(), 1u);
  ASSERT_EQ(a.directories[0].header_rules.size(), 1u);
  EXPECT_EQ(a.directories[0].header_rules[0].action, HeaderRule::Action::Append);
  ASSERT_EQ(a.files_blocks.size(), 1u);
  EXPECT_EQ(a.files_blocks[0].header_rules[0].action, HeaderRule::Action::Merge);
  ASSERT_EQ(a.locations.size(), 1u);
  EXPECT_EQ(a.locations[0].header_rules[0].action, HeaderRule::Action::Unset);
  EXPECT_TRUE(a.has_header_rules);
  EXPECT_EQ(c.vhosts[2].header_rules.size(), 1u);  // inherits the global one only
  EXPECT_TRUE(c.vhosts[2].has_header_rules);
}

TEST(HeaderDirective, NoRulesNoFlag) {
  auto c = parse_ok(kBase + "<VirtualHost *:80>\nServerName a\n</VirtualHost>\n");
  EXPECT_FALSE(c.vhosts[0].has_header_rules);
  EXPECT_FALSE(c.vhosts[1].has_header_rules);
}

TEST(HeaderDirective, FormsApacheAccepts) {
  auto c = parse_ok(kBase + "Header onsuccess set X-A \"%t %D 100%%\"\n"
                            "Header edit Set-Cookie ^(.*)$ \"$1; HttpOnly; Secure\"\n"
                            "Header always edit* Link \"http:\" \"https:\"\n"
                            "Header echo ^X-Req-\n"
                            "Header setifempty Cache-Control private env=HTTPS\n"
                            "Header always set X-Plain on env=!HTTPS\n"
                            "Header set X-Colon: yes\n");
  const auto& r = c.vhosts[0].header_rules;
  ASSERT_EQ(r.size(), 7u);
  ASSERT_EQ(r[0].value.size(), 4u);
  EXPECT_EQ(r[0].value[0].kind, HeaderValuePart::Kind::RequestTime);
  EXPECT_EQ(r[0].value[1].text, " ");
  EXPECT_EQ(r[0].value[2].kind, HeaderValuePart::Kind::Duration);
  EXPECT_EQ(r[0].value[3].text, " 100%");
  EXPECT_EQ(r[1].action, HeaderRule::Action::Edit);
  EXPECT_EQ(r[1].replacement, "$1; HttpOnly; Secure");
  EXPECT_EQ(r[2].action, HeaderRule::Action::EditAll);
  EXPECT_TRUE(r[2].always);
  EXPECT_EQ(r[3].action, HeaderRule::Action::Echo);
  EXPECT_EQ(r[4].condition, HeaderRule::Condition::Set);
  EXPECT_EQ(r[4].condition_env, "HTTPS");
  EXPECT_EQ(r[5].condition, HeaderRule::Condition::Unset);
  EXPECT_EQ(r[5].condition_env, "HTTPS");
  EXPECT_EQ(r[6].name, "X-Colon");
}

TEST(HeaderDirective, RefusedWithReasonAndLine) {
  EXPECT_NE(parse_err(kBase + "Header frob X-A b\n").find("t.conf:3: unknown Header action 'frob'"), std::string::npos);
  EXPECT_NE(parse_err(kBase + "Header set X-A\n").find("needs a value"), std::string::npos);
  EXPECT_NE(parse_err(kBase + "Header edit X-A ^a\n").find("needs a regular expression and a replacement"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "Header edit X-A \"(\" b\n").find("bad regular expression"), std::string::npos);
  EXPECT_NE(parse_err(kBase + "Header set X-A \"%{HOME}e\"\n").find("%{HOME}e is not supported"), std::string::npos);
  EXPECT_NE(parse_err(kBase + "Header set X-A b env=\n").find("env= takes a variable name"), std::string::npos);
  EXPECT_NE(parse_err(kBase + "Header set X-A b \"expr=%{REQUEST_URI} =~ /x/\"\n").find("expr= conditions"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "Header set X-A b early\n").find("early"), std::string::npos);
  EXPECT_NE(parse_err(kBase + "Header set \"X A\" b\n").find("not a valid header name"), std::string::npos);
  EXPECT_NE(parse_err(kBase + "Header set X-A b c\n").find("env=[!]NAME, or quotes"), std::string::npos);
  EXPECT_NE(parse_err(kBase + "Header note X-A n\n").find("not supported"), std::string::npos);
  EXPECT_NE(parse_err(kBase + "Header set X-A 50%\n").find("lone %"), std::string::npos);
}

TEST(HeaderDirective, ServerOwnedHeadersWarnAndDrop) {
  auto c = parse_ok(kBase + "Header unset Server\nHeader set content-length 5\nHeader set X-Ok 1\n");
  ASSERT_EQ(c.vhosts[0].header_rules.size(), 1u);
  EXPECT_EQ(c.vhosts[0].header_rules[0].name, "X-Ok");
  ASSERT_EQ(c.warnings.size(), 2u);
  EXPECT_NE(c.warnings[0].find("t.conf:3: Header Server ignored"), std::string::npos);
}

TEST(RequestHeaderDirective, VhostAndLocationOnly) {
  auto c = parse_ok(kBase + "RequestHeader unset Proxy early\n"
                            "<VirtualHost *:80>\nServerName a\nRequestHeader set X-Forwarded-Proto https\n"
                            "<Location /api>\nRequestHeader edit* Cookie \"tracking=[^;]*;? ?\" \"\"\n</Location>\n"
                            "</VirtualHost>\n");
  const VirtualHost& a = c.vhosts[1];
  ASSERT_EQ(a.request_header_rules.size(), 2u);
  EXPECT_EQ(a.request_header_rules[0].name, "Proxy");
  EXPECT_EQ(a.request_header_rules[0].action, HeaderRule::Action::Unset);
  EXPECT_TRUE(a.request_header_rules[0].always);
  EXPECT_EQ(a.request_header_rules[1].name, "X-Forwarded-Proto");
  ASSERT_EQ(a.locations.size(), 1u);
  ASSERT_EQ(a.locations[0].request_header_rules.size(), 1u);
  EXPECT_EQ(a.locations[0].request_header_rules[0].action, HeaderRule::Action::EditAll);
  EXPECT_TRUE(a.has_request_header_rules);
  EXPECT_FALSE(a.has_header_rules);
}

TEST(RequestHeaderDirective, Refused) {
  EXPECT_NE(parse_err(kBase + "<Directory /srv>\nRequestHeader set X-A b\n</Directory>\n")
                .find("t.conf:4: RequestHeader inside <Directory> is not supported yet"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "<Files x>\nRequestHeader set X-A b\n</Files>\n").find("<Files>"), std::string::npos);
  EXPECT_NE(parse_err(kBase + "RequestHeader echo X-A\n").find("unknown RequestHeader action 'echo'"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "RequestHeader always set X-A b\n").find("unknown RequestHeader action 'always'"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "RequestHeader set X-A\n").find("RequestHeader set X-A needs a value"),
            std::string::npos);
}

TEST(RequestHeaderDirective, RoutingAndFramingHeadersWarnAndDrop) {
  auto c = parse_ok(kBase + "RequestHeader set Host evil.test\nRequestHeader unset Content-Length\n");
  EXPECT_TRUE(c.vhosts[0].request_header_rules.empty());
  ASSERT_EQ(c.warnings.size(), 2u);
  EXPECT_NE(c.warnings[0].find("t.conf:3: RequestHeader Host ignored"), std::string::npos);
}

}  // namespace
}  // namespace itkd
