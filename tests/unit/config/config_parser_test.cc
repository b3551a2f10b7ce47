#include <gtest/gtest.h>

#include "config/config_lexer.h"
#include "config/config_parser.h"

namespace itkd {
namespace {

ParseOptions no_ids() {
  ParseOptions o;
  o.resolve_identities = false;
  return o;
}

Result<ServerConfig> parse(const std::string& text, const ParseOptions& o = no_ids()) {
  return parse_config_text(text, "t.conf", o);
}

ServerConfig parse_ok(const std::string& text, const ParseOptions& o = no_ids()) {
  auto r = parse(text, o);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? std::move(r).value() : ServerConfig{};
}

std::string parse_err(const std::string& text, const ParseOptions& o = no_ids()) {
  auto r = parse(text, o);
  EXPECT_FALSE(r.ok()) << "expected an error for:\n" << text;
  return r.ok() ? "" : r.error().message;
}

const std::string kBase = "Listen 80\nDocumentRoot /srv/main\n";

// ---- lexer ----

TEST(ConfigLexer, ContinuationAndComments) {
  auto lines = split_logical_lines("  # comment\nServerName \\\n  a.example\n\n\tListen 80  \n# x \\\nstill comment\nEnd");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].text, "ServerName   a.example");
  EXPECT_EQ(lines[0].line, 2);
  EXPECT_EQ(lines[1].text, "Listen 80");
  EXPECT_EQ(lines[1].line, 5);
  EXPECT_EQ(lines[2].text, "End");
  EXPECT_EQ(lines[2].line, 8);
}

TEST(ConfigLexer, HashInsideLineIsNotAComment) {
  auto lines = split_logical_lines("ErrorDocument 404 \"Oops # not a comment\"\n");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].text, "ErrorDocument 404 \"Oops # not a comment\"");
}

