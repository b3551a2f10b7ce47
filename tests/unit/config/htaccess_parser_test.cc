// AllowOverride, AllowOverrideList and AccessFileName in the configuration, and what a
// .htaccess file may say under them (Apache's override classes).
#include "config/htaccess_parser.h"

#include <gtest/gtest.h>

#include "parse_support.h"

namespace itkd {
namespace {

using test::kBaseConfig;
using test::parse_err;
using test::parse_ok;
using test::parse_vhost;

const DirectoryBlock& only_directory(const VirtualHost& v) {
  static const DirectoryBlock none;
  return v.directories.empty() ? none : v.directories.back();
}

TEST(AllowOverride, ClassesOptionsAndNonfatal) {
  VirtualHost v = parse_vhost(
      "<Directory /srv/a>\nAllowOverride AuthConfig FileInfo Options=Indexes,MultiViews Nonfatal=Unknown\n"
      "</Directory>\n");
  const DirectoryBlock& d = only_directory(v);
  ASSERT_TRUE(d.allow_override);
  EXPECT_EQ(d.allow_override->classes, kOverrideAuthConfig | kOverrideFileInfo | kOverrideOptions);
  EXPECT_EQ(d.allow_override->options, kOptIndexes | kOptMultiViews);
  EXPECT_TRUE(d.allow_override->nonfatal_unknown);
  EXPECT_FALSE(d.allow_override->nonfatal_override);
  EXPECT_EQ(d.allow_override->where.line, 7);
  EXPECT_TRUE(v.reads_htaccess);
}

TEST(AllowOverride, AllAndNone) {
  EXPECT_EQ(only_directory(parse_vhost("<Directory /srv/a>\nAllowOverride All\n</Directory>\n")).allow_override->classes,
            kOverrideAll);
  VirtualHost none = parse_vhost("<Directory /srv/a>\nAllowOverride None\n</Directory>\n");
  ASSERT_TRUE(only_directory(none).allow_override);
  EXPECT_EQ(only_directory(none).allow_override->classes, 0u);
  EXPECT_FALSE(none.reads_htaccess);  // nothing is read where nothing may be said
  EXPECT_FALSE(parse_vhost("").reads_htaccess);
}

TEST(AllowOverride, ListAloneMakesTheVhostRead) {
  VirtualHost v = parse_vhost("<Directory /srv/a>\nAllowOverrideList RewriteEngine RewriteRule\n</Directory>\n");
  ASSERT_TRUE(only_directory(v).allow_override_list);
  EXPECT_EQ(*only_directory(v).allow_override_list, (std::vector<std::string>{"rewriteengine", "rewriterule"}));
  EXPECT_TRUE(v.reads_htaccess);
}

TEST(AllowOverride, Mistakes) {
  EXPECT_NE(parse_err(kBaseConfig + "<Directory /srv>\nAllowOverride FileInfos\n</Directory>\n").find("t.conf:4:"),
            std::string::npos);
  EXPECT_NE(parse_err(kBaseConfig + "<Directory /srv>\nAllowOverride None All\n</Directory>\n").find("None"),
            std::string::npos);
  EXPECT_NE(parse_err(kBaseConfig + "<Directory /srv>\nAllowOverride Options=Bogus\n</Directory>\n").find("Bogus"),
            std::string::npos);
  EXPECT_NE(parse_err(kBaseConfig + "<Directory /srv>\nAllowOverrideList NoSuchThing\n</Directory>\n").find("NoSuchThing"),
            std::string::npos);
  EXPECT_NE(parse_err(kBaseConfig + "AllowOverride All\n").find("t.conf:3:"), std::string::npos);
  // Apache ignores it in <DirectoryMatch>; itkd says so.
  ServerConfig c = parse_ok(kBaseConfig + "<DirectoryMatch ^/srv>\nAllowOverride All\n</DirectoryMatch>\n");
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_NE(c.warnings[0].find("no effect"), std::string::npos);
  EXPECT_FALSE(c.vhosts[0].reads_htaccess);
}

TEST(AccessFileName, SetAndInherited) {
  ServerConfig c = parse_ok(kBaseConfig + "AccessFileName .config .htaccess\n"
                            "<VirtualHost *:80>\nServerName a\n</VirtualHost>\n"
                            "<VirtualHost *:80>\nServerName b\nAccessFileName .b\n</VirtualHost>\n");
  EXPECT_EQ(c.vhosts[1].access_file_names, (std::vector<std::string>{".config", ".htaccess"}));
  EXPECT_EQ(c.vhosts[2].access_file_names, (std::vector<std::string>{".b"}));
  EXPECT_EQ(parse_ok(kBaseConfig).vhosts[0].access_file_names, (std::vector<std::string>{".htaccess"}));
  EXPECT_NE(parse_err(kBaseConfig + "AccessFileName ../x\n").find("file names"), std::string::npos);
}

TEST(AllowOverride, DescribedByDashT) {
  ServerConfig c = parse_ok(kBaseConfig + "<Directory /srv/main>\nAllowOverride AuthConfig Indexes\n</Directory>\n");
  EXPECT_NE(describe_config(c).find(".htaccess in <Directory /srv/main>: AuthConfig Indexes"), std::string::npos)
      << describe_config(c);
}

// ---- the files themselves ----

HtaccessPermissions allow(unsigned classes) {
  HtaccessPermissions p;
  p.rules.classes = classes;
  p.rules.where = SourceLocation{"site.conf", 12};
  return p;
}

Result<HtaccessBlocks> parse(const std::string& text, const HtaccessPermissions& p) {
  return parse_htaccess(text, "/srv/a/blog/.htaccess", "/srv/a/blog", p, "/etc/itkd");
}

const char kWordPress[] = R"(# BEGIN WordPress
<IfModule mod_rewrite.c>
RewriteEngine On
RewriteBase /blog/
RewriteRule ^index\.php$ - [L]
RewriteCond %{REQUEST_FILENAME} !-f
RewriteCond %{REQUEST_FILENAME} !-d
RewriteRule . /blog/index.php [L]
</IfModule>
# END WordPress
)";

TEST(HtaccessFile, WordPressUnderFileInfo) {
  auto r = parse(kWordPress, allow(kOverrideFileInfo));
  ASSERT_TRUE(r.ok()) << r.error().message;
  const DirectoryBlock& d = r->directory;
  EXPECT_EQ(d.path, "/srv/a/blog");
  EXPECT_TRUE(d.from_htaccess);
  EXPECT_TRUE(d.rewrite.engine.value_or(false));
  EXPECT_EQ(d.rewrite.rules.size(), 2u);
  ASSERT_TRUE(d.rewrite.base);
  EXPECT_EQ(*d.rewrite.base, "/blog/");
}

TEST(HtaccessFile, ClassNotGrantedIsAnErrorWithFileLineAndTheAllowOverride) {
  auto r = parse(kWordPress, allow(kOverrideAuthConfig | kOverrideIndexes));
  ASSERT_FALSE(r.ok());
  const std::string& e = r.error().message;
  EXPECT_NE(e.find("/srv/a/blog/.htaccess:3: RewriteEngine not allowed here: it needs AllowOverride FileInfo"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("site.conf:12"), std::string::npos) << e;
}

TEST(HtaccessFile, NonfatalOverrideSkipsWithAWarning) {
  HtaccessPermissions p = allow(kOverrideIndexes);
  p.rules.nonfatal_override = true;
  auto r = parse("DirectoryIndex home.html\nRequire all denied\n", p);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->directory.access.empty());  // the Require line did not apply
  ASSERT_TRUE(r->directory.directory_index);
  EXPECT_EQ((*r->directory.directory_index)[0], "home.html");
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_NE(r->warnings[0].find(":2: Require not allowed here"), std::string::npos) << r->warnings[0];
}

TEST(HtaccessFile, UnknownDirectives) {
  auto r = parse("Optoins -Indexes\n", allow(kOverrideAll));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(".htaccess:1: unknown directive Optoins"), std::string::npos);
  HtaccessPermissions p = allow(kOverrideAll);
  p.rules.nonfatal_unknown = true;
  auto lenient = parse("Optoins -Indexes\n<Nonsense x>\nRequire all denied\n</Nonsense>\n", p);
  ASSERT_TRUE(lenient.ok()) << lenient.error().message;
  EXPECT_EQ(lenient->warnings.size(), 2u);
  EXPECT_TRUE(lenient->directory.access.empty());  // nothing inside the unknown section applied
}

