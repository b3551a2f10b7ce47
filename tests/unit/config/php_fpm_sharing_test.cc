// php-fpm keeps a request's PHP_VALUE in the child that served it: `itkd -t` warns where
// sites (or directories) send one php-fpm pool different settings.
#include "config/php_fpm_sharing.h"

#include <gtest/gtest.h>

#include "config/config_parser.h"

namespace itkd {
namespace {

Result<ServerConfig> parse(const std::string& text) {
  ParseOptions o;
  o.resolve_identities = false;
  return parse_config_text("Listen 80\nDocumentRoot /srv/main\n" + text, "t.conf", o);
}

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
