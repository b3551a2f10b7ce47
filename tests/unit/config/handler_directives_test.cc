// SetHandler / AddHandler / FilesMatch / ProxyPassMatch / RLimit* / Fcgid* directives.
#include <gtest/gtest.h>

#include "config/config_parser.h"
#include "config/parse_support.h"

namespace itkd {
namespace {

using test::parse_err;
using test::parse_ok;
const std::string& kBase = test::kBaseConfig;

TEST(HandlerDirectives, PhpFpmFilesMatch) {
  auto c = parse_ok(kBase + "<VirtualHost *:80>\nServerName a\n<IfModule proxy_fcgi_module>\n"
                            "<FilesMatch \".+\\.php$\">\n"
                            "SetHandler \"proxy:unix:/run/php/alice.sock|fcgi://localhost\"\n"
                            "</FilesMatch>\n</IfModule>\n</VirtualHost>\n");
  ASSERT_EQ(c.vhosts.size(), 2u);
  ASSERT_EQ(c.vhosts[1].files_blocks.size(), 1u);
  const FilesBlock& b = c.vhosts[1].files_blocks[0];
  EXPECT_TRUE(b.is_regex);
  EXPECT_EQ(b.pattern, ".+\\.php$");
  EXPECT_EQ(b.directory, "");
  ASSERT_TRUE(b.set_handler);
  EXPECT_EQ(b.set_handler->kind, HandlerSpec::Kind::ProxyFcgi);
  EXPECT_EQ(b.set_handler->backend.unix_path, "/run/php/alice.sock");
  EXPECT_EQ(b.set_handler->backend.describe(), "unix:/run/php/alice.sock");
  EXPECT_TRUE(c.vhosts[0].files_blocks.empty());
}

TEST(HandlerDirectives, TcpProxyHandlerAndDefaultPort) {
  auto c = parse_ok(kBase + "<Files \"x.php\">\nSetHandler proxy:fcgi://127.0.0.1:9000\n</Files>\n"
                            "<Files ~ \"\\.phtml$\">\nSetHandler proxy:fcgi://10.0.0.1\n</Files>\n");
  ASSERT_EQ(c.vhosts[0].files_blocks.size(), 2u);
  EXPECT_FALSE(c.vhosts[0].files_blocks[0].is_regex);
  EXPECT_EQ(c.vhosts[0].files_blocks[0].set_handler->backend.describe(), "127.0.0.1:9000");
  EXPECT_TRUE(c.vhosts[0].files_blocks[1].is_regex);
  EXPECT_EQ(c.vhosts[0].files_blocks[1].set_handler->backend.port, 8000);
}

TEST(HandlerDirectives, AddHandlerScopes) {
  auto c = parse_ok(kBase + "AddHandler cgi-script .cgi PL\n<VirtualHost *:80>\nServerName a\n"
                            "AddHandler fcgid-script .php\n<Directory /srv/a/cgi>\n"
                            "AddHandler cgi-script .sh\nSetHandler cgi-script\nOptions +ExecCGI\n"
                            "</Directory>\n</VirtualHost>\n");
  const VirtualHost& g = c.vhosts[0];
  EXPECT_EQ(g.add_handlers.at(".cgi").kind, HandlerSpec::Kind::Cgi);
  EXPECT_EQ(g.add_handlers.at(".pl").kind, HandlerSpec::Kind::Cgi);
  const VirtualHost& v = c.vhosts[1];
  EXPECT_EQ(v.add_handlers.at(".php").kind, HandlerSpec::Kind::Fcgid);
  EXPECT_EQ(v.add_handlers.at(".cgi").kind, HandlerSpec::Kind::Cgi);  // inherited
  ASSERT_EQ(v.directories.size(), 1u);
  EXPECT_EQ(v.directories[0].add_handlers.at(".sh").kind, HandlerSpec::Kind::Cgi);
  ASSERT_TRUE(v.directories[0].set_handler);
  EXPECT_EQ(v.directories[0].options_add, unsigned{kOptExecCGI});
}

TEST(HandlerDirectives, FilesInsideDirectoryRemembersTheDirectory) {
  auto c = parse_ok(kBase + "<Directory /srv/main/bin>\n<Files run>\nSetHandler None\n</Files>\n</Directory>\n");
  ASSERT_EQ(c.vhosts[0].files_blocks.size(), 1u);
  EXPECT_EQ(c.vhosts[0].files_blocks[0].directory, "/srv/main/bin");
  EXPECT_EQ(c.vhosts[0].files_blocks[0].set_handler->kind, HandlerSpec::Kind::Default);
  EXPECT_NE(parse_err(kBase + "<DirectoryMatch \"^/srv\">\n<Files x>\nSetHandler cgi-script\n</Files>\n</DirectoryMatch>\n")
                .find("inside <DirectoryMatch> is not supported yet"),
            std::string::npos);
}

TEST(HandlerDirectives, GlobalFilesBlocksComeFirst) {
  auto c = parse_ok(kBase + "<FilesMatch \\.cgi$>\nSetHandler cgi-script\n</FilesMatch>\n"
                            "<VirtualHost *:80>\nServerName a\n<FilesMatch \\.cgi$>\nSetHandler None\n"
                            "</FilesMatch>\n</VirtualHost>\n");
  ASSERT_EQ(c.vhosts[1].files_blocks.size(), 2u);
  EXPECT_EQ(c.vhosts[1].files_blocks[0].set_handler->kind, HandlerSpec::Kind::Cgi);
  EXPECT_EQ(c.vhosts[1].files_blocks[1].set_handler->kind, HandlerSpec::Kind::Default);
}

TEST(HandlerDirectives, ProxyPassMatch) {
  auto c = parse_ok(kBase + "<VirtualHost *:80>\nServerName a\n"
                            "ProxyPassMatch ^/(.*\\.php(/.*)?)$ fcgi://127.0.0.1:9000/srv/a/$1\n"
                            "ProxyPassMatch ^/x/(.*\\.php)$ unix:/run/php/a.sock|fcgi://localhost/srv/x/$1\n"
                            "ProxyTimeout 7\n</VirtualHost>\n");
  const auto& rules = c.vhosts[1].proxy_pass_matches;
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].regex, "^/(.*\\.php(/.*)?)$");
  EXPECT_EQ(rules[0].backend.describe(), "127.0.0.1:9000");
  EXPECT_EQ(rules[0].path_template, "/srv/a/$1");
  EXPECT_EQ(rules[1].backend.unix_path, "/run/php/a.sock");
  EXPECT_EQ(rules[1].path_template, "/srv/x/$1");
  EXPECT_EQ(c.vhosts[1].proxy_timeout_s, 7u);
  EXPECT_EQ(c.vhosts[0].proxy_timeout_s, 0u);
  EXPECT_NE(parse_err(kBase + "ProxyPassMatch ^/(.*)$ http://backend/$1\n").find("not a FastCGI URL"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "ProxyPassMatch ^/(.*$ fcgi://127.0.0.1:9000/x/$1\n").find("bad regular expression"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "ProxyPassMatch ^/(.*)$ fcgi://127.0.0.1:9000\n").find("needs the script path"),
            std::string::npos);
}

