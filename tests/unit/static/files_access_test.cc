// Require inside <Files>/<FilesMatch> (mod_authz_core), and the .ht* files Apache's stock
// configuration denies: a site moved from Apache keeps .htaccess and .htpasswd around.
#include "static_fixture.h"

namespace itkd::test {
namespace {

using FilesAccess = StaticFixture;

FilesBlock files(const std::string& pattern, bool regex, bool denied, const std::string& dir = {}) {
  FilesBlock b;
  b.pattern = pattern;
  b.is_regex = regex;
  b.directory = dir;
  b.access = require_all(denied);
  return b;
}

TEST_F(FilesAccess, HtFilesAreDeniedByDefault) {
  write_file("www/.htpasswd", "admin:$apr1$secret");
  write_file("www/.htaccess", "Require all denied");
  write_file("www/.well-known.txt", "ok");
  for (const char* p : {"/.htpasswd", "/.htaccess", "/.HTACCESS.missing-but-named", "/.htgone"}) {
    StaticResponse r = get(p);
    if (std::string(p) == "/.HTACCESS.missing-but-named") {
      EXPECT_EQ(r.status, 404) << p;  // names are case-sensitive, as in Apache on Linux
      continue;
    }
    EXPECT_EQ(r.status, 403) << p;
    EXPECT_EQ(body_of(r).find("secret"), std::string::npos);
    EXPECT_NE(r.log_reason.find("client denied by server configuration"), std::string::npos) << r.log_reason;
  }
  EXPECT_EQ(get("/.well-known.txt").status, 200);
}

TEST_F(FilesAccess, FilesBlocksDenyAndGrantByName) {
  write_file("www/wp-config.php", "<?php define('DB_PASSWORD', 'hunter2');");
  make_dir("www/pub");
  write_file("www/pub/.htaccess", "shown on purpose");
  write_file("www/a.log", "log");
  vhost_.files_blocks.push_back(files("wp-config.php", false, true));
  vhost_.files_blocks.push_back(files("\\.(log|sql)$", true, true));
  vhost_.files_blocks.push_back(files(".htaccess", false, false, docroot_ + "/pub"));
  EXPECT_EQ(get("/wp-config.php").status, 403);
  EXPECT_EQ(get("/a.log").status, 403);
  EXPECT_EQ(get("/dump.sql").status, 403);  // denied whether or not it exists
  EXPECT_EQ(body_of(get("/pub/.htaccess")), "shown on purpose");
  EXPECT_EQ(get("/.htaccess").status, 403);  // the grant is for pub/ only
}

TEST_F(FilesAccess, TheLastMatchingBlockDecides) {
  write_file("www/report.txt", "r");
  vhost_.files_blocks.push_back(files("*.txt", false, true));
  vhost_.files_blocks.push_back(files("report.*", false, false));
  EXPECT_EQ(get("/report.txt").status, 200);
  vhost_.files_blocks.push_back(files("report.txt", false, true));
  EXPECT_EQ(get("/report.txt").status, 403);
}

}  // namespace
}  // namespace itkd::test