TEST(ConfigLexer, QuotedWords) {
  auto w = split_words(R"( a "b c" 'd e' "say \"hi\"" x'y )");
  ASSERT_TRUE(w.ok());
  std::vector<std::string> want{"a", "b c", "d e", "say \"hi\"", "x'y"};
  EXPECT_EQ(*w, want);
}

TEST(ConfigLexer, UnterminatedQuote) {
  EXPECT_FALSE(split_words("\"abc").ok());
}

TEST(ConfigLexer, VariableExpansion) {
  std::map<std::string, std::string> d{{"A", "x"}, {"B", "/y"}};
  EXPECT_EQ(*expand_variables("${A}${B}/z", d), "x/y/z");
  EXPECT_FALSE(expand_variables("${C}", d).ok());
  EXPECT_FALSE(expand_variables("${A", d).ok());
  EXPECT_EQ(*expand_variables("$A {B}", d), "$A {B}");
}

// ---- valid configurations ----

TEST(ConfigParser, TwoVhosts) {
  auto c = parse_ok(R"(
Listen 8080
<VirtualHost *:8080>
  ServerName A.Example.COM
  ServerAlias www.a.example.com *.a.example.org
  DocumentRoot /srv/a/
  AssignUserID #61001 #61001
</VirtualHost>
<VirtualHost *:8080>
  ServerName http://b.example.com:8080
  DocumentRoot /srv//b
  AssignUserID #61002 #61002
</VirtualHost>
)");
  ASSERT_EQ(c.vhosts.size(), 3u);
  EXPECT_TRUE(c.vhosts[0].is_main_server);
  EXPECT_TRUE(c.vhosts[0].addresses.empty());
  EXPECT_EQ(c.vhosts[1].server_name, "a.example.com");
  EXPECT_EQ(c.vhosts[1].server_aliases, (std::vector<std::string>{"www.a.example.com", "*.a.example.org"}));
  EXPECT_EQ(c.vhosts[1].document_root, "/srv/a");
  ASSERT_EQ(c.vhosts[1].addresses.size(), 1u);
  EXPECT_EQ(c.vhosts[1].addresses[0].host, "*");
  EXPECT_EQ(c.vhosts[1].addresses[0].port, 8080);
  EXPECT_EQ(c.vhosts[2].server_name, "b.example.com");
  EXPECT_EQ(c.vhosts[2].document_root, "/srv/b");
  EXPECT_EQ(c.vhosts[1].where.str(), "t.conf:3");
}

TEST(ConfigParser, ListenForms) {
  auto c = parse_ok(R"(
Listen 80
Listen 127.0.0.1:8080
Listen [::1]:81
Listen 443
Listen 8443
DocumentRoot /srv
)");
  ASSERT_EQ(c.listeners.size(), 5u);
  EXPECT_EQ(c.listeners[0].host, "");
  EXPECT_EQ(c.listeners[0].port, 80);
  EXPECT_EQ(c.listeners[0].protocol, "http");
  EXPECT_EQ(c.listeners[1].host, "127.0.0.1");
  EXPECT_EQ(c.listeners[1].port, 8080);
  EXPECT_EQ(c.listeners[2].host, "::1");
  EXPECT_EQ(c.listeners[2].port, 81);
  // Port 443 is https only when TLS vhosts use it (tls_directives_test.cc).
  EXPECT_EQ(c.listeners[3].protocol, "http");
  EXPECT_FALSE(c.listeners[3].tls);
  EXPECT_EQ(c.listeners[4].protocol, "http");
  EXPECT_EQ(c.listeners[1].where.line, 3);
}

TEST(ConfigParser, VhostAddressForms) {
  auto c = parse_ok(kBase + R"(
Listen 127.0.0.1:8080
Listen [::1]:8081
<VirtualHost 127.0.0.1:8080 [::1]:8081 _default_:80 * [0:0:0:0:0:0:0:1]>
  ServerName x
</VirtualHost>
)");
  const auto& a = c.vhosts[1].addresses;
  ASSERT_EQ(a.size(), 5u);
  EXPECT_EQ(a[0].host, "127.0.0.1");
  EXPECT_EQ(a[0].port, 8080);
  EXPECT_EQ(a[1].host, "::1");
  EXPECT_EQ(a[1].port, 8081);
  EXPECT_EQ(a[2].host, "_default_");
  EXPECT_EQ(a[3].host, "*");
  EXPECT_EQ(a[3].port, 0);
  EXPECT_EQ(a[4].host, "::1");
}

TEST(ConfigParser, CaseInsensitiveDirectivesAndSections) {
  auto c = parse_ok("listen 80\ndocumentroot /srv\n<virtualhost *:80>\nSERVERNAME a\n</VIRTUALHOST>\n");
  EXPECT_EQ(c.vhosts[1].server_name, "a");
}

TEST(ConfigParser, DefineAndVariables) {
  auto c = parse_ok(R"(
Define ROOT /srv/www
Define PORT 8081
Define FLAG
Listen ${PORT}
DocumentRoot ${ROOT}/main
<IfDefine FLAG>
  ServerName flag.example
</IfDefine>
<IfDefine !FLAG>
  ServerName noflag.example
</IfDefine>
)");
  EXPECT_EQ(c.listeners[0].port, 8081);
  EXPECT_EQ(c.vhosts[0].document_root, "/srv/www/main");
  EXPECT_EQ(c.vhosts[0].server_name, "flag.example");
}

TEST(ConfigParser, IfDefineFromOptions) {
  ParseOptions o = no_ids();
  o.defines = {"STAGING"};
  auto c = parse_ok(kBase + "<IfDefine STAGING>\nServerName staging\n</IfDefine>\n"
                            "<IfDefine !STAGING>\nServerName prod\n</IfDefine>\n", o);
  EXPECT_EQ(c.vhosts[0].server_name, "staging");
  auto c2 = parse_ok(kBase + "<IfDefine STAGING>\nServerName staging\n</IfDefine>\n"
                             "<IfDefine !STAGING>\nServerName prod\n</IfDefine>\n");
  EXPECT_EQ(c2.vhosts[0].server_name, "prod");
}

TEST(ConfigParser, UnDefine) {
  auto c = parse_ok(kBase + "Define X\nUnDefine X\n<IfDefine X>\nServerName x\n</IfDefine>\n");
  EXPECT_EQ(c.vhosts[0].server_name, "");
}

TEST(ConfigParser, IfModuleBothPolarities) {
  auto c = parse_ok(kBase + R"(
<IfModule mod_mime.c>
  AddType text/x-a .a
</IfModule>
<IfModule mime_module>
  AddType text/x-b B
</IfModule>
<IfModule mpm_itk_module>
  MaxClientsVHost 7
</IfModule>
<IfModule !mod_mime.c>
  AddType text/x-c .c
</IfModule>
<IfModule mod_php7.c>
  php_admin_value engine Off
  <Files x>
    Bogus
  </Files>
</IfModule>
<IfModule !mod_php7.c>
  AddType text/x-d .d
</IfModule>
)");
  const auto& t = c.vhosts[0].add_types;
  EXPECT_EQ(t.at(".a"), "text/x-a");
  EXPECT_EQ(t.at(".b"), "text/x-b");
  EXPECT_EQ(t.count(".c"), 0u);
  EXPECT_EQ(t.at(".d"), "text/x-d");
  EXPECT_EQ(c.vhosts[0].max_clients, 7u);
}

TEST(ConfigParser, IfModuleNestedInVhost) {
  auto c = parse_ok(kBase + "<VirtualHost *:80>\n<IfModule mod_dir.c>\nDirectoryIndex a.html\n</IfModule>\n</VirtualHost>\n");
  EXPECT_EQ(c.vhosts[1].directory_index, (std::vector<std::string>{"a.html"}));
}

TEST(ConfigParser, Inheritance) {
  auto c = parse_ok(R"(
Listen 80
DocumentRoot /srv/main
DirectoryIndex index.php index.html
Timeout 30
KeepAlive Off
LimitRequestBody 1000
Alias /icons/ /usr/share/icons/
ErrorDocument 404 /404.html
ErrorDocument 500 "Oops"
AddType text/plain .txt
AddDefaultCharset utf-8
CustomLog /var/log/access.log combined
<Directory /srv>
  Options Indexes
</Directory>
<VirtualHost *:80>
  ServerName inherits
</VirtualHost>
<VirtualHost *:80>
  ServerName overrides
  DocumentRoot /srv/o
  DirectoryIndex default.htm
  Timeout 5
  Alias /x /srv/x
  ErrorDocument 404 /mine.html
  AddType text/html .txt
  CustomLog /var/log/o.log common
  <Directory /srv/o>
    Options None
  </Directory>
</VirtualHost>
)");
  const auto& a = c.vhosts[1];
  EXPECT_EQ(a.document_root, "/srv/main");
  EXPECT_EQ(a.directory_index, (std::vector<std::string>{"index.php", "index.html"}));
  EXPECT_EQ(a.limits.timeout_s, 30u);
  EXPECT_FALSE(a.limits.keep_alive);
  EXPECT_EQ(a.limits.limit_request_body, 1000u);
  ASSERT_EQ(a.aliases.size(), 1u);
  EXPECT_EQ(a.aliases[0].url_prefix, "/icons/");
  EXPECT_EQ(a.aliases[0].target, "/usr/share/icons/");
  EXPECT_EQ(a.error_documents.size(), 2u);
  EXPECT_EQ(a.add_types.at(".txt"), "text/plain");
  EXPECT_EQ(a.default_charset, "utf-8");
  ASSERT_EQ(a.custom_logs.size(), 1u);
  EXPECT_EQ(a.custom_logs[0].path, "/var/log/access.log");
  ASSERT_EQ(a.directories.size(), 1u);

  const auto& b = c.vhosts[2];
  EXPECT_EQ(b.document_root, "/srv/o");
  EXPECT_EQ(b.directory_index, (std::vector<std::string>{"default.htm"}));
  EXPECT_EQ(b.limits.timeout_s, 5u);
  EXPECT_FALSE(b.limits.keep_alive);
  ASSERT_EQ(b.aliases.size(), 2u);
  EXPECT_EQ(b.aliases[0].url_prefix, "/x");  // vhost's own first
  EXPECT_EQ(b.aliases[1].url_prefix, "/icons/");
  ASSERT_EQ(b.error_documents.size(), 2u);
  for (const auto& e : b.error_documents) {
    if (e.status == 404) {
      EXPECT_EQ(e.value, "/mine.html");
    }
  }
  EXPECT_EQ(b.add_types.at(".txt"), "text/html");
  ASSERT_EQ(b.custom_logs.size(), 1u);  // own CustomLog: global ones not inherited
  EXPECT_EQ(b.custom_logs[0].path, "/var/log/o.log");
  EXPECT_EQ(b.custom_logs[0].format, "%h %l %u %t \"%r\" %>s %O");
  ASSERT_EQ(b.directories.size(), 2u);  // global first
  EXPECT_EQ(b.directories[0].path, "/srv");
  EXPECT_EQ(b.directories[1].path, "/srv/o");
  EXPECT_EQ(*b.directories[1].options, 0u);
}

TEST(ConfigParser, GlobalDirectivesAfterVhostStillInherited) {
  auto c = parse_ok("Listen 80\n<VirtualHost *:80>\nServerName a\n</VirtualHost>\nDocumentRoot /late\nTimeout 9\n");
  EXPECT_EQ(c.vhosts[1].document_root, "/late");
  EXPECT_EQ(c.vhosts[1].limits.timeout_s, 9u);
}

TEST(ConfigParser, VhostWithoutServerNameInheritsMainName) {
  auto c = parse_ok(kBase + "ServerName main.example\n<VirtualHost *:80>\n</VirtualHost>\n");
  EXPECT_EQ(c.vhosts[1].server_name, "main.example");
}

TEST(ConfigParser, PoolsGroupByOwner) {
  auto c = parse_ok(R"(
Listen 80
User #33
Group #33
DocumentRoot /srv
<VirtualHost *:80>
  ServerName a
  AssignUserID #61001 #61001
  NiceValue 5
</VirtualHost>
<VirtualHost *:80>
  ServerName b
  AssignUserID #61002 #61002
</VirtualHost>
<VirtualHost *:80>
  ServerName c
  AssignUserID #61001 #61001
  NiceValue 10
</VirtualHost>
<VirtualHost *:80>
  ServerName d
</VirtualHost>
)");
  ASSERT_EQ(c.pools.size(), 3u);
  EXPECT_EQ(c.pools[0].user, "#33");  // main server first
  EXPECT_EQ(c.pools[0].uid, 33u);
  EXPECT_EQ(c.pools[0].vhosts, (std::vector<size_t>{0, 4}));
  EXPECT_EQ(c.pools[1].uid, 61001u);
  EXPECT_EQ(c.pools[1].gid, 61001u);
  EXPECT_EQ(c.pools[1].vhosts, (std::vector<size_t>{1, 3}));
  EXPECT_EQ(c.pools[1].nice_value, 5);
  EXPECT_EQ(c.pools[2].vhosts, (std::vector<size_t>{2}));
  EXPECT_EQ(c.vhosts[3].pool, 1u);
  EXPECT_EQ(c.vhosts[4].pool, 0u);
}

TEST(ConfigParser, ProtocolsKeepsHttp11) {
  auto c = parse_ok(kBase + "Protocols h2 http/1.1\nProtocolsHonorOrder On\nDefaultType text/plain\n");
  ASSERT_EQ(c.warnings.size(), 3u);
  EXPECT_NE(c.warnings[0].find("t.conf:3: Protocols h2 ignored: HTTP/2 is not supported yet"), std::string::npos);
  EXPECT_NE(parse_err(kBase + "Protocols h2\n").find("t.conf:3: Protocols h2: itkd speaks only HTTP/1.1"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "Protocols spdy/3 http/1.1\n").find("unknown protocol 'spdy/3'"), std::string::npos);
}

TEST(ConfigParser, FileETagForms) {
  auto c = parse_ok(kBase + "FileETag None\n<VirtualHost *:80>\nServerName a\nFileETag +INode\n"
                            "<Directory /srv/a/x>\nFileETag All\n</Directory>\n<Directory /srv/a/y>\n"
                            "FileETag -Size\n</Directory>\n</VirtualHost>\n<VirtualHost *:80>\nServerName b\n</VirtualHost>\n");
  EXPECT_EQ(c.vhosts[0].file_etag.apply(kDefaultFileETag), 0u);
  EXPECT_EQ(c.vhosts[1].file_etag.apply(kDefaultFileETag), unsigned{kETagINode});  // +INode on the server's None
  EXPECT_EQ(c.vhosts[2].file_etag.apply(kDefaultFileETag), 0u);                     // inherits None
  EXPECT_EQ(c.vhosts[1].directories[0].file_etag.apply(0), unsigned{kETagINode | kETagMTime | kETagSize});
  EXPECT_EQ(c.vhosts[1].directories[1].file_etag.apply(kDefaultFileETag), unsigned{kETagMTime});
  EXPECT_NE(parse_err(kBase + "FileETag Hash\n").find("t.conf:3: FileETag: unknown part 'Hash'"), std::string::npos);
  EXPECT_NE(parse_err(kBase + "FileETag MTime -Size\n").find("mix of +/- parts"), std::string::npos);
}

TEST(ConfigParser, RedirectMatchAndFixedStatusForms) {
  auto c = parse_ok(kBase + "RedirectMatch permanent ^/old/(.*)$ https://n.example/$1\n"
                            "RedirectMatch \"\\.bak$\" /\nRedirectPermanent /a https://n.example/a\n"
                            "RedirectTemp /b /c\nRedirectMatch 410 ^/gone\n");
  const auto& r = c.vhosts[0].redirects;
  ASSERT_EQ(r.size(), 5u);
  EXPECT_TRUE(r[0].is_regex);
  EXPECT_EQ(r[0].status, 301);
  EXPECT_EQ(r[1].status, 302);
  EXPECT_EQ(r[2].status, 301);
  EXPECT_FALSE(r[2].is_regex);
  EXPECT_EQ(r[3].status, 302);
  EXPECT_EQ(r[4].status, 410);
  EXPECT_NE(parse_err(kBase + "RedirectMatch \"(\" /x\n").find("t.conf:3: RedirectMatch: bad regular expression"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "RedirectMatch 301 ^/x\n").find("URL to redirect to is missing"), std::string::npos);
  // In a <Directory> (or .htaccess) it belongs to the directory's files.
  ServerConfig d = parse_ok(kBase + "<Directory /srv>\nRedirectMatch ^/x /y\nRedirect gone /old\n</Directory>\n");
  ASSERT_EQ(d.vhosts[0].directories.size(), 1u);
  EXPECT_EQ(d.vhosts[0].directories[0].redirects.size(), 2u);
  EXPECT_TRUE(d.vhosts[0].redirects.empty());
  EXPECT_TRUE(d.vhosts[0].has_directory_redirects);
}

TEST(ConfigParser, SuexecUserGroupNamesTheOwnerLikeAssignUserID) {
  auto c = parse_ok(kBase + "<VirtualHost *:80>\nServerName a\n<IfModule mod_suexec.c>\n"
                            "SuexecUserGroup #61001 #61001\n</IfModule>\n</VirtualHost>\n"
                            "<VirtualHost *:80>\nServerName b\nSuexecUserGroup #61002 #61002\n"
                            "AssignUserID #61002 #61002\n</VirtualHost>\n");
  EXPECT_EQ(c.vhosts[1].assign_user, "#61001");
  EXPECT_EQ(c.pools[c.vhosts[1].pool].uid, 61001u);
  EXPECT_EQ(c.pools[c.vhosts[2].pool].uid, 61002u);
  auto err = parse_err(kBase + "<VirtualHost *:80>\nServerName a\nAssignUserID #61001 #61001\n"
                               "SuexecUserGroup #61002 #61002\n</VirtualHost>\n");
  EXPECT_NE(err.find("t.conf:6: SuexecUserGroup #61002 #61002 names another owner than #61001 #61001 at t.conf:5"),
            std::string::npos)
      << err;
}

TEST(ConfigParser, GlobalAssignUserIDIsDefault) {
  auto c = parse_ok(kBase + "AssignUserID #5000 #5000\n<VirtualHost *:80>\nServerName a\n</VirtualHost>\n");
  ASSERT_EQ(c.pools.size(), 1u);
  EXPECT_EQ(c.pools[0].vhosts, (std::vector<size_t>{0, 1}));
  EXPECT_EQ(c.vhosts[1].assign_user, "#5000");
}

TEST(ConfigParser, PoolsByNameWithoutResolution) {
  auto c = parse_ok(kBase + "<VirtualHost *:80>\nAssignUserID alice alice\n</VirtualHost>\n"
                            "<VirtualHost *:80>\nAssignUserID alice alice\n</VirtualHost>\n");
  ASSERT_EQ(c.pools.size(), 2u);
  EXPECT_EQ(c.pools[1].user, "alice");
  EXPECT_EQ(c.pools[1].vhosts.size(), 2u);
}

TEST(ConfigParser, OptionsForms) {
  auto c = parse_ok(kBase + R"(
<Directory /a>
  Options All
</Directory>
<Directory /b>
  Options +Indexes -FollowSymLinks
  Options +ExecCGI
</Directory>
<Directory /c>
  Options Indexes FollowSymLinks
  Options -Indexes +MultiViews
</Directory>
<Directory /d>
  Options None
</Directory>
<Directory /e/>
  Options SymLinksIfOwnerMatch IncludesNOEXEC
</Directory>
)");
  const auto& d = c.vhosts[0].directories;
  ASSERT_EQ(d.size(), 5u);
  EXPECT_EQ(*d[0].options, unsigned(kOptIndexes | kOptExecCGI | kOptFollowSymLinks | kOptIncludes));
  EXPECT_FALSE(d[1].options.has_value());
  EXPECT_EQ(d[1].options_add, unsigned(kOptIndexes | kOptExecCGI));
  EXPECT_EQ(d[1].options_remove, unsigned(kOptFollowSymLinks));
  EXPECT_EQ(*d[2].options, unsigned(kOptFollowSymLinks | kOptMultiViews));
  EXPECT_EQ(*d[3].options, 0u);
  EXPECT_EQ(d[4].path, "/e");
  EXPECT_EQ(*d[4].options, unsigned(kOptSymLinksIfOwnerMatch | kOptIncludes));
}

TEST(ConfigParser, DirectoryBlocks) {
  auto c = parse_ok(kBase + R"(
<Directory />
  AllowOverride None
  Require all denied
</Directory>
<Directory "/srv/www/">
  Require all granted
  DirectoryIndex home.html
  DirectoryIndex index.html
</Directory>
<Directory ~ "^/srv/[a-z]+/cgi">
  DirectoryIndex disabled
</Directory>
<DirectoryMatch "\.git">
  Require all denied
</DirectoryMatch>
)");
  const auto& d = c.vhosts[0].directories;
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d[0].path, "/");
  EXPECT_EQ(describe_require(*d[0].access.require), "any(all denied)");
  EXPECT_EQ(d[1].path, "/srv/www");
  EXPECT_EQ(describe_require(*d[1].access.require), "any(all granted)");
  EXPECT_EQ(*d[1].directory_index, (std::vector<std::string>{"home.html", "index.html"}));
  EXPECT_TRUE(d[2].is_regex);
  EXPECT_EQ(d[2].path, "^/srv/[a-z]+/cgi");
  EXPECT_TRUE(d[2].directory_index->empty());
  EXPECT_TRUE(d[3].is_regex);
  EXPECT_EQ(d[1].where.line, 8);
}

