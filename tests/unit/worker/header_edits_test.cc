// mod_headers applied to response heads: each action, the onsuccess/always split, the
// env=HTTPS condition, and the order in which the sections' rules run.
#include "worker/header_edits.h"

#include <gtest/gtest.h>

#include "config/parse_support.h"

namespace itkd {
namespace {

VirtualHost vhost(const std::string& inside) { return test::parse_vhost(inside); }

HeaderRuleContext success() {
  HeaderRuleContext c;
  c.success = true;
  return c;
}

std::string run(const VirtualHost& v, std::string_view lines, const HeaderRuleContext& c = success(),
                std::string_view fs_path = "/srv/a/index.html", std::string_view url = "/index.html") {
  return apply_header_rules(lines, header_rules_for(v, fs_path, url), c);
}

TEST(ResponseHeaderRules, SetReplacesEveryCopyInPlace) {
  auto v = vhost("Header set X-A one\n");
  EXPECT_EQ(run(v, "X-A: 1\r\nContent-Type: text/plain\r\nx-a: 2\r\n"), "X-A: one\r\nContent-Type: text/plain\r\n");
  EXPECT_EQ(run(v, "Content-Type: text/plain\r\n"), "Content-Type: text/plain\r\nX-A: one\r\n");
}

TEST(ResponseHeaderRules, AddAppendMergeSetIfEmpty) {
  EXPECT_EQ(run(vhost("Header add Link </a>\n"), "Link: </b>\r\n"), "Link: </b>\r\nLink: </a>\r\n");
  EXPECT_EQ(run(vhost("Header append Cache-Control no-transform\n"), "Cache-Control: max-age=60\r\n"),
            "Cache-Control: max-age=60, no-transform\r\n");
  EXPECT_EQ(run(vhost("Header append Vary Cookie\n"), ""), "Vary: Cookie\r\n");
  auto merge = vhost("Header merge Vary Accept-Encoding\n");
  EXPECT_EQ(run(merge, "Vary: Cookie, Accept-Encoding\r\n"), "Vary: Cookie, Accept-Encoding\r\n");
  EXPECT_EQ(run(merge, "Vary: Accept-Encoding-X\r\n"), "Vary: Accept-Encoding-X, Accept-Encoding\r\n");
  EXPECT_EQ(run(merge, "Vary: \"Accept-Encoding, x\"\r\n"), "Vary: \"Accept-Encoding, x\", Accept-Encoding\r\n");
  auto ifempty = vhost("Header setifempty Cache-Control private\n");
  EXPECT_EQ(run(ifempty, "Cache-Control: public\r\n"), "Cache-Control: public\r\n");
  EXPECT_EQ(run(ifempty, ""), "Cache-Control: private\r\n");
}

TEST(ResponseHeaderRules, UnsetRemovesAllCopies) {
  auto v = vhost("Header unset X-Powered-By\n");
  EXPECT_EQ(run(v, "X-Powered-By: PHP/8.2\r\nA: b\r\nx-powered-by: again\r\n"), "A: b\r\n");
}

TEST(ResponseHeaderRules, EditFirstOrEveryMatchWithGroups) {
  auto cookie = vhost("Header edit Set-Cookie ^(.*)$ \"$1; HttpOnly\"\n");
  EXPECT_EQ(run(cookie, "Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n"),
            "Set-Cookie: a=1; HttpOnly\r\nSet-Cookie: b=2; HttpOnly\r\n");
  EXPECT_EQ(run(vhost("Header edit Link http: https:\n"), "Link: http://a, http://b\r\n"),
            "Link: https://a, http://b\r\n");
  EXPECT_EQ(run(vhost("Header edit* Link http: https:\n"), "Link: http://a, http://b\r\n"),
            "Link: https://a, https://b\r\n");
  EXPECT_EQ(run(vhost("Header edit* X a* -\n"), "X: bab\r\n"), "X: -b-b-\r\n");  // empty matches advance
  EXPECT_EQ(run(vhost("Header edit X nomatch y\n"), "X: keep\r\n"), "X: keep\r\n");
  EXPECT_EQ(run(vhost("Header edit X (a) \"\\$1=$1\"\n"), "X: a\r\n"), "X: $1=a\r\n");
}

TEST(ResponseHeaderRules, OnSuccessOnlyForTheHandlersAnswer) {
  auto v = vhost("Header set X-Ok yes\nHeader always set X-Always yes\n");
  HeaderRuleContext error;
  EXPECT_EQ(run(v, "", error), "X-Always: yes\r\n");
  EXPECT_EQ(run(v, ""), "X-Ok: yes\r\nX-Always: yes\r\n");
}

TEST(ResponseHeaderRules, AlwaysUnsetSeesTheScriptsHeaderToo) {
  // Apache's two tables would miss it; one list does not.
  auto v = vhost("Header always unset X-Powered-By\n");
  EXPECT_EQ(run(v, "X-Powered-By: PHP\r\n"), "");
}

TEST(ResponseHeaderRules, EnvHttpsCondition) {
  auto v = vhost("Header always set Strict-Transport-Security max-age=600 env=HTTPS\n"
                 "Header always set X-Plain yes env=!HTTPS\n");
  HeaderRuleContext tls = success();
  tls.https = true;
  EXPECT_EQ(run(v, "", tls), "Strict-Transport-Security: max-age=600\r\n");
  EXPECT_EQ(run(v, ""), "X-Plain: yes\r\n");
}

TEST(ResponseHeaderRules, EnvConditionOnTheRequestsVariables) {
  auto v = vhost("Header set X-Internal yes env=internal\nHeader set X-Public yes env=!internal\n");
  ScriptEnv env{{"internal", ""}};
  HeaderRuleContext c = success();
  c.env = &env;
  EXPECT_EQ(run(v, "", c), "X-Internal: yes\r\n");
  env.clear();
  EXPECT_EQ(run(v, "", c), "X-Public: yes\r\n");
  EXPECT_EQ(run(v, ""), "X-Public: yes\r\n");  // no variables at all
}

TEST(ResponseHeaderRules, TimeFormats) {
  auto v = vhost("Header set X-Timing \"%t %D\"\n");
  HeaderRuleContext c = success();
  c.request_start_us = 1700000000123456;
  c.now_us = c.request_start_us + 250;
  EXPECT_EQ(run(v, "", c), "X-Timing: t=1700000000123456 D=250\r\n");
}

TEST(ResponseHeaderRules, EchoCopiesMatchingRequestHeadersButNotFraming) {
  auto v = vhost("Header echo ^x-trace\n");
  std::string buffer = "GET / HTTP/1.1\r\nHost: a\r\nX-Trace-Id: 42\r\nX-Other: no\r\n\r\n";
  http::RequestHead head;
  ASSERT_EQ(http::parse_request_head(buffer, http::ParseLimits{}, head).status, http::ParseStatus::Complete);
  HeaderRuleContext c = success();
  c.request = &head;
  EXPECT_EQ(run(v, "", c), "X-Trace-Id: 42\r\n");
  auto all = vhost("Header echo .*\n");
  std::string framed = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\n";
  http::RequestHead post;
  ASSERT_EQ(http::parse_request_head(framed, http::ParseLimits{}, post).status, http::ParseStatus::Complete);
  c.request = &post;
  EXPECT_EQ(run(all, "", c), "Host: a\r\n");
}

TEST(ResponseHeaderRules, SectionsMergeServerVhostDirectoryFilesLocation) {
  auto v = vhost("Header set X-Who vhost\n"
                 "<Location /docs>\nHeader append X-Who location\n</Location>\n"
                 "<Directory /srv/a/docs>\nHeader append X-Who directory\n</Directory>\n"
                 "<Files *.pdf>\nHeader append X-Who files\n</Files>\n"
                 "<Directory /srv/a>\nHeader append X-Who parent\n</Directory>\n");
  EXPECT_EQ(run(v, "", success(), "/srv/a/docs/a.pdf", "/docs/a.pdf"),
            "X-Who: vhost, parent, directory, files, location\r\n");
  EXPECT_EQ(run(v, "", success(), "/srv/a/a.html", "/a.html"), "X-Who: vhost, parent\r\n");
  EXPECT_EQ(run(v, "", success(), "", "/docs/"), "X-Who: vhost, location\r\n");
}

TEST(ResponseHeaderRules, NoRuleLeavesLinesAsTheyWere) {
  auto v = vhost("");
  EXPECT_TRUE(header_rules_for(v, "/srv/a/x", "/x").empty());
}

TEST(RequestHeaderRules, VhostThenMatchingLocations) {
  auto v = vhost("RequestHeader set X-Forwarded-Proto https\n"
                 "<Location /api>\nRequestHeader edit* Cookie \"tracking=[^;]*(; )?\" \"\"\n</Location>\n");
  HeaderStore store;
  std::vector<http::HeaderField> fields{{"Cookie", "tracking=1; sid=2"}, {"X-Forwarded-Proto", "http"}};
  apply_header_rules(fields, store, request_header_rules_for(v, "/api/x"), HeaderRuleContext{});
  ASSERT_EQ(fields.size(), 2u);
  EXPECT_EQ(fields[0].value, "sid=2");
  EXPECT_EQ(fields[1].value, "https");
  std::vector<http::HeaderField> other{{"Cookie", "tracking=1; sid=2"}};
  apply_header_rules(other, store, request_header_rules_for(v, "/index.html"), HeaderRuleContext{});
  ASSERT_EQ(other.size(), 2u);
  EXPECT_EQ(other[0].value, "tracking=1; sid=2");
  EXPECT_EQ(other[1].name, "X-Forwarded-Proto");
}

TEST(RequestHeaderRules, PlainValuesNeedNoStore) {
  auto v = vhost("RequestHeader set X-A plain\nRequestHeader append X-B more\n");
  HeaderStore store;
  std::vector<http::HeaderField> fields{{"X-B", "some"}};
  apply_header_rules(fields, store, request_header_rules_for(v, "/"), HeaderRuleContext{});
  ASSERT_EQ(fields.size(), 2u);
  EXPECT_EQ(fields[0].value, "some, more");
  EXPECT_EQ(fields[1].value, "plain");
  EXPECT_EQ(std::distance(store.begin(), store.end()), 1);  // only the appended value
}

}  // namespace
}  // namespace itkd