TEST(HtaccessFile, WhatNoOverrideAllows) {
  for (const char* line : {"<Directory /srv>\n</Directory>\n", "<Location />\n</Location>\n",
                           "<VirtualHost *:80>\n</VirtualHost>\n", "Include /etc/passwd\n", "Define X\n",
                           "php_admin_value open_basedir /\n", "AssignUserID #0 #0\n", "DocumentRoot /\n",
                           "Alias /x /etc\n", "ProxyPassMatch ^/(.*) fcgi://127.0.0.1:9000/$1\n",
                           "AllowOverride All\n", "FcgidWrapper /bin/sh .php\n"}) {
    auto r = parse(line, allow(kOverrideAll));
    EXPECT_FALSE(r.ok()) << line;
    if (!r.ok()) {
      EXPECT_NE(r.error().message.find(".htaccess:1:"), std::string::npos) << r.error().message;
    }
  }
}

TEST(HtaccessFile, EachClassGrantsItsDirectives) {
  struct Case {
    const char* text;
    unsigned needs;
  } cases[] = {
      {"AuthType Basic\nAuthName x\nAuthUserFile /srv/a/.htpasswd\nRequire valid-user\n", kOverrideAuthConfig},
      {"Order deny,allow\nDeny from all\n", kOverrideLimit},
      {"Options -Indexes\n", kOverrideOptions},
      {"php_value upload_max_filesize 64M\n", kOverrideOptions},
      {"DirectoryIndex index.php\n", kOverrideIndexes},
      {"ExpiresActive On\n", kOverrideIndexes},
      {"FallbackResource /index.php\n", kOverrideIndexes},
      {"AddHandler cgi-script .cgi\n", kOverrideFileInfo},
      {"Header set X-Frame-Options DENY\n", kOverrideFileInfo},
      {"SetEnv APP_ENV production\n", kOverrideFileInfo},
      {"SetEnvIf Authorization \"(.*)\" HTTP_AUTHORIZATION=$1\n", kOverrideFileInfo},
      {"Redirect 301 /old /new\n", kOverrideFileInfo},
      {"ErrorDocument 404 /404.php\n", kOverrideFileInfo},
      {"AddType application/font-woff2 .woff2\n", kOverrideFileInfo},
  };
  for (const Case& c : cases) {
    EXPECT_TRUE(parse(c.text, allow(c.needs)).ok()) << c.text;
    EXPECT_FALSE(parse(c.text, allow(kOverrideAll & ~c.needs)).ok()) << c.text;
  }
}