TEST(ConfigParser, AliasesAndRedirects) {
  auto c = parse_ok(kBase + R"(
Alias /icons/ /usr/share/apache2/icons/
ScriptAlias /cgi-bin/ /usr/lib/cgi-bin/
Redirect /a http://x.example/b
Redirect permanent /p https://x.example/p
Redirect temp /t /local
Redirect seeother /s http://x/s
Redirect gone /g
Redirect 308 /e http://x/e
Redirect 410 /f
)");
  const auto& v = c.vhosts[0];
  ASSERT_EQ(v.aliases.size(), 2u);
  EXPECT_FALSE(v.aliases[0].is_script);
  EXPECT_TRUE(v.aliases[1].is_script);
  ASSERT_EQ(v.redirects.size(), 7u);
  EXPECT_EQ(v.redirects[0].status, 302);
  EXPECT_EQ(v.redirects[0].url_prefix, "/a");
  EXPECT_EQ(v.redirects[0].target, "http://x.example/b");
  EXPECT_EQ(v.redirects[1].status, 301);
  EXPECT_EQ(v.redirects[2].status, 302);
  EXPECT_EQ(v.redirects[2].target, "/local");
  EXPECT_EQ(v.redirects[3].status, 303);
  EXPECT_EQ(v.redirects[4].status, 410);
  EXPECT_EQ(v.redirects[4].target, "");
  EXPECT_EQ(v.redirects[5].status, 308);
  EXPECT_EQ(v.redirects[6].status, 410);
}

