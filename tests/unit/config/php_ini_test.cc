// php_value, php_flag, php_admin_value, php_admin_flag: parsed where mod_php takes them,
// merged as mod_php merges them, and turned into what php-cgi and php-fpm read.
#include "config/php_ini.h"

#include <gtest/gtest.h>

#include "config/config_parser.h"
#include "config/php_fpm_sharing.h"

namespace itkd {
namespace {

Result<ServerConfig> parse(const std::string& text) {
  ParseOptions o;
  o.resolve_identities = false;
  return parse_config_text("Listen 80\nDocumentRoot /srv/main\n" + text, "t.conf", o);
}

std::string describe(const std::vector<PhpIniSetting>& list) {
  std::string out;
  for (const auto& s : list) out += (s.admin ? "admin:" : "") + s.name + "=" + s.value + ";";
  return out;
}

TEST(PhpIni, DirectivesInVhostAndDirectory) {
  auto c = parse(
      "<VirtualHost *:80>\nServerName a\nDocumentRoot /srv/a\n"
      "php_value upload_max_filesize 20M\nphp_admin_value open_basedir \"/srv/a:/tmp\"\n"
      "php_flag display_errors On\n"
      "<Directory /srv/a/uploads>\nphp_admin_flag engine off\n</Directory>\n</VirtualHost>\n");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(describe(c->vhosts[1].php_ini),
            "upload_max_filesize=20M;admin:open_basedir=/srv/a:/tmp;display_errors=1;");
  ASSERT_EQ(c->vhosts[1].directories.size(), 1u);
  EXPECT_EQ(describe(c->vhosts[1].directories[0].php_ini), "admin:engine=0;");
}

TEST(PhpIni, GlobalSettingsReachEveryVhostAndAdminOnesStay) {
  auto c = parse(
      "php_admin_value open_basedir /srv\nphp_value memory_limit 64M\n"
      "<VirtualHost *:80>\nServerName a\nDocumentRoot /srv/a\n"
      "php_value open_basedir /\nphp_value memory_limit 256M\n</VirtualHost>\n"
      "<VirtualHost *:80>\nServerName b\nDocumentRoot /srv/b\n</VirtualHost>\n");
  ASSERT_TRUE(c.ok()) << c.error().message;
  // a's php_value can't loosen the global php_admin_value; its memory_limit wins.
  EXPECT_EQ(describe(c->vhosts[1].php_ini), "admin:open_basedir=/srv;memory_limit=256M;");
  EXPECT_EQ(describe(c->vhosts[2].php_ini), "admin:open_basedir=/srv;memory_limit=64M;");
}

TEST(PhpIni, BadInputIsRefusedWithItsLine) {
  auto flag = parse("<VirtualHost *:80>\nServerName a\nphp_flag display_errors yes\n</VirtualHost>\n");
  ASSERT_FALSE(flag.ok());
  EXPECT_NE(flag.error().message.find("t.conf:5: php_flag display_errors must be On or Off, not 'yes'"),
            std::string::npos) << flag.error().message;
  auto name = parse("php_value \"a=b\" 1\n");
  ASSERT_FALSE(name.ok());
  EXPECT_NE(name.error().message.find("t.conf:3: php_value: 'a=b' is not a PHP setting name"), std::string::npos)
      << name.error().message;
  auto files = parse("<Files x.php>\nphp_value memory_limit 1M\n</Files>\n");
  ASSERT_FALSE(files.ok());
  EXPECT_NE(files.error().message.find("t.conf:4:"), std::string::npos) << files.error().message;
  EXPECT_FALSE(parse("php_admin_value open_basedir\n").ok());  // a name and a value
}

TEST(PhpIni, SettingsInsideIfModuleModPhpAreSkippedWithAWarning) {
  // itkd has no mod_php: the block is skipped as Apache without mod_php would skip it, but
  // the guard it held must not vanish without a word.
  auto c = parse(
      "<VirtualHost *:80>\nServerName a\nDocumentRoot /srv/a\n"
      "<IfModule mod_php7.c>\n  <Directory /srv/a/uploads>\n    php_admin_flag engine off\n  </Directory>\n"
      "</IfModule>\n<IfModule !mod_php7.c>\n  php_value memory_limit 32M\n</IfModule>\n</VirtualHost>\n");
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_EQ(c->warnings.size(), 1u);
  EXPECT_EQ(c->warnings[0],
            "t.conf:8: php_admin_flag engine off is not applied: it is inside <IfModule mod_php7.c> (line 6) "
            "and itkd has no mod_php; outside that block itkd gives it to php-cgi and php-fpm");
  EXPECT_TRUE(c->vhosts[1].directories.empty());
  EXPECT_EQ(describe(c->vhosts[1].php_ini), "memory_limit=32M;");
}

TEST(PhpIni, AWrapperThatIsNotPhpCgiGetsAWarning) {
  auto other = parse(
      "<VirtualHost *:80>\nServerName a\nDocumentRoot /srv/a\nAddHandler fcgid-script .php\n"
      "FcgidWrapper /usr/local/bin/php-wrapper.sh .php\nphp_value memory_limit 64M\n</VirtualHost>\n");
  ASSERT_TRUE(other.ok()) << other.error().message;
  ASSERT_EQ(other->warnings.size(), 1u);
  EXPECT_EQ(other->warnings[0].rfind("t.conf:3: FcgidWrapper /usr/local/bin/php-wrapper.sh is not php-cgi", 0), 0u)
      << other->warnings[0];
  auto php_cgi = parse(
      "<VirtualHost *:80>\nServerName a\nDocumentRoot /srv/a\nAddHandler fcgid-script .php\n"
      "FcgidWrapper /usr/bin/php-cgi .php\nphp_value memory_limit 64M\n</VirtualHost>\n"
      "<VirtualHost *:80>\nServerName b\nDocumentRoot /srv/b\nFcgidWrapper /usr/local/bin/app\n</VirtualHost>\n");
  ASSERT_TRUE(php_cgi.ok()) << php_cgi.error().message;
  EXPECT_TRUE(php_cgi->warnings.empty()) << php_cgi->warnings.front();
}

TEST(PhpIni, MergeKeepsAdminSettings) {
  std::vector<PhpIniSetting> base{{"a", "1", true}, {"b", "1", false}};
  merge_php_ini(base, {{"a", "2", false}, {"b", "2", false}, {"c", "3", false}});
  EXPECT_EQ(describe(base), "admin:a=1;b=2;c=3;");
  merge_php_ini(base, {{"a", "4", true}, {"b", "5", true}});
  EXPECT_EQ(describe(base), "admin:a=4;admin:b=5;c=3;");
}

TEST(PhpIni, WhatPhpCgiAndPhpFpmGet) {
  std::vector<PhpIniSetting> s{{"open_basedir", "/srv/a:/tmp", true}, {"memory_limit", "64M", false},
                               {"engine", "0", true}};
  EXPECT_EQ(php_cgi_ini_args(s), (std::vector<std::string>{"-d", "open_basedir=/srv/a:/tmp", "-d", "memory_limit=64M",
                                                            "-d", "engine=0"}));
  EXPECT_EQ(php_fpm_ini_param(s, false), "memory_limit=64M");
  EXPECT_EQ(php_fpm_ini_param(s, true), "open_basedir=/srv/a:/tmp\nengine=0");
  EXPECT_EQ(php_fpm_ini_param({}, true), "");
}

TEST(PhpIni, OnlyPhpCgiGetsCommandLineOptions) {
  EXPECT_TRUE(is_php_cgi_command("/usr/bin/php-cgi"));
  EXPECT_TRUE(is_php_cgi_command("/usr/bin/php-cgi8.2 -c /etc/php/alt"));
  EXPECT_TRUE(is_php_cgi_command("php8.2-cgi"));
  EXPECT_FALSE(is_php_cgi_command("/usr/local/bin/php-wrapper.sh"));
  EXPECT_FALSE(is_php_cgi_command("/usr/bin/php"));
  EXPECT_FALSE(is_php_cgi_command("/srv/a/app.fcgi"));
}

// php-fpm keeps a request's PHP_VALUE in the child that served it: `itkd -t` warns where
// sites (or directories) send one php-fpm pool different settings.
std::string vhost(const std::string& name, const std::string& socket, const std::string& inside = {}) {
  return "<VirtualHost *:80>\nServerName " + name + "\nDocumentRoot /srv/" + name + "\n"
         "<FilesMatch \\.php$>\nSetHandler \"proxy:unix:" + socket + "|fcgi://localhost\"\n</FilesMatch>\n" +
         inside + "</VirtualHost>\n";
}

std::vector<std::string> clash_warnings(const ServerConfig& c) {
  std::vector<std::string> out;
  for (const auto& w : c.warnings)
    if (w.find("php-fpm at ") != std::string::npos) out.push_back(w);
  return out;
}

TEST(PhpFpmSharing, SitesSendingOnePoolDifferentSettingsAreNamed) {
  auto c = parse(vhost("a", "/run/php/alice.sock", "php_admin_value open_basedir /srv/a\n") +
                 vhost("b", "/run/php/alice.sock"));
  ASSERT_TRUE(c.ok()) << c.error().message;
  auto w = clash_warnings(*c);
  ASSERT_EQ(w.size(), 1u);
  // At b's <VirtualHost> (line 11), naming both and what each sends.
  EXPECT_EQ(w[0].rfind("t.conf:11: php-fpm at unix:/run/php/alice.sock gets different", 0), 0u) << w[0];
  EXPECT_NE(w[0].find("from a (admin:open_basedir=/srv/a, t.conf:3) and b (none)"), std::string::npos) << w[0];
}

TEST(PhpFpmSharing, SameSettingsOrSeparatePoolsAreFine) {
  auto same = parse(vhost("a", "/run/php/alice.sock", "php_value memory_limit 64M\n") +
                    vhost("b", "/run/php/alice.sock", "php_value memory_limit 64M\n"));
  ASSERT_TRUE(same.ok()) << same.error().message;
  EXPECT_TRUE(clash_warnings(*same).empty());
  auto separate = parse(vhost("a", "/run/php/a.sock", "php_value memory_limit 64M\n") +
                        vhost("b", "/run/php/b.sock"));
  ASSERT_TRUE(separate.ok()) << separate.error().message;
  EXPECT_TRUE(clash_warnings(*separate).empty());
  // Global settings reach every vhost alike.
  auto global = parse("php_admin_value open_basedir /srv\n" + vhost("a", "/run/php/x.sock") +
                      vhost("b", "/run/php/x.sock"));
  ASSERT_TRUE(global.ok()) << global.error().message;
  EXPECT_TRUE(clash_warnings(*global).empty());
}

TEST(PhpFpmSharing, ADirectoryOfOneSiteCountsTooUnlessItsEngineIsOff) {
  auto dir = parse(vhost("a", "/run/php/a.sock", "<Directory /srv/a/admin>\nphp_value memory_limit 512M\n</Directory>\n"));
  ASSERT_TRUE(dir.ok()) << dir.error().message;
  auto w = clash_warnings(*dir);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("a <Directory /srv/a/admin> (memory_limit=512M)"), std::string::npos) << w[0];
  // An uploads directory with engine off never reaches php-fpm: itkd serves its files.
  auto off = parse(vhost("a", "/run/php/a.sock", "<Directory /srv/a/uploads>\nphp_admin_flag engine off\n</Directory>\n"));
  ASSERT_TRUE(off.ok()) << off.error().message;
  EXPECT_TRUE(clash_warnings(*off).empty()) << clash_warnings(*off).front();
  // The same reading of "off" as the handler choice's ("no" is off too).
  auto no = parse(vhost("a", "/run/php/a.sock", "<Directory /srv/a/uploads>\nphp_admin_value engine no\n</Directory>\n"));
  ASSERT_TRUE(no.ok()) << no.error().message;
  EXPECT_TRUE(clash_warnings(*no).empty()) << clash_warnings(*no).front();
}

TEST(PhpFpmSharing, ProxyPassMatchBackendsCount) {
  auto c = parse(
      "<VirtualHost *:80>\nServerName a\nDocumentRoot /srv/a\nphp_value memory_limit 64M\n"
      "ProxyPassMatch ^/(.*\\.php)$ fcgi://127.0.0.1:9000/srv/a/$1\n</VirtualHost>\n"
      "<VirtualHost *:80>\nServerName b\nDocumentRoot /srv/b\n"
      "ProxyPassMatch ^/(.*\\.php)$ fcgi://127.0.0.1:9000/srv/b/$1\n</VirtualHost>\n");
  ASSERT_TRUE(c.ok()) << c.error().message;
  auto w = clash_warnings(*c);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("php-fpm at 127.0.0.1:9000"), std::string::npos) << w[0];
}

}  // namespace
}  // namespace itkd