TEST(HandlerDirectives, ProxyPassMatchReuseIsOptIn) {
  auto c = parse_ok(kBase + "<VirtualHost *:80>\nServerName a\n"
                            "ProxyPassMatch ^/a/(.*)$ fcgi://127.0.0.1:9000/srv/a/$1\n"
                            "ProxyPassMatch ^/b/(.*)$ fcgi://127.0.0.1:9000/srv/b/$1 enablereuse=on\n"
                            "ProxyPassMatch ^/c/(.*)$ fcgi://127.0.0.1:9000/srv/c/$1 disablereuse=Off\n"
                            "</VirtualHost>\n");
  const auto& rules = c.vhosts[1].proxy_pass_matches;
  ASSERT_EQ(rules.size(), 3u);
  EXPECT_FALSE(rules[0].backend.reuse);  // Apache's default
  EXPECT_TRUE(rules[1].backend.reuse);
  EXPECT_TRUE(rules[2].backend.reuse);
  EXPECT_NE(parse_err(kBase + "ProxyPassMatch ^/(.*)$ fcgi://127.0.0.1:9000/x/$1 timeout=5\n")
                .find("parameter 'timeout=5' is not supported"),
            std::string::npos);
}

// Apache's documented way to reuse php-fpm connections behind SetHandler: a <Proxy> block
// for the URL after the '|'.
TEST(HandlerDirectives, ProxyBlockEnablesReuseForSetHandler) {
  auto c = parse_ok(kBase + "<VirtualHost *:80>\nServerName a\n"
                            "<FilesMatch \\.php$>\n"
                            "SetHandler \"proxy:unix:/run/php/a.sock|fcgi://localhost/\"\n"
                            "</FilesMatch>\n"
                            "<Proxy \"fcgi://localhost/\" enablereuse=on max=2>\n</Proxy>\n"
                            "</VirtualHost>\n"
                            "<VirtualHost *:80>\nServerName b\n"
                            "AddHandler \"proxy:unix:/run/php/b.sock|fcgi://localhost\" .php\n"
                            "</VirtualHost>\n");
  ASSERT_EQ(c.vhosts.size(), 3u);
  const FcgiBackend& a = c.vhosts[1].files_blocks.at(0).set_handler->backend;
  EXPECT_TRUE(a.reuse);
  EXPECT_EQ(a.max_idle, 2u);
  EXPECT_EQ(a.worker_url, "fcgi://localhost");
  // Another vhost's <Proxy> does not apply: b keeps Apache's default.
  const FcgiBackend& b = c.vhosts[2].add_handlers.at(".php").backend;
  EXPECT_FALSE(b.reuse);
  EXPECT_EQ(b.max_idle, 4u);
  EXPECT_TRUE(c.warnings.empty()) << c.warnings.front();
}