TEST(ConfigParser, ErrorDocuments) {
  auto c = parse_ok(kBase + R"(
ErrorDocument 404 /errors/404.html
ErrorDocument 500 http://errors.example/500
ErrorDocument 403 "Go  away, please"
ErrorDocument 401 "Unterminated text
ErrorDocument 503 /first
ErrorDocument 503 default
)");
  const auto& e = c.vhosts[0].error_documents;
  ASSERT_EQ(e.size(), 4u);
  EXPECT_EQ(e[0].kind, ErrorDocumentRule::Kind::LocalUrl);
  EXPECT_EQ(e[0].value, "/errors/404.html");
  EXPECT_EQ(e[1].kind, ErrorDocumentRule::Kind::ExternalUrl);
  EXPECT_EQ(e[2].kind, ErrorDocumentRule::Kind::Text);
  EXPECT_EQ(e[2].value, "Go  away, please");
  EXPECT_EQ(e[3].value, "Unterminated text");
}

TEST(ConfigParser, AddTypeNormalized) {
  auto c = parse_ok(kBase + "AddType Application/X-Foo FOO .Bar baz\n");
  const auto& t = c.vhosts[0].add_types;
  EXPECT_EQ(t.at(".foo"), "application/x-foo");
  EXPECT_EQ(t.at(".bar"), "application/x-foo");
  EXPECT_EQ(t.at(".baz"), "application/x-foo");
}

