// OwnerConfinement and its paths: parsing, the owner's vhosts agreeing, and which paths
// the configuration grants an owner.
#include <gtest/gtest.h>

#include <algorithm>

#include "config/owner_paths.h"
#include "parse_support.h"

namespace itkd {
namespace {

using test::kBaseConfig;
using test::parse_err;
using test::parse_ok;

std::string vhost(const std::string& name, const std::string& user, const std::string& inside = "") {
  return "<VirtualHost *:80>\nServerName " + name + "\nDocumentRoot /srv/" + name + "/www\nAssignUserID " + user +
         " " + user + "\n" + inside + "</VirtualHost>\n";
}

const Pool& pool_of(const ServerConfig& c, const std::string& user) {
  static const Pool none;
  for (const Pool& p : c.pools)
    if (p.user == user) return p;
  ADD_FAILURE() << "no pool for " << user;
  return none;
}

const OwnerPathGrant* find(const std::vector<OwnerPathGrant>& grants, const std::string& path) {
  auto it = std::find_if(grants.begin(), grants.end(), [&](const OwnerPathGrant& g) { return g.path == path; });
  return it == grants.end() ? nullptr : &*it;
}

TEST(OwnerConfinement, OnByDefaultAndOffWhereSaid) {
  ServerConfig c = parse_ok(kBaseConfig + vhost("a", "#61001") + vhost("b", "#61002", "OwnerConfinement Off\n"));
  EXPECT_TRUE(pool_of(c, "#61001").confined);
  EXPECT_FALSE(pool_of(c, "#61002").confined);
  ServerConfig off = parse_ok(kBaseConfig + "OwnerConfinement Off\n" + vhost("a", "#61001"));
  EXPECT_FALSE(pool_of(off, "#61001").confined);
}

TEST(OwnerConfinement, AnOwnersVhostsMustAgree) {
  std::string e = parse_err(kBaseConfig + vhost("a", "#61001") + vhost("b", "#61001", "OwnerConfinement Off\n"));
  EXPECT_NE(e.find("t.conf:12: OwnerConfinement Off (t.conf:12) disagrees with On (the default)"), std::string::npos)
      << e;
  EXPECT_NE(e.find("#61001"), std::string::npos) << e;
  // Saying the same twice is fine.
  parse_ok(kBaseConfig + vhost("a", "#61001", "OwnerConfinement Off\n") + vhost("b", "#61001", "OwnerConfinement Off\n"));
}

TEST(OwnerPrivateTmp, OffByDefaultPerOwnerAndMustAgree) {
  ServerConfig c = parse_ok(kBaseConfig + "OwnerTmpDirectory /srv/itkd-tmp\n" + vhost("a", "#61001", "OwnerPrivateTmp On\n") +
                            vhost("b", "#61002"));
  EXPECT_TRUE(pool_of(c, "#61001").private_tmp);
  EXPECT_FALSE(pool_of(c, "#61002").private_tmp);
  EXPECT_EQ(c.owner_tmp_directory, "/srv/itkd-tmp");
  EXPECT_NE(describe_config(c).find("  /tmp is its own: /srv/itkd-tmp/61001 (OwnerPrivateTmp)\n"), std::string::npos);
  std::string e = parse_err(kBaseConfig + vhost("a", "#61001", "OwnerPrivateTmp On\n") + vhost("b", "#61001"));
  EXPECT_NE(e.find("OwnerPrivateTmp Off (the default) disagrees with On (t.conf:7)"), std::string::npos) << e;
  EXPECT_NE(parse_err(kBaseConfig + "OwnerTmpDirectory /tmp\n").find("t.conf:3: OwnerTmpDirectory must be a directory of its own"),
            std::string::npos);
  EXPECT_NE(parse_err(kBaseConfig + "OwnerTmpDirectory tmp\n").find("absolute"), std::string::npos);
  EXPECT_NE(parse_err(kBaseConfig + vhost("a", "#61001", "OwnerTmpDirectory /x\n")).find("t.conf:7:"), std::string::npos);
}

TEST(OwnerConfinement, PathsMustBeAbsoluteAndNotTheRoot) {
  EXPECT_NE(parse_err(kBaseConfig + "OwnerReadOnlyPaths lib\n").find("t.conf:3: OwnerReadOnlyPaths takes absolute paths"),
            std::string::npos);
  EXPECT_NE(parse_err(kBaseConfig + "OwnerReadWritePaths /\n").find("OwnerConfinement Off"), std::string::npos);
  EXPECT_NE(parse_err(kBaseConfig + "OwnerConfinement maybe\n").find("t.conf:3:"), std::string::npos);
  EXPECT_NE(parse_err(kBaseConfig + "<Directory /srv>\nOwnerReadOnlyPaths /x\n</Directory>\n").find("t.conf:4:"),
            std::string::npos);
}

TEST(OwnerConfinement, GrantsWhatTheConfigurationNames) {
  ServerConfig c = parse_ok(
      kBaseConfig + "OwnerReadOnlyPaths /srv/shared/fonts\n" +
      vhost("a", "#61001",
            "Alias /media/ /srv/a/media/\n"
            "ScriptAlias /cgi-bin/ /srv/a/cgi-bin/\n"
            "FcgidWrapper \"/srv/a/bin/php-wrapper -c /srv/a/php.ini\" .php\n"
            "FcgidInitialEnv PHP_INI_SCAN_DIR :/srv/a/php.d\n"
            "php_admin_value session.save_path \"2;0600;/srv/a/sessions\"\n"
            "php_admin_value open_basedir /srv/a/:/usr/share/php/\n"
            "<Directory /srv/a/www/private>\n"
            "  AuthType Basic\n  AuthName x\n  AuthUserFile /srv/a/.htpasswd\n  Require valid-user\n"
            "  php_value upload_tmp_dir /srv/a/tmp\n"
            "</Directory>\n"
            "OwnerReadWritePaths /srv/a/app /srv/a/cache/\n"
            "OwnerReadOnlyPaths /srv/a/app\n") +
      vhost("b", "#61002"));
  auto grants = owner_path_grants(c, pool_of(c, "#61001"));
  auto expect = [&](const std::string& path, bool writable, const std::string& reason_start) {
    const OwnerPathGrant* g = find(grants, path);
    ASSERT_NE(g, nullptr) << path;
    EXPECT_EQ(g->writable, writable) << path;
    EXPECT_EQ(g->reason.rfind(reason_start, 0), 0u) << path << ": " << g->reason;
  };
  expect("/usr", false, "system");
  expect("/tmp", true, "system");
  expect("/srv/a/www", true, "DocumentRoot of a");
  expect("/srv/a/media", true, "Alias of a");
  expect("/srv/a/cgi-bin", true, "ScriptAlias of a");
  expect("/srv/a/bin/php-wrapper", false, "FcgidWrapper of a");
  expect("/srv/a/php.d", false, "FcgidInitialEnv PHP_INI_SCAN_DIR of a");
  expect("/srv/a/sessions", true, "session.save_path of a");
  expect("/srv/a", true, "open_basedir of a");
  expect("/usr/share/php", true, "open_basedir of a");
  expect("/srv/a/.htpasswd", false, "AuthUserFile of a");
  expect("/srv/a/tmp", true, "upload_tmp_dir of a");
  expect("/srv/shared/fonts", false, "OwnerReadOnlyPaths (t.conf:3)");
  expect("/srv/a/cache", true, "OwnerReadWritePaths");
  expect("/srv/a/app", true, "OwnerReadWritePaths");  // named both ways: writable wins
  EXPECT_EQ(find(grants, "/srv/b/www"), nullptr);   // another owner's docroot
  EXPECT_EQ(find(grants, "/srv/main"), nullptr);    // the main server's (another pool)
  auto b = owner_path_grants(c, pool_of(c, "#61002"));
  EXPECT_NE(find(b, "/srv/b/www"), nullptr);
  EXPECT_NE(find(b, "/srv/shared/fonts"), nullptr);  // the main server's line reaches every vhost
  EXPECT_EQ(find(b, "/srv/a/www"), nullptr);
  EXPECT_EQ(find(b, "/srv/a/sessions"), nullptr);
}

TEST(OwnerConfinement, CheckListsThePathsAndWhichDontExist) {
  ServerConfig c = parse_ok(kBaseConfig + vhost("a", "#61001", "OwnerReadOnlyPaths /usr/share /nonexistent/itkd-x\n") +
                            vhost("b", "#61002", "OwnerConfinement Off\n"));
  std::string out = describe_config(c);
  EXPECT_NE(out.find("    ro /usr/share (OwnerReadOnlyPaths (t.conf:7))\n"), std::string::npos) << out;
  EXPECT_NE(out.find("    ro /nonexistent/itkd-x (OwnerReadOnlyPaths (t.conf:7)) -- does not exist: not granted\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("  OwnerConfinement Off: its processes open whatever file permissions allow\n"), std::string::npos);
}

TEST(OwnerConfinement, HomeIsGrantedOnlyIfOwned) {
  ServerConfig c = parse_ok(kBaseConfig + vhost("a", "#61001"));
  Pool p = pool_of(c, "#61001");
  auto without = owner_path_grants(c, p);  // #uid: no passwd entry, no home
  EXPECT_EQ(std::count_if(without.begin(), without.end(),
                          [](const OwnerPathGrant& g) { return g.reason.rfind("home", 0) == 0; }),
            0);
  p.home = "/home/a";
  auto grants = owner_path_grants(c, p);
  const OwnerPathGrant* home = find(grants, "/home/a");
  ASSERT_NE(home, nullptr);
  EXPECT_TRUE(home->only_if_owned);
  EXPECT_TRUE(home->writable);
  // A home that is also the DocumentRoot is granted as the DocumentRoot: whoever owns it.
  ServerConfig d = parse_ok(kBaseConfig + "<VirtualHost *:80>\nServerName a\nDocumentRoot /home/a\n"
                                          "AssignUserID #61001 #61001\n</VirtualHost>\n");
  Pool q = pool_of(d, "#61001");
  q.home = "/home/a";
  auto both = owner_path_grants(d, q);
  ASSERT_NE(find(both, "/home/a"), nullptr);
  EXPECT_FALSE(find(both, "/home/a")->only_if_owned);
}

}  // namespace
}  // namespace itkd