TEST(HandlerDirectives, ProxySetAndTheMostSpecificWorker) {
  // Main-server blocks reach every vhost; one naming the socket wins over one naming the URL.
  auto c = parse_ok(kBase + "<Proxy fcgi://localhost>\nProxySet enablereuse=on\n</Proxy>\n"
                            "ProxySet unix:/run/php/b.sock|fcgi://localhost enablereuse=off\n"
                            "<VirtualHost *:80>\nServerName a\n"
                            "SetHandler \"proxy:unix:/run/php/a.sock|fcgi://localhost\"\n"
                            "</VirtualHost>\n"
                            "<VirtualHost *:80>\nServerName b\n"
                            "SetHandler \"proxy:unix:/run/php/b.sock|fcgi://localhost\"\n"
                            "</VirtualHost>\n");
  EXPECT_TRUE(c.vhosts[1].set_handler->backend.reuse);
  EXPECT_FALSE(c.vhosts[2].set_handler->backend.reuse);
}

TEST(HandlerDirectives, ProxyBlockMistakesAreReportedWithTheirLine) {
  EXPECT_NE(parse_err(kBase + "<Proxy fcgi://localhost timeout=5>\n</Proxy>\n")
                .find("t.conf:3: <Proxy>: parameter 'timeout=5' is not supported"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "<Proxy *>\nRequire all granted\n</Proxy>\n")
                .find("t.conf:3: <Proxy *>:"),
            std::string::npos);
  // What guards access is refused inside <Proxy>, not silently dropped.
  EXPECT_NE(parse_err(kBase + "<Proxy fcgi://localhost>\nRequire all denied\n</Proxy>\n")
                .find("t.conf:4: Require not allowed in <Proxy>"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "ProxySet enablereuse=on\n").find("needs the backend URL first"),
            std::string::npos);
  auto c = parse_ok(kBase + "<Proxy fcgi://localhost/>\n</Proxy>\n");
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_NE(c.warnings[0].find("t.conf:3: <Proxy>/ProxySet for fcgi://localhost matches no"),
            std::string::npos)
      << c.warnings[0];
}