TEST(ConfigParser, LogsAndFormats) {
  auto c = parse_ok(R"(
ServerRoot /etc/itkd
Listen 80
DocumentRoot /srv
ErrorLog logs/error.log
LogLevel info ssl:warn
LogFormat "%h %>s" short
CustomLog /var/log/a.log short
CustomLog /var/log/b.log "%h %U"
CustomLog /var/log/c.log vhost_combined_undefined_is_a_format
CustomLog /var/log/d.log combined
LogFormat "%v %h"
TransferLog logs/t.log
CustomLog /var/log/late.log latenick
LogFormat "%D" latenick
)");
  EXPECT_EQ(c.error_log, "/etc/itkd/logs/error.log");
  EXPECT_EQ(c.log_level, "info");
  const auto& l = c.vhosts[0].custom_logs;
  ASSERT_EQ(l.size(), 6u);
  EXPECT_EQ(l[0].format, "%h %>s");
  EXPECT_EQ(l[1].format, "%h %U");
  EXPECT_EQ(l[2].format, "vhost_combined_undefined_is_a_format");
  EXPECT_EQ(l[3].format, "%h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"");
  EXPECT_EQ(l[4].path, "/etc/itkd/logs/t.log");
  EXPECT_EQ(l[4].format, "%v %h");
  EXPECT_EQ(l[5].format, "%D");
  EXPECT_EQ(l[0].where.line, 8);
  EXPECT_FALSE(c.warnings.empty());  // ssl:warn
}

TEST(ConfigParser, LimitsAndTimeouts) {
  auto c = parse_ok(kBase + R"(
Timeout 11
KeepAlive off
KeepAliveTimeout 3
MaxKeepAliveRequests 0
LimitRequestLine 4000
LimitRequestFieldSize 5000
LimitRequestFields 50
LimitRequestBody 0
RequestReadTimeout header=20-40,MinRate=500 body=20,MinRate=500
)");
  const auto& l = c.vhosts[0].limits;
  EXPECT_EQ(l.timeout_s, 11u);
  EXPECT_FALSE(l.keep_alive);
  EXPECT_EQ(l.keep_alive_timeout_s, 3u);
  EXPECT_EQ(l.max_keep_alive_requests, 0u);
  EXPECT_EQ(l.limit_request_line, 4000u);
  EXPECT_EQ(l.limit_request_field_size, 5000u);
  EXPECT_EQ(l.limit_request_fields, 50u);
  EXPECT_EQ(l.limit_request_body, 0u);
  EXPECT_EQ(l.request_header_timeout_s, 20u);
}

TEST(ConfigParser, ItkAndFrontDirectives) {
  auto c = parse_ok(kBase + R"(
LimitUIDRange 1000 70000
LimitGIDRange 1000 70000
FrontUser #65000
FrontGroup #65000
FrontChroot /var/empty/
FrontProcesses 4
PoolMaxWorkers 8
PoolIdleTimeout 30
PidFile /run/itkd.pid
User #2000
Group #2000
<VirtualHost *:80>
  ServerName a
  MaxClientsVHost 20
  NiceValue -5
  AssignUserID #3000 #3001
</VirtualHost>
)");
  EXPECT_EQ(c.limit_uid_range->first, 1000u);
  EXPECT_EQ(c.limit_gid_range->second, 70000u);
  EXPECT_EQ(c.front_user, "#65000");
  EXPECT_EQ(c.front_chroot, "/var/empty");
  EXPECT_EQ(c.front_processes, 4u);
  EXPECT_EQ(c.pool_max_workers, 8u);
  EXPECT_EQ(c.pool_idle_timeout_s, 30u);
  EXPECT_EQ(c.pid_file, "/run/itkd.pid");
  EXPECT_EQ(c.vhosts[1].max_clients, 20u);
  EXPECT_EQ(c.vhosts[1].nice_value, -5);
  EXPECT_EQ(c.pools[1].uid, 3000u);
  EXPECT_EQ(c.pools[1].gid, 3001u);
  EXPECT_EQ(c.pools[1].nice_value, -5);
}

TEST(ConfigParser, HarmlessDirectivesWarn) {
  auto c = parse_ok(kBase + "LoadModule foo_module modules/foo.so\nServerAdmin a@b\nServerTokens Prod\n"
                            "IndexIgnore .??* *~\n");
  ASSERT_EQ(c.warnings.size(), 4u);
  EXPECT_EQ(c.warnings[1].rfind("t.conf:4: ServerAdmin ignored: ", 0), 0u) << c.warnings[1];
  EXPECT_NE(c.warnings[3].find("one style"), std::string::npos);
}

TEST(ConfigParser, FilesBlockParsedWithWarning) {
  auto c = parse_ok(kBase + "<FilesMatch \"\\.txt$\">\n  AddType text/plain .txt\n</FilesMatch>\n");
  EXPECT_GE(c.warnings.size(), 1u);
  EXPECT_EQ(c.vhosts[0].add_types.count(".txt"), 0u);  // not applied
}

TEST(ConfigParser, ServerRootRelativePaths) {
  auto c = parse_ok("ServerRoot /opt/itkd\nListen 80\nDocumentRoot htdocs\nTypesConfig conf/mime.types\n");
  EXPECT_EQ(c.server_root, "/opt/itkd");
  EXPECT_EQ(c.vhosts[0].document_root, "/opt/itkd/htdocs");
  EXPECT_EQ(c.types_config, "/opt/itkd/conf/mime.types");
}

TEST(ConfigParser, DescribeConfig) {
  auto c = parse_ok(R"(
Listen 127.0.0.1:8080
DocumentRoot /srv/main
ServerAdmin x@y
<VirtualHost *:8080>
  ServerName example.com
  ServerAlias www.example.com
  DocumentRoot /srv/a
  AssignUserID #61001 #61001
  php_admin_value open_basedir /srv/a
  php_value memory_limit 64M
  <Directory /srv/a/uploads>
    php_admin_flag engine off
  </Directory>
</VirtualHost>
)");
  std::string d = describe_config(c);
  EXPECT_NE(d.find("\n  php: admin open_basedir=/srv/a, memory_limit=64M\n"), std::string::npos) << d;
  EXPECT_NE(d.find("\n  php in <Directory /srv/a/uploads>: admin engine=0\n"), std::string::npos) << d;
  EXPECT_NE(d.find("Listen 127.0.0.1:8080 (http)"), std::string::npos) << d;
  EXPECT_NE(d.find("vhost example.com (aliases: www.example.com) on *:8080 docroot /srv/a -> pool 1 (#61001 uid 61001 gid 61001)"),
            std::string::npos) << d;
  EXPECT_NE(d.find("pool 1: #61001:#61001 uid 61001 gid 61001, vhosts: example.com"), std::string::npos) << d;
  EXPECT_NE(d.find("warning: t.conf:4: ServerAdmin ignored"), std::string::npos) << d;
}

TEST(ConfigParser, ResolvesNumericIdentities) {
  ParseOptions o;
  o.resolve_identities = true;
  auto c = parse_ok(kBase + "User #2000\nGroup #2000\nFrontUser #65000\nFrontGroup #65000\n"
                            "<VirtualHost *:80>\nAssignUserID #61001 #61002\n</VirtualHost>\n", o);
  ASSERT_EQ(c.pools.size(), 2u);
  EXPECT_EQ(c.pools[1].uid, 61001u);
  EXPECT_EQ(c.pools[1].gid, 61002u);
  EXPECT_EQ(c.pools[1].groups, (std::vector<gid_t>{61002}));
}

TEST(ConfigParser, EndToEndHarnessStyleConfig) {
  // The shape tests/e2e/itkd_harness.py writes: checked with identities resolved.
  ParseOptions o;
  o.resolve_identities = true;
  auto c = parse_ok(R"(ServerRoot /tmp/itkd-e2e-x
Listen 127.0.0.1:40001
User #61950
Group #61950
FrontUser #61900
FrontGroup #61900
FrontChroot /tmp/itkd-e2e-x/empty
FrontProcesses 2
PoolMaxWorkers 2
PidFile /tmp/itkd-e2e-x/logs/itkd.pid
ErrorLog /tmp/itkd-e2e-x/logs/error.log
LogLevel info
LogFormat "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\"" combined
LogFormat "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\" pid=%P" withpid
DocumentRoot /tmp/itkd-e2e-x/main-www

<VirtualHost *:40001>
  ServerName alice.test
  ServerAlias www.alice.test
  DocumentRoot /tmp/itkd-e2e-x/alice/www
  AssignUserID #61001 #61001
  CustomLog /tmp/itkd-e2e-x/alice/access.log withpid
  ErrorLog /tmp/itkd-e2e-x/alice/error.log
  MaxClientsVHost 2
  <Directory /tmp/itkd-e2e-x/alice/www/follow>
    Options FollowSymLinks
  </Directory>
</VirtualHost>
<VirtualHost *:40001>
  ServerName bob.test
  DocumentRoot /tmp/itkd-e2e-x/bob/www
  AssignUserID #61002 #61002
  CustomLog /tmp/itkd-e2e-x/bob/access.log combined
  ErrorLog /tmp/itkd-e2e-x/bob/error.log
</VirtualHost>
)", o);
  ASSERT_EQ(c.pools.size(), 3u);
  EXPECT_EQ(c.pools[0].uid, 61950u);
  EXPECT_EQ(c.vhosts[1].custom_logs[0].format,
            "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\" pid=%P");
  EXPECT_EQ(c.vhosts[2].error_log, "/tmp/itkd-e2e-x/bob/error.log");
  EXPECT_EQ(c.log_level, "info");
  EXPECT_TRUE(c.warnings.empty());
}

TEST(ConfigParser, ResolvesNamedIdentities) {
  // Debian always has www-data (33) and nobody/nogroup (65534): the defaults.
  ParseOptions o;
  o.resolve_identities = true;
  auto c = parse_ok(kBase, o);
  ASSERT_EQ(c.pools.size(), 1u);
  EXPECT_EQ(c.pools[0].uid, 33u);
  EXPECT_FALSE(c.pools[0].groups.empty());
}

// ---- errors, each with its file:line ----

TEST(ConfigErrors, UnknownDirective) {
  EXPECT_EQ(parse_err(kBase + "Frobnicate on\n"),
            "t.conf:3: unknown directive Frobnicate (perhaps a misspelling, or a module itkd does not provide)");
}

TEST(ConfigErrors, UnknownSection) {
  EXPECT_EQ(parse_err(kBase + "<Frobnicate *>\nRequire all granted\n</Frobnicate>\nListen 81\n"),
            "t.conf:3: unknown directive <Frobnicate> (perhaps a misspelling, or a module itkd does not provide)");
}

TEST(ConfigErrors, WrongContext) {
  EXPECT_EQ(parse_err(kBase + "<Directory /srv>\nDocumentRoot /x\n</Directory>\n"),
            "t.conf:4: DocumentRoot not allowed in <Directory>");
  EXPECT_EQ(parse_err(kBase + "<VirtualHost *:80>\nUser bob\n</VirtualHost>\n"),
            "t.conf:4: User not allowed in <VirtualHost>");
  EXPECT_NE(parse_err(kBase + "Options Indexes\n").find("t.conf:3: Options not allowed in the main server config"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "ServerAlias x\n").find("t.conf:3: ServerAlias not allowed"), std::string::npos);
  EXPECT_EQ(parse_err(kBase + "<VirtualHost *:80>\n<VirtualHost *:80>\n</VirtualHost>\n</VirtualHost>\n"),
            "t.conf:4: VirtualHost not allowed in <VirtualHost>");
}

TEST(ConfigErrors, DirectoryUnsupported) {
  EXPECT_NE(parse_err(kBase + "<Directory /srv>\nLimitRequestBody 100\n</Directory>\n")
                .find("t.conf:4: LimitRequestBody inside <Directory> is not supported yet"),
            std::string::npos);
  ServerConfig c = parse_ok(kBase + "<Directory /srv>\nSetEnvIf Authorization \"(.*)\" HTTP_AUTHORIZATION=$1\n"
                                    "BrowserMatch MSIE nokeepalive\n</Directory>\n");
  EXPECT_EQ(c.vhosts[0].directories[0].setenvif.size(), 2u);
  EXPECT_TRUE(c.vhosts[0].setenvif.empty());
  EXPECT_TRUE(c.vhosts[0].has_directory_setenvif);
}

TEST(ConfigParser, TypesAndErrorDocumentsInDirectories) {
  ServerConfig c = parse_ok(kBase + "ErrorDocument 404 /404.html\n<Directory /srv>\nAddType text/x-a .a\n"
                                    "AddDefaultCharset utf-8\nErrorDocument 404 default\nErrorDocument 500 \"oops\n"
                                    "</Directory>\n");
  const VirtualHost& v = c.vhosts[0];
  ASSERT_EQ(v.directories.size(), 1u);
  const DirectoryBlock& d = v.directories[0];
  EXPECT_EQ(d.add_types.at(".a"), "text/x-a");
  EXPECT_EQ(d.default_charset.value_or("-"), "utf-8");
  ASSERT_EQ(d.error_documents.size(), 2u);
  EXPECT_EQ(d.error_documents[0].value, "default");  // kept: it undoes the server's 404 page there
  EXPECT_TRUE(v.add_types.empty());
  EXPECT_EQ(v.error_documents.size(), 1u);
  EXPECT_TRUE(v.has_directory_types);
  EXPECT_TRUE(v.has_directory_error_documents);
  EXPECT_FALSE(v.has_directory_redirects);
}

TEST(ConfigErrors, BadArgumentCounts) {
  EXPECT_EQ(parse_err(kBase + "DocumentRoot\n"), "t.conf:3: DocumentRoot takes exactly 1 argument, got 0");
  EXPECT_EQ(parse_err(kBase + "AssignUserID a\n"), "t.conf:3: AssignUserID takes exactly 2 arguments, got 1");
  EXPECT_EQ(parse_err(kBase + "Listen 1 http x\n"), "t.conf:3: Listen takes 1 to 2 arguments, got 3");
}

TEST(ConfigErrors, BadValues) {
  EXPECT_NE(parse_err(kBase + "Listen 70000\n").find("t.conf:3: Listen port must be a number"), std::string::npos);
  EXPECT_NE(parse_err(kBase + "Listen example.com:80\n").find("t.conf:3: Listen needs an IP address"), std::string::npos);
  EXPECT_NE(parse_err(kBase + "Listen 80 gopher\n").find("t.conf:3:"), std::string::npos);
  EXPECT_NE(parse_err(kBase + "Listen 80\n").find("t.conf:3: Listen 80 repeats the one at t.conf:1"), std::string::npos);
  EXPECT_NE(parse_err(kBase + "KeepAlive maybe\n").find("t.conf:3: KeepAlive must be On or Off"), std::string::npos);
  EXPECT_NE(parse_err(kBase + "Timeout -1\n").find("t.conf:3: Timeout must be a number"), std::string::npos);
  EXPECT_NE(parse_err(kBase + "NiceValue 20\n").find("t.conf:3: NiceValue must be a number from -20 to 19"), std::string::npos);
  EXPECT_NE(parse_err(kBase + "LimitUIDRange 10 5\n").find("t.conf:3: LimitUIDRange minimum"), std::string::npos);
  EXPECT_NE(parse_err(kBase + "ServerRoot relative\n").find("t.conf:3: ServerRoot must be an absolute path"), std::string::npos);
  EXPECT_NE(parse_err(kBase + "DocumentRoot /a/../b\n").find("t.conf:3:"), std::string::npos);
  EXPECT_NE(parse_err(kBase + "AddType .html\n").find("t.conf:3:"), std::string::npos);
  EXPECT_NE(parse_err(kBase + "RequestReadTimeout header=abc\n").find("t.conf:3:"), std::string::npos);
  EXPECT_NE(parse_err(kBase + "ErrorDocument 200 /x\n").find("t.conf:3: ErrorDocument status"), std::string::npos);
  EXPECT_NE(parse_err(kBase + "LogLevel loud\n").find("t.conf:3: LogLevel"), std::string::npos);
}

TEST(ConfigErrors, OptionsMixingIsAnError) {
  EXPECT_NE(parse_err(kBase + "<Directory /srv>\nOptions Indexes +FollowSymLinks\n</Directory>\n")
                .find("t.conf:4: Either all Options must start with + or -"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "<Directory /srv>\nOptions Frob\n</Directory>\n").find("t.conf:4: Illegal option Frob"),
            std::string::npos);
}

TEST(ConfigErrors, RedirectForms) {
  EXPECT_NE(parse_err(kBase + "Redirect permanent /a\n").find("t.conf:3: Redirect permanent: URL to redirect to is missing"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "Redirect gone /a http://x\n").find("t.conf:3:"), std::string::npos);
  EXPECT_NE(parse_err(kBase + "Redirect /a relative\n").find("t.conf:3: Redirect to non-URL"), std::string::npos);
  EXPECT_NE(parse_err(kBase + "RedirectMatch ^/a relative\n").find("t.conf:3: RedirectMatch to non-URL"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "AliasMatch ^/a /srv/x\n").find("t.conf:3: AliasMatch is not supported yet"),
            std::string::npos);
}

TEST(ConfigErrors, PipedLogsRefused) {
  EXPECT_NE(parse_err(kBase + "CustomLog \"|/usr/bin/rotatelogs x\" combined\n").find("t.conf:3: CustomLog: piped logs not supported"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "ErrorLog syslog:local1\n").find("t.conf:3:"), std::string::npos);
}

TEST(ConfigParser, CgiPassAuth) {
  auto c = parse_ok(kBase + "<Directory /srv/api>\nCGIPassAuth On\n</Directory>\n<Directory /srv/api/v1>\n"
                            "CGIPassAuth off\n</Directory>\n");
  const auto& d = c.vhosts[0].directories;
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].cgi_pass_auth, std::optional<bool>(true));
  EXPECT_EQ(d[1].cgi_pass_auth, std::optional<bool>(false));
  EXPECT_NE(parse_err(kBase + "<Directory /srv>\nCGIPassAuth yes\n</Directory>\n").find("t.conf:4: CGIPassAuth takes On or Off"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "CGIPassAuth On\n").find("t.conf:3: CGIPassAuth not allowed"), std::string::npos);
}