TEST(HtaccessFile, OptionsListLimitsWhichOptions) {
  HtaccessPermissions p = allow(kOverrideOptions);
  p.rules.options = kOptIndexes;
  EXPECT_TRUE(parse("Options -Indexes\n", p).ok());
  auto r = parse("Options +ExecCGI\n", p);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("Option +ExecCGI not allowed here"), std::string::npos) << r.error().message;
}

TEST(HtaccessFile, AllowOverrideListGrantsOnlyItsDirectives) {
  HtaccessPermissions p;
  p.list = {"rewriteengine", "rewriterule"};
  EXPECT_TRUE(parse("RewriteEngine On\nRewriteRule ^x$ y [L]\n", p).ok());
  EXPECT_FALSE(parse("RewriteEngine On\nRewriteCond %{HTTPS} off\nRewriteRule ^x$ y [L]\n", p).ok());
}

TEST(HtaccessFile, FilesBlocksStayInTheirDirectory) {
  auto r = parse("<Files xmlrpc.php>\nRequire all denied\n</Files>\n<FilesMatch \"\\.(ini|log)$\">\n"
                 "Order allow,deny\nDeny from all\n</FilesMatch>\n",
                 allow(kOverrideAuthConfig | kOverrideLimit));
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->files_blocks.size(), 2u);
  for (const FilesBlock& f : r->files_blocks) EXPECT_EQ(f.directory, "/srv/a/blog");
  EXPECT_FALSE(r->files_blocks[0].access.empty());
}

TEST(HtaccessFile, ModulesItkdLacksAreSkippedAndMissingRulesWarned) {
  auto r = parse("<IfModule mod_deflate.c>\nAddOutputFilterByType DEFLATE text/html\n</IfModule>\n"
                 "RewriteCond %{HTTPS} off\n",
                 allow(kOverrideAll));
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_NE(r->warnings[0].find(":4: RewriteCond ignored"), std::string::npos);
}

TEST(HtaccessFile, NotSupportedInDirectoriesYetSaysSo) {
  auto r = parse("RequestHeader set X-A b\n", allow(kOverrideAll));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("inside .htaccess is not supported yet"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace itkd
