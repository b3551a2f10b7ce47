// Require ip/local, <RequireAll|Any|None>, Order/Allow/Deny/Satisfy and <Location> as the
// config parser reads them (the per-request decision: tests/unit/static/access_check_test).
#include <gtest/gtest.h>

#include "config/access_rules.h"
#include "config/config_parser.h"

namespace itkd {
namespace {

ParseOptions no_ids() {
  ParseOptions o;
  o.resolve_identities = false;
  return o;
}

Result<ServerConfig> parse(const std::string& text) { return parse_config_text(text, "t.conf", no_ids()); }

ServerConfig parse_ok(const std::string& text) {
  auto r = parse(text);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? std::move(r).value() : ServerConfig{};
}

std::string parse_err(const std::string& text) {
  auto r = parse(text);
  EXPECT_FALSE(r.ok()) << "expected an error for:\n" << text;
  return r.ok() ? "" : r.error().message;
}

const std::string kBase = "Listen 80\nDocumentRoot /srv/main\n";

std::string range_text(const std::string& text) {
  auto r = parse_ip_range(text);
  if (!r) return "error: " + r.error().message;
  RequireNode n;
  n.kind = RequireNode::Kind::Ip;
  n.ranges.push_back(*r);
  return describe_require(n).substr(3);  // drop "ip "
}

TEST(IpRange, ApacheForms) {
  EXPECT_EQ(range_text("10.1.2.3"), "10.1.2.3/32");
  EXPECT_EQ(range_text("10.1"), "10.1.0.0/16");  // partial: whole octets
  EXPECT_EQ(range_text("10.1."), "10.1.0.0/16");
  EXPECT_EQ(range_text("172.16.0.0/12"), "172.16.0.0/12");
  EXPECT_EQ(range_text("192.168.7.9/255.255.255.0"), "192.168.7.0/24");  // host bits dropped
  EXPECT_EQ(range_text("2001:db8::1"), "2001:db8::1/128");
  EXPECT_EQ(range_text("2001:db8:2:1::/64"), "2001:db8:2:1::/64");
  EXPECT_EQ(range_text("::1"), "::1/128");
}

TEST(IpRange, BadFormsRefused) {
  for (const char* bad : {"", "10.1.2.3.4", "300.1.1.1", "10.1/16", "10.1.2.3/33", "10.1.2.3/", "2001:db8::/129",
                          "::g", "1.2.3.4/255.255.x.0", "-1"}) {
    auto r = parse_ip_range(bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
  auto host = parse_ip_range("intranet.example.com");
  ASSERT_FALSE(host.ok());
  EXPECT_NE(host.error().message.find("reverse DNS"), std::string::npos);
}

TEST(ConfigAccess, RequireIpLocalAndContainers) {
  auto c = parse_ok(kBase + R"(
<Directory /srv/a>
  <RequireAll>
    Require ip 10.0.0.0/8 192.168.1
    Require not ip 10.9.0.0/16
  </RequireAll>
</Directory>
<Directory /srv/b>
  Require local
  Require ip 2001:db8::/32
</Directory>
<Directory /srv/c>
  <RequireAny>
    <RequireAll>
      Require ip 10.1
      <RequireNone>
        Require ip 10.1.1
      </RequireNone>
    </RequireAll>
    Require all denied
  </RequireAny>
</Directory>
)");
  const auto& d = c.vhosts[0].directories;
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(describe_require(*d[0].access.require),
            "any(all(ip 10.0.0.0/8 192.168.1.0/24, not ip 10.9.0.0/16))");
  EXPECT_EQ(describe_require(*d[1].access.require), "any(local, ip 2001:db8::/32)");
  EXPECT_EQ(describe_require(*d[2].access.require),
            "any(any(all(ip 10.1.0.0/16, none(ip 10.1.1.0/24)), all denied))");
}

TEST(ConfigAccess, OrderAllowDenySatisfy) {
  // An Apache 2.2-era vhost, as mpm-itk users still have them (Debian enables
  // mod_access_compat in Apache 2.4).
  auto c = parse_ok(kBase + R"(
<Directory /srv/a>
  Order allow,deny
  Allow from all
</Directory>
<Directory /srv/a/admin>
  Order Deny,Allow
  Deny from all
  Allow from 127.0.0.1 10.20
  Satisfy Any
  Require all denied
</Directory>
<Files "xmlrpc.php">
  Order allow,deny
  Deny from all
</Files>
)");
  const auto& d = c.vhosts[0].directories;
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(describe_compat(*d[0].access.compat), "Order allow,deny; Allow from all");
  EXPECT_EQ(describe_compat(*d[1].access.compat),
            "Order deny,allow; Allow from 127.0.0.1/32 10.20.0.0/16; Deny from all");
  EXPECT_EQ(d[1].access.satisfy_any, std::optional<bool>(true));
  const auto& f = c.vhosts[0].files_blocks;
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(describe_compat(*f[0].access.compat), "Order allow,deny; Deny from all");
}

TEST(ConfigAccess, LocationBlocks) {
  auto c = parse_ok(kBase + R"(
<Location /server-status>
  Require local
</Location>
<VirtualHost *:80>
  ServerName a
  <Location "/wp-admin">
    Require ip 192.0.2.0/24
  </Location>
  <LocationMatch "^/(phpmyadmin|pma)/">
    Order deny,allow
    Deny from all
  </LocationMatch>
  <Location ~ "\.git">
    Require all denied
  </Location>
</VirtualHost>
)");
  const auto& l = c.vhosts[1].locations;
  ASSERT_EQ(l.size(), 4u);  // the server's first, then the vhost's
  EXPECT_EQ(l[0].pattern, "/server-status");
  EXPECT_EQ(describe_require(*l[0].access.require), "any(local)");
  EXPECT_EQ(l[1].pattern, "/wp-admin");
  EXPECT_FALSE(l[1].is_regex);
  EXPECT_TRUE(l[2].is_regex);
  EXPECT_EQ(l[2].pattern, "^/(phpmyadmin|pma)/");
  EXPECT_TRUE(l[3].is_regex);
  EXPECT_EQ(l[3].pattern, "\\.git");
}

TEST(ConfigAccess, ModulesAreLoadedForIfModule) {
  // phpBB's and WordPress plugins' .htaccess-style guards pick the branch by module.
  auto c = parse_ok(kBase + R"(
<Directory /srv/a>
  <IfModule mod_authz_core.c>
    Require ip 10.1
  </IfModule>
  <IfModule !mod_authz_core.c>
    Order deny,allow
  </IfModule>
  <IfModule mod_access_compat.c>
    Satisfy All
  </IfModule>
  <IfModule mod_authz_host.c>
    Require local
  </IfModule>
</Directory>
)");
  const auto& d = c.vhosts[0].directories[0];
  EXPECT_EQ(describe_require(*d.access.require), "any(ip 10.1.0.0/16, local)");
  EXPECT_FALSE(d.access.compat);
  EXPECT_EQ(d.access.satisfy_any, std::optional<bool>(false));
}

TEST(ConfigAccess, MisusedRulesRefusedWithFileAndLine) {
  // A negation alone can't grant: in a section's own lines (an implicit <RequireAny>) it
  // would have no effect, as mod_authz_core says.
  EXPECT_NE(parse_err(kBase + "<Directory /srv>\nRequire not ip 10.1\n</Directory>\n")
                .find("t.conf:3: a negative rule (Require not ..., <RequireNone>) has no effect"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "<Directory /srv>\n<RequireAll>\nRequire not ip 10.1\n</RequireAll>\n</Directory>\n")
                .find("t.conf:4: <RequireAll> contains only negative authorization directives"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "<Directory /srv>\n<RequireAny>\n</RequireAny>\n</Directory>\n")
                .find("t.conf:4: <RequireAny> contains no authorization directives"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "<Directory /srv>\n<RequireAll>\nOptions -Indexes\nRequire all granted\n</RequireAll>\n"
                              "</Directory>\n")
                .find("t.conf:5: Options not allowed in a <RequireAll|Any|None> container"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "<RequireAll>\nRequire all granted\n</RequireAll>\n").find("t.conf:3: RequireAll not allowed"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "<Directory /srv>\nOrder deny, allow\n</Directory>\n").find("t.conf:4: Order takes"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "<Directory /srv>\nOrder sideways\n</Directory>\n").find("t.conf:4: Order takes"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "<Directory /srv>\nAllow 10.1\n</Directory>\n").find("t.conf:4: Allow: takes 'from'"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "<Directory /srv>\nDeny from env=bad_bot\n</Directory>\n")
                .find("t.conf:4: Deny: 'env=bad_bot' is not supported yet"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "<Directory /srv>\nAllow from .example.com\n</Directory>\n").find("reverse DNS"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "<Directory /srv>\nSatisfy maybe\n</Directory>\n").find("t.conf:4: Satisfy takes Any or All"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "<Location /a>\n<Files x>\nRequire all denied\n</Files>\n</Location>\n")
                .find("t.conf:4: <Files> cannot occur within <Location>"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "<Location admin>\nRequire all denied\n</Location>\n")
                .find("t.conf:3: <Location> takes a URL path starting with '/'"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "Require all denied\n").find("t.conf:3: Require not allowed"), std::string::npos);
  // In a block itkd doesn't apply, a rule would not hold: refused.
  EXPECT_NE(parse_err(kBase + "<Files a>\n<Files b>\n<RequireAll>\nRequire all denied\n</RequireAll>\n</Files>\n</Files>\n")
                .find("t.conf:5: <RequireAll> inside <Files> is not supported yet"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "<Files a>\n<Files b>\nOrder deny,allow\n</Files>\n</Files>\n")
                .find("t.conf:5: Order inside <Files> is not supported yet"),
            std::string::npos);
}

TEST(ConfigAccess, BasicAuthentication) {
  // What control panels write to password-protect a directory, moved into the vhost.
  auto c = parse_ok(kBase + R"(
ServerRoot /etc/itkd
<Directory /srv/a/staging>
  AuthType Basic
  AuthName "Staging site"
  AuthBasicProvider file
  AuthUserFile conf/staging.htpasswd
  Require valid-user
</Directory>
<Location /admin>
  AuthType basic
  AuthName admins
  AuthUserFile /srv/a/admins.htpasswd
  <RequireAny>
    Require ip 10.1
    Require user alice bob
  </RequireAny>
</Location>
<Directory /srv/a/staging/public>
  AuthType None
  Require all granted
</Directory>
)");
  const auto& d = c.vhosts[0].directories;
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].access.auth_basic, std::optional<bool>(true));
  EXPECT_EQ(d[0].access.auth_name, std::optional<std::string>("Staging site"));
  EXPECT_EQ(d[0].access.auth_user_file, std::optional<std::string>("/etc/itkd/conf/staging.htpasswd"));
  EXPECT_EQ(describe_require(*d[0].access.require), "any(valid-user)");
  EXPECT_EQ(d[1].access.auth_basic, std::optional<bool>(false));
  const auto& l = c.vhosts[0].locations;
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(describe_require(*l[0].access.require), "any(any(ip 10.1.0.0/16, user alice bob))");
  EXPECT_NE(parse_err(kBase + "<Directory /srv>\nAuthType Digest\n</Directory>\n")
                .find("t.conf:4: AuthType Digest is not supported yet"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "<Directory /srv>\nAuthBasicProvider ldap\n</Directory>\n")
                .find("t.conf:4: AuthBasicProvider ldap is not supported yet"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "<Directory /srv>\nAuthName \"a\\\"b\"\n</Directory>\n").find("t.conf:4: AuthName"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "<Directory /srv>\nRequire user\n</Directory>\n").find("t.conf:4: 'Require user' needs"),
            std::string::npos);
}

TEST(ConfigAccess, LimitAndLimitExcept) {
  // Debian's userdir.conf, as shipped, and an Apache 2.2-era <Limit> block.
  auto c = parse_ok(kBase + R"(
<Directory /home/*/public_html>
  <Limit GET POST OPTIONS>
    Require all granted
  </Limit>
  <LimitExcept GET POST OPTIONS>
    Require all denied
  </LimitExcept>
</Directory>
<Directory /srv/old>
  <Limit GET POST>
    Order allow,deny
    Allow from all
  </Limit>
  Require method GET POST
</Directory>
)");
  const auto& d = c.vhosts[0].directories;
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(describe_require(*d[0].access.require),
            "any(limit(GET POST OPTIONS: any(all granted)), limit-except(GET POST OPTIONS: any(all denied)))");
  EXPECT_EQ(describe_compat(*d[1].access.compat), "Order allow,deny; Allow from all (for GET POST)");
  EXPECT_EQ(describe_require(*d[1].access.require), "any(method GET POST)");  // the Limit held no Require
  EXPECT_NE(parse_err(kBase + "<Directory /srv>\n<Limit GET>\n<Limit POST>\nRequire all denied\n</Limit>\n</Limit>\n"
                              "</Directory>\n")
                .find("t.conf:5: Limit not allowed in <Limit>/<LimitExcept>"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "<Directory /srv>\n<Limit GET>\nOptions -Indexes\n</Limit>\n</Directory>\n")
                .find("t.conf:5: Options not allowed in <Limit>/<LimitExcept> (only access directives)"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "<Directory /srv>\n<Limit>\nRequire all denied\n</Limit>\n</Directory>\n")
                .find("t.conf:4: <Limit> takes"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "<Limit GET>\nRequire all denied\n</Limit>\n").find("t.conf:3: Limit not allowed"),
            std::string::npos);
}

TEST(ConfigAccess, DescribedByTestConfig) {
  auto c = parse_ok(kBase + R"(
<VirtualHost *:80>
  ServerName a.example
  <Directory /srv/a>
    Require all granted
  </Directory>
  <Location /wp-admin>
    Require ip 192.0.2.0/24
  </Location>
  <Files wp-login.php>
    Order deny,allow
    Deny from 203.0.113.7
  </Files>
  <Directory /srv/a/staging>
    AuthType Basic
    AuthName "Staging"
    AuthUserFile /srv/a/.htpasswd
    Require valid-user
  </Directory>
</VirtualHost>
)");
  std::string text = describe_config(c);
  EXPECT_NE(text.find("  access in <Location /wp-admin>: Require any(ip 192.0.2.0/24)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  access in <Files wp-login.php>: Order deny,allow; Deny from 203.0.113.7/32\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("access in <Directory /srv/a>"), std::string::npos) << text;  // plain grant: not listed
  EXPECT_NE(text.find("  access in <Directory /srv/a/staging>: Require any(valid-user); AuthType Basic \"Staging\" "
                      "AuthUserFile /srv/a/.htpasswd\n"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace itkd