TEST(ConfigErrors, RequireFormsItkdCantEnforceRefused) {
  EXPECT_NE(parse_err(kBase + "<Directory /srv>\nRequire group admins\n</Directory>\n")
                .find("t.conf:4: 'Require group' is not supported yet"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "<Directory /srv>\nRequire host example.com\n</Directory>\n")
                .find("t.conf:4: 'Require host' is not supported: it needs DNS lookups"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "<Directory /srv>\nRequire ip intranet.example\n</Directory>\n")
                .find("host names need reverse DNS lookups"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "<Directory /srv>\nRequire env LOCAL\n</Directory>\n").find("t.conf:4: 'Require env'"),
            std::string::npos);
}

TEST(ConfigErrors, SecurityDirectiveInFilesRefused) {
  // Only the access rules of a <Location> are applied: an Options there would not hold.
  EXPECT_NE(parse_err(kBase + "<Location /admin>\n  Options -Indexes\n</Location>\n")
                .find("t.conf:4: Options inside <Location> is not supported yet"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "<Files x.php>\nSetHandler application/x-httpd-php\n</Files>\n").find("t.conf:4: SetHandler"),
            std::string::npos);
}

TEST(ConfigAccess, RequireInFilesAndFilesMatch) {
  // Debian's apache2.conf and WordPress hardening guides, as written.
  auto c = parse_ok(kBase + "<FilesMatch \"^\\.ht\">\n  Require all denied\n</FilesMatch>\n"
                    "<VirtualHost *:80>\nServerName a\n<Files wp-config.php>\nRequire all denied\n</Files>\n"
                    "<Directory /srv/a/pub>\n<Files \".htaccess\">\nRequire all granted\n</Files>\n</Directory>\n"
                    "</VirtualHost>\n");
  const auto& blocks = c.vhosts[1].files_blocks;
  ASSERT_EQ(blocks.size(), 3u);  // the server's first, then the vhost's
  EXPECT_EQ(blocks[0].pattern, "^\\.ht");
  EXPECT_EQ(describe_require(*blocks[0].access.require), "any(all denied)");
  EXPECT_EQ(blocks[1].pattern, "wp-config.php");
  EXPECT_EQ(describe_require(*blocks[1].access.require), "any(all denied)");
  EXPECT_EQ(blocks[2].directory, "/srv/a/pub");
  EXPECT_EQ(describe_require(*blocks[2].access.require), "any(all granted)");
}

