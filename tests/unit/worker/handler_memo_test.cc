#include "worker/handler_memo.h"

#include <gtest/gtest.h>

#include "config/config_parser.h"
#include "worker/static/static_handler.h"

namespace itkd {
namespace {

ServerConfig parse(const std::string& vhosts) {
  ParseOptions o;
  o.resolve_identities = false;
  auto c = parse_config_text("Listen 80\nDocumentRoot /srv/main\n" + vhosts, "t.conf", o);
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
  return c.ok() ? std::move(*c) : ServerConfig{};
}

using K = HandlerChoice::Kind;

HandlerChoice fresh(const VirtualHost& v, const std::string& path) {
  return choose_handler(v, path, false, settings_for_directory(v, path.substr(0, path.rfind('/'))));
}

TEST(HandlerMemo, GivesWhatChooseHandlerGives) {
  auto c = parse(
      "<VirtualHost *:80>\nServerName a\nDocumentRoot /srv/a\nAddHandler fcgid-script .php\n"
      "FcgidWrapper /usr/bin/php-cgi .php\n<Directory /srv/a>\nOptions +ExecCGI\n</Directory>\n"
      "<Directory /srv/a/up>\nOptions -ExecCGI\nRequire all denied\n</Directory>\n"
      "<FilesMatch \\.phtml$>\nSetHandler \"proxy:unix:/run/a.sock|fcgi://localhost\"\n</FilesMatch>\n"
      "</VirtualHost>\n");
  const VirtualHost& v = c.vhosts[1];
  HandlerMemo memo;
  for (const char* path : {"/srv/a/1k.html", "/srv/a/index.php", "/srv/a/x.phtml", "/srv/a/up/shell.php",
                           "/srv/a/index.php", "/srv/a/1k.html"}) {
    const HandlerMemo::Decision& d = memo.by_name(v, path);
    HandlerChoice want = fresh(v, path);
    EXPECT_EQ(d.choice.kind, want.kind) << path;
    EXPECT_EQ(d.choice.wrapper, want.wrapper) << path;
    EXPECT_EQ(d.choice.reason, want.reason) << path;
  }
  EXPECT_EQ(memo.by_name(v, "/srv/a/index.php").choice.kind, K::Fcgid);
  EXPECT_EQ(memo.by_name(v, "/srv/a/index.php").choice.wrapper, "/usr/bin/php-cgi");
  EXPECT_EQ(memo.by_name(v, "/srv/a/x.phtml").choice.kind, K::ProxyFcgi);
  EXPECT_EQ(memo.by_name(v, "/srv/a/1k.html").choice.kind, K::Static);
  const EffectiveAccess& up = memo.by_name(v, "/srv/a/up/shell.php").access;
  EXPECT_FALSE(access_granted(up, ClientAddresses{}));
  EXPECT_EQ(memo.by_name(v, "/srv/a/up/shell.php").choice.kind, K::Forbidden);
  EXPECT_EQ(memo.size(), 4u);  // repeats are answered from the memo
}

TEST(HandlerMemo, KeepsVhostsApart) {
  // The same file name, two vhosts: only one of them runs PHP.
  auto c = parse(
      "<VirtualHost *:80>\nServerName a\nDocumentRoot /srv/s\nAddHandler cgi-script .php\n"
      "<Directory /srv/s>\nOptions +ExecCGI\n</Directory>\n</VirtualHost>\n"
      "<VirtualHost *:80>\nServerName b\nDocumentRoot /srv/s\n</VirtualHost>\n");
  HandlerMemo memo;
  EXPECT_EQ(memo.by_name(c.vhosts[1], "/srv/s/x.php").choice.kind, K::Cgi);
  EXPECT_EQ(memo.by_name(c.vhosts[2], "/srv/s/x.php").choice.kind, K::Static);
  EXPECT_EQ(memo.by_name(c.vhosts[1], "/srv/s/x.php").choice.kind, K::Cgi);
}

TEST(HandlerMemo, StaysBoundedAgainstEndlessNames) {
  auto c = parse("<VirtualHost *:80>\nServerName a\nDocumentRoot /srv/a\nAddHandler cgi-script .cgi\n</VirtualHost>\n");
  HandlerMemo memo;
  for (size_t i = 0; i < HandlerMemo::kMaxEntries + 100; ++i) {
    const auto& d = memo.by_name(c.vhosts[1], "/srv/a/" + std::to_string(i) + ".cgi");
    EXPECT_EQ(d.choice.kind, K::Forbidden);  // no ExecCGI: every answer is still computed right
    ASSERT_LE(memo.size(), HandlerMemo::kMaxEntries);
  }
}

}  // namespace
}  // namespace itkd
