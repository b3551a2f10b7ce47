// mod_expires on answers: which rule applies, from which time, and when nothing is added.
#include "worker/expires_headers.h"

#include <gtest/gtest.h>

#include "config/parse_support.h"
#include "http/response_head.h"

namespace itkd {
namespace {

VirtualHost vhost(const std::string& inside) { return test::parse_vhost(inside); }

constexpr time_t kNow = 1700000000;

std::string run(const VirtualHost& v, std::string lines, std::string_view fs = "/srv/a/x", std::string_view url = "/x") {
  ExpiresSettings scratch;
  add_expires_headers(lines, expires_for(v, fs, url, scratch), kNow);
  return lines;
}

TEST(ExpiresHeaders, ByTypeThenWildcardThenDefault) {
  auto v = vhost("ExpiresActive On\nExpiresByType text/css A600\nExpiresByType image/* A60\nExpiresDefault A5\n");
  EXPECT_EQ(run(v, "Content-Type: text/css; charset=utf-8\r\n"),
            "Content-Type: text/css; charset=utf-8\r\nCache-Control: max-age=600\r\nExpires: " +
                http::http_date(kNow + 600) + "\r\n");
  EXPECT_NE(run(v, "Content-Type: image/png\r\n").find("max-age=60\r\n"), std::string::npos);
  EXPECT_NE(run(v, "Content-Type: text/html\r\n").find("max-age=5\r\n"), std::string::npos);
  EXPECT_NE(run(v, "").find("max-age=5\r\n"), std::string::npos);  // no type: the default
}

TEST(ExpiresHeaders, MergesIntoCacheControlAndKeepsAnExistingExpires) {
  auto v = vhost("ExpiresActive On\nExpiresDefault A10\n");
  EXPECT_EQ(run(v, "Cache-Control: public\r\nX: y\r\n"),
            "Cache-Control: public, max-age=10\r\nX: y\r\nExpires: " + http::http_date(kNow + 10) + "\r\n");
  EXPECT_EQ(run(v, "Expires: 0\r\n"), "Expires: 0\r\n");
}

TEST(ExpiresHeaders, ModificationNeedsLastModifiedAndNeverGoesNegative) {
  auto v = vhost("ExpiresActive On\nExpiresDefault \"modification plus 1 hour\"\n");
  std::string lm = "Last-Modified: " + http::http_date(kNow - 1800) + "\r\n";
  EXPECT_EQ(run(v, lm), lm + "Cache-Control: max-age=1800\r\nExpires: " + http::http_date(kNow + 1800) + "\r\n");
  std::string old = "Last-Modified: " + http::http_date(kNow - 7200) + "\r\n";
  EXPECT_NE(run(v, old).find("max-age=0\r\n"), std::string::npos);
  EXPECT_EQ(run(v, "Content-Type: text/html\r\n"), "Content-Type: text/html\r\n");
}

TEST(ExpiresHeaders, InactiveOrNoRuleAddsNothing) {
  EXPECT_EQ(run(vhost("ExpiresDefault A10\n"), "A: b\r\n"), "A: b\r\n");  // ExpiresActive not On
  EXPECT_EQ(run(vhost("ExpiresActive On\nExpiresByType text/css A1\n"), "Content-Type: text/html\r\n"),
            "Content-Type: text/html\r\n");
}

TEST(ExpiresHeaders, SectionsMergeAndCanTurnItOff) {
  auto v = vhost("ExpiresActive On\nExpiresDefault A10\n"
                 "<Directory /srv/a/static>\nExpiresDefault A1000\n</Directory>\n"
                 "<Files private.html>\nExpiresActive Off\n</Files>\n"
                 "<Location /live>\nExpiresDefault A0\n</Location>\n");
  EXPECT_NE(run(v, "", "/srv/a/static/a.js", "/static/a.js").find("max-age=1000\r\n"), std::string::npos);
  EXPECT_EQ(run(v, "", "/srv/a/private.html", "/private.html"), "");
  EXPECT_NE(run(v, "", "/srv/a/live/x", "/live/x").find("max-age=0\r\n"), std::string::npos);
  EXPECT_NE(run(v, "", "/srv/a/x", "/x").find("max-age=10\r\n"), std::string::npos);
}

}  // namespace
}  // namespace itkd