TEST(ConfigErrors, UnknownHandlerRefused) {
  EXPECT_NE(parse_err(kBase + "AddHandler php5-script .php\n").find("t.conf:3: AddHandler: handler 'php5-script' is not one itkd runs"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "SetHandler \"proxy:http://127.0.0.1:8080\"\n").find("is not a FastCGI URL"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "<Location /x>\nSetHandler cgi-script\n</Location>\n")
                .find("t.conf:4: SetHandler inside <Location> is not supported yet"),
            std::string::npos);
}

TEST(ConfigErrors, UnterminatedSection) {
  EXPECT_EQ(parse_err(kBase + "<VirtualHost *:80>\nServerName a\n"),
            "t.conf:3: <VirtualHost> is not closed before the end of t.conf");
  EXPECT_EQ(parse_err(kBase + "<IfModule nonexistent>\nFoo\n"),
            "t.conf:3: <IfModule> is not closed before the end of t.conf");
}

TEST(ConfigErrors, MismatchedClose) {
  EXPECT_EQ(parse_err(kBase + "<VirtualHost *:80>\nServerName a\n</Directory>\n"),
            "t.conf:5: </Directory> does not match <VirtualHost> opened at t.conf:3");
  EXPECT_EQ(parse_err(kBase + "</VirtualHost>\n"), "t.conf:3: </VirtualHost> without matching <VirtualHost> section");
}

TEST(ConfigErrors, SectionWithoutClosingBracket) {
  EXPECT_NE(parse_err(kBase + "<VirtualHost *:80\n</VirtualHost>\n").find("t.conf:3: section line"), std::string::npos);
}

TEST(ConfigErrors, UndefinedVariable) {
  EXPECT_NE(parse_err(kBase + "ErrorLog ${APACHE_LOG_DIR}/error.log\n").find("t.conf:3: variable ${APACHE_LOG_DIR} is not defined"),
            std::string::npos);
}

TEST(ConfigErrors, UnterminatedQuote) {
  EXPECT_EQ(parse_err(kBase + "DocumentRoot \"/srv\n"), "t.conf:3: DocumentRoot: unterminated \" quote");
}

TEST(ConfigErrors, MissingIncludeInText) {
  EXPECT_NE(parse_err(kBase + "Include /nonexistent/x.conf\n").find("t.conf:3: Include: cannot open /nonexistent/x.conf"),
            std::string::npos);
}