TEST(HandlerDirectives, ResourceLimits) {
  auto c = parse_ok(kBase + "RLimitCPU 10 20\nRLimitNPROC 50\n<VirtualHost *:80>\nServerName a\n"
                            "RLimitMEM 268435456 max\nRLimitNPROC max\n</VirtualHost>\n");
  const ScriptLimits& g = c.vhosts[0].script_limits;
  EXPECT_TRUE(g.cpu_s.set);
  EXPECT_EQ(g.cpu_s.soft, 10u);
  EXPECT_EQ(g.cpu_s.hard, std::optional<uint64_t>(20));
  EXPECT_FALSE(g.mem_bytes.set);
  const ScriptLimits& v = c.vhosts[1].script_limits;
  EXPECT_EQ(v.cpu_s.soft, 10u);  // inherited
  EXPECT_EQ(v.mem_bytes.soft, 268435456u);
  EXPECT_EQ(v.mem_bytes.hard, std::optional<uint64_t>(kRlimitMax));
  EXPECT_EQ(v.nproc.soft, kRlimitMax);
  EXPECT_FALSE(v.nproc.hard);
  EXPECT_NE(parse_err(kBase + "RLimitCPU 20 10\n").find("above the hard limit"), std::string::npos);
  EXPECT_NE(parse_err(kBase + "RLimitCPU lots\n").find("RLimitCPU must be a number"), std::string::npos);
}

TEST(HandlerDirectives, Fcgid) {
  auto c = parse_ok(kBase + "FcgidIOTimeout 60\nFcgidInitialEnv PHP_FCGI_CHILDREN 0\n"
                            "FcgidInitialEnv A global\n"
                            "<VirtualHost *:80>\nServerName a\n<IfModule mod_fcgid.c>\n"
                            "AddHandler fcgid-script .php\nFcgidWrapper /usr/bin/php-cgi .php\n"
                            "FcgidMaxProcessesPerClass 4\nFcgidMinProcessesPerClass 0\n"
                            "FcgidIdleTimeout 30\nFcgidMaxRequestsPerProcess 500\n"
                            "FcgidInitialEnv A mine\n</IfModule>\n</VirtualHost>\n");
  const FcgidSettings& f = c.vhosts[1].fcgid;
  EXPECT_EQ(f.wrappers.at(".php"), "/usr/bin/php-cgi");
  EXPECT_EQ(f.max_processes_per_class, 4u);
  EXPECT_EQ(f.min_processes_per_class, 0u);
  EXPECT_EQ(f.idle_timeout_s, 30u);
  EXPECT_EQ(f.max_requests_per_process, 500u);
  EXPECT_EQ(f.io_timeout_s, 60u);
  std::vector<std::pair<std::string, std::string>> env{{"A", "mine"}, {"PHP_FCGI_CHILDREN", "0"}};
  EXPECT_EQ(f.initial_env, env);
  const FcgidSettings& g = c.vhosts[0].fcgid;
  EXPECT_EQ(g.max_processes_per_class, 100u);  // mod_fcgid's defaults
  EXPECT_EQ(g.min_processes_per_class, 3u);
  EXPECT_EQ(g.idle_timeout_s, 300u);
  EXPECT_TRUE(g.wrappers.empty());
  EXPECT_NE(parse_err(kBase + "FcgidWrapper php-cgi .php\n").find("absolute command path"), std::string::npos);
  EXPECT_NE(parse_err(kBase + "<Directory /srv>\nFcgidWrapper /usr/bin/php-cgi .php\n</Directory>\n")
                .find("FcgidWrapper inside <Directory> is not supported yet"),
            std::string::npos);
}