TEST(ConfigErrors, SeveralErrorsAtOnce) {
  std::string e = parse_err(kBase + "Bogus1\nTimeout x\n<Directory /srv>\nDocumentRoot /y\n</Directory>\nBogus2 a b\n");
  EXPECT_EQ(e,
            "t.conf:3: unknown directive Bogus1 (perhaps a misspelling, or a module itkd does not provide)\n"
            "t.conf:4: Timeout must be a number from 0 to 4294967295, not 'x'\n"
            "t.conf:6: DocumentRoot not allowed in <Directory>\n"
            "t.conf:8: unknown directive Bogus2 (perhaps a misspelling, or a module itkd does not provide)");
}

TEST(ConfigErrors, ErrorInsideVhostDoesNotDerailParsing) {
  std::string e = parse_err(kBase + "<VirtualHost *:80>\nNope\n</VirtualHost>\n<VirtualHost *:80>\nAlsoNope\n</VirtualHost>\n");
  EXPECT_NE(e.find("t.conf:4:"), std::string::npos);
  EXPECT_NE(e.find("t.conf:7:"), std::string::npos);
}

TEST(ConfigErrors, NoListen) {
  EXPECT_EQ(parse_err("DocumentRoot /srv\n"), "t.conf: no Listen directive (add e.g. 'Listen 80')");
}

TEST(ConfigErrors, VhostPortWithoutListen) {
  EXPECT_EQ(parse_err(kBase + "<VirtualHost *:8080>\nServerName a\n</VirtualHost>\n"),
            "t.conf:3: <VirtualHost *:8080> has no matching Listen (add 'Listen *:8080' or 'Listen 8080')");
  EXPECT_NE(parse_err("Listen 127.0.0.1:80\nDocumentRoot /srv\n<VirtualHost 10.0.0.1:80>\n</VirtualHost>\n").find("t.conf:3:"),
            std::string::npos);
}

TEST(ConfigErrors, VhostAddressMustBeIp) {
  EXPECT_NE(parse_err(kBase + "<VirtualHost example.com:80>\n</VirtualHost>\n").find("t.conf:3: <VirtualHost> address 'example.com'"),
            std::string::npos);
}

TEST(ConfigErrors, MissingDocumentRoot) {
  EXPECT_EQ(parse_err("Listen 80\n<VirtualHost *:80>\nServerName a\n</VirtualHost>\n"),
            "t.conf:2: <VirtualHost> a has no DocumentRoot (set one in it or at server level)");
}

TEST(ConfigErrors, MainServerReachableNeedsDocumentRoot) {
  EXPECT_NE(parse_err("Listen 80\nListen 81\n<VirtualHost *:80>\nDocumentRoot /a\n</VirtualHost>\n").find("t.conf:2: connections to Listen 81"),
            std::string::npos);
  // Every Listen covered by a * vhost: the main server needs none.
  parse_ok("Listen 80\n<VirtualHost *:80>\nDocumentRoot /a\n</VirtualHost>\n");
}

TEST(ConfigErrors, RootRefusedWithoutResolution) {
  EXPECT_EQ(parse_err(kBase + "<VirtualHost *:80>\nAssignUserID #0 #1000\n</VirtualHost>\n"),
            "t.conf:4: AssignUserID root is refused: tenant code never runs as root");
  EXPECT_EQ(parse_err(kBase + "<VirtualHost *:80>\nAssignUserID root root\n</VirtualHost>\n"),
            "t.conf:4: AssignUserID root is refused: tenant code never runs as root");
}

TEST(ConfigErrors, RootRefusedWithResolution) {
  ParseOptions o;
  o.resolve_identities = true;
  EXPECT_EQ(parse_err(kBase + "FrontUser #65000\n<VirtualHost *:80>\nAssignUserID root #1000\n</VirtualHost>\n", o),
            "t.conf:5: AssignUserID root is refused: tenant code never runs as root");
  EXPECT_EQ(parse_err(kBase + "FrontUser #65000\nUser #0\n", o),
            "t.conf:4: User/Group root is refused: tenant code never runs as root");
}

TEST(ConfigErrors, UnknownUser) {
  ParseOptions o;
  o.resolve_identities = true;
  EXPECT_EQ(parse_err(kBase + "<VirtualHost *:80>\nAssignUserID no-such-user-itkd #1000\n</VirtualHost>\n", o),
            "t.conf:4: unknown user 'no-such-user-itkd' in AssignUserID");
}

TEST(ConfigErrors, UidOutsideLimitUIDRange) {
  ParseOptions o;
  o.resolve_identities = true;
  EXPECT_EQ(parse_err(kBase + "User #2000\nGroup #2000\nFrontUser #65000\nLimitUIDRange 1000 5000\n"
                              "<VirtualHost *:80>\nAssignUserID #61001 #3000\n</VirtualHost>\n", o),
            "t.conf:8: uid 61001 of AssignUserID is outside LimitUIDRange 1000-5000 (set at t.conf:6)");
  EXPECT_EQ(parse_err(kBase + "User #2000\nGroup #2000\nLimitGIDRange 1000 5000\n"
                              "<VirtualHost *:80>\nAssignUserID #3000 #9\n</VirtualHost>\n"),
            "t.conf:7: gid 9 of AssignUserID is outside LimitGIDRange 1000-5000 (set at t.conf:5)");
}

TEST(ConfigErrors, FrontUserEqualToTenant) {
  ParseOptions o;
  o.resolve_identities = true;
  EXPECT_EQ(parse_err(kBase + "User #2000\nGroup #2000\nFrontUser #61001\nFrontGroup #65000\n"
                              "<VirtualHost *:80>\nAssignUserID #61001 #61001\n</VirtualHost>\n", o),
            "t.conf:5: FrontUser #61001 (uid 61001) is also the identity of pool 1; the front must be a user no tenant runs as");
  EXPECT_NE(parse_err(kBase + "FrontUser alice\n<VirtualHost *:80>\nAssignUserID alice alice\n</VirtualHost>\n")
                .find("t.conf:3: FrontUser alice is also the identity of pool 1"),
            std::string::npos);
}

TEST(ConfigErrors, FrontUserRoot) {
  ParseOptions o;
  o.resolve_identities = true;
  EXPECT_NE(parse_err(kBase + "User #2000\nGroup #2000\nFrontUser root\n", o).find("t.conf:5: FrontUser/FrontGroup must not be root"),
            std::string::npos);
}

TEST(ConfigErrors, DeepNestingIsBounded) {
  std::string text = kBase;
  for (int i = 0; i < 200; ++i) text += "<Files x>\n";
  for (int i = 0; i < 200; ++i) text += "</Files>\n";
  EXPECT_NE(parse_err(text).find("nested more than"), std::string::npos);
}

TEST(ConfigErrors, DeepIfModuleNestingIsBounded) {
  std::string text = kBase;
  for (int i = 0; i < 5000; ++i) text += "<IfModule mod_mime.c>\n";
  for (int i = 0; i < 5000; ++i) text += "</IfModule>\n";
  EXPECT_NE(parse_err(text).find("nested more than"), std::string::npos);
}

TEST(ConfigErrors, IncludeInsideDirectoryNotAllowedIfNotFound) {
  EXPECT_NE(parse_err(kBase + "<Directory /srv>\nInclude /nonexistent.conf\n</Directory>\n").find("t.conf:4:"),
            std::string::npos);
}

}  // namespace
}  // namespace itkd