TEST(HandlerDirectives, ProxyAndCgidModulesCountAsLoaded) {
  auto c = parse_ok(kBase + "<IfModule mod_proxy.c>\nProxyTimeout 9\n</IfModule>\n"
                            "<IfModule mod_cgid.c>\nAddHandler cgi-script .cgi\n</IfModule>\n");
  EXPECT_EQ(c.vhosts[0].proxy_timeout_s, 9u);
  EXPECT_EQ(c.vhosts[0].add_handlers.count(".cgi"), 1u);
}

TEST(HandlerDirectives, DebianModuleConfigsParse) {
  // /etc/apache2/mods-available/{cgid,fcgid,proxy}.conf as Debian ships them.
  auto c = parse_ok(kBase + "<IfModule mod_cgid.c>\nScriptSock /run/apache2/cgisock\n</IfModule>\n"
                            "<IfModule mod_fcgid.c>\n  FcgidConnectTimeout 20\n  <IfModule mod_mime.c>\n"
                            "    AddHandler fcgid-script .fcgi\n  </IfModule>\n</IfModule>\n"
                            "<IfModule mod_proxy.c>\nProxyRequests Off\n</IfModule>\n");
  EXPECT_EQ(c.vhosts[0].add_handlers.at(".fcgi").kind, HandlerSpec::Kind::Fcgid);
  EXPECT_EQ(c.warnings.size(), 3u);
}

TEST(HandlerDirectives, FallbackResourceInEachScope) {
  auto c = parse_ok(kBase + "FallbackResource /index.php\n"
                    "<VirtualHost *:80>\nServerName a\n</VirtualHost>\n"
                    "<VirtualHost *:80>\nServerName b\nFallbackResource disabled\n"
                    "<Directory /srv/b/blog>\nFallbackResource /blog/index.php\n</Directory>\n</VirtualHost>\n");
  EXPECT_EQ(c.vhosts[1].fallback_resource, "/index.php");  // the server's, inherited
  EXPECT_EQ(c.vhosts[2].fallback_resource, "");            // disabled
  ASSERT_EQ(c.vhosts[2].directories.size(), 1u);
  EXPECT_EQ(c.vhosts[2].directories[0].fallback_resource, "/blog/index.php");
}

TEST(HandlerDirectives, FallbackResourceIsALocalUrl) {
  EXPECT_NE(parse_err(kBase + "<VirtualHost *:80>\nServerName a\nFallbackResource http://x/y\n</VirtualHost>\n")
                .find("t.conf:5: FallbackResource takes a local URL path"),
            std::string::npos);
  EXPECT_NE(parse_err(kBase + "FallbackResource /a /b\n").find("t.conf:3"), std::string::npos);
}

TEST(HandlerDirectives, RemoveHandlerUndoesInheritedAddHandler) {
  auto c = parse_ok(kBase + "AddHandler cgi-script .cgi .pl\n<VirtualHost *:80>\nServerName a\n"
                            "RemoveHandler .pl\n<Directory /srv/a/uploads>\nRemoveHandler cgi\n</Directory>\n"
                            "</VirtualHost>\n<VirtualHost *:80>\nServerName b\n</VirtualHost>\n");
  EXPECT_EQ(c.vhosts[1].add_handlers.count(".pl"), 0u);  // the global one is not inherited
  EXPECT_EQ(c.vhosts[1].add_handlers.count(".cgi"), 1u);
  EXPECT_EQ(c.vhosts[1].directories[0].remove_handlers, (std::vector<std::string>{".cgi"}));
  EXPECT_EQ(c.vhosts[2].add_handlers.count(".pl"), 1u);
  EXPECT_NE(parse_err(kBase + "<Files x>\nRemoveHandler .php\n</Files>\n").find("RemoveHandler inside <Files>"),
            std::string::npos);
}

}  // namespace
}  // namespace itkd
