#include "worker/handler_choice.h"

#include <gtest/gtest.h>

#include "config/parse_support.h"

namespace itkd {
namespace {

using test::parse_vhost;

using K = HandlerChoice::Kind;

HandlerChoice choose(const VirtualHost& v, const std::string& path, bool script_alias = false) {
  size_t slash = path.rfind('/');
  return choose_handler(v, path, script_alias, settings_for_directory(v, path.substr(0, slash)));
}

TEST(HandlerChoice, AddHandlerNeedsExecCgi) {
  auto v = parse_vhost("AddHandler cgi-script .cgi .pl\n<Directory /srv/a/bin>\nOptions +ExecCGI\n</Directory>\n");
  EXPECT_EQ(choose(v, "/srv/a/bin/x.cgi").kind, K::Cgi);
  EXPECT_EQ(choose(v, "/srv/a/bin/x.PL").kind, K::Cgi);
  auto refused = choose(v, "/srv/a/x.cgi");
  EXPECT_EQ(refused.kind, K::Forbidden);
  EXPECT_EQ(refused.reason, "AH01211: Options ExecCGI is off in this directory: /srv/a/x.cgi");
  EXPECT_EQ(choose(v, "/srv/a/bin/x.html").kind, K::Static);
  // mod_mime: any extension of the name counts.
  EXPECT_EQ(choose(v, "/srv/a/bin/x.cgi.txt").kind, K::Cgi);
}

TEST(HandlerChoice, PhpEngineOffServesTheFileAsAFile) {
  auto v = parse_vhost(
      "AddHandler fcgid-script .php .fcgi\nFcgidWrapper /usr/bin/php-cgi .php\n"
      "<Directory /srv/a>\nOptions +ExecCGI\n</Directory>\n"
      "<Directory /srv/a/uploads>\nphp_admin_flag engine off\n</Directory>\n"
      "<Directory /srv/a/uploads/ok>\nphp_value engine 1\n</Directory>\n"
      "<FilesMatch \\.phtml$>\nSetHandler \"proxy:unix:/run/a.sock|fcgi://localhost\"\n</FilesMatch>\n");
  EXPECT_EQ(choose(v, "/srv/a/index.php").kind, K::Fcgid);
  EXPECT_EQ(choose(v, "/srv/a/uploads/shell.php").kind, K::Static);
  EXPECT_EQ(choose(v, "/srv/a/uploads/shell.phtml").kind, K::Static);  // php-fpm too
  EXPECT_EQ(choose(v, "/srv/a/x.phtml").kind, K::ProxyFcgi);
  // Not PHP: a FastCGI program of its own is not mod_php's business.
  EXPECT_EQ(choose(v, "/srv/a/uploads/app.fcgi").kind, K::Fcgid);
  // mod_php's merge: a php_value can't switch an admin flag back on.
  EXPECT_EQ(choose(v, "/srv/a/uploads/ok/x.php").kind, K::Static);
}

TEST(HandlerChoice, RemoveHandlerInADirectory) {
  auto v = parse_vhost("AddHandler fcgid-script .php\nAddHandler cgi-script .cgi\n"
                       "<Directory /srv/a>\nOptions +ExecCGI\n</Directory>\n"
                       "<Directory /srv/a/uploads>\nRemoveHandler .php .PHTML\n</Directory>\n"
                       "<Directory /srv/a/uploads/app>\nAddHandler fcgid-script .php\n</Directory>\n"
                       "<Directory /srv/a/same>\nRemoveHandler .cgi\nAddHandler cgi-script .cgi\n</Directory>\n");
  EXPECT_EQ(choose(v, "/srv/a/x.php").kind, K::Fcgid);
  EXPECT_EQ(choose(v, "/srv/a/uploads/shell.php").kind, K::Static);
  EXPECT_EQ(choose(v, "/srv/a/uploads/deeper/shell.php").kind, K::Static);
  EXPECT_EQ(choose(v, "/srv/a/uploads/x.cgi").kind, K::Cgi);          // only the named extensions
  EXPECT_EQ(choose(v, "/srv/a/uploads/x.cgi.php").kind, K::Cgi);      // the others of the name still count
  EXPECT_EQ(choose(v, "/srv/a/uploads/app/x.php").kind, K::Fcgid);    // a deeper AddHandler adds it back
  EXPECT_EQ(choose(v, "/srv/a/same/x.cgi").kind, K::Cgi);             // its own later AddHandler stands
}

TEST(HandlerChoice, ScriptAliasIgnoresExecCgi) {
  auto v = parse_vhost("ScriptAlias /cgi-bin/ /srv/a/cgi-bin/\n");
  EXPECT_EQ(choose(v, "/srv/a/cgi-bin/anything", true).kind, K::Cgi);
  EXPECT_EQ(choose(v, "/srv/a/cgi-bin/anything", false).kind, K::Static);
}

TEST(HandlerChoice, FilesMatchSetHandlerWins) {
  auto v = parse_vhost("AddHandler cgi-script .php\n<FilesMatch \".+\\.php$\">\n"
                       "SetHandler \"proxy:unix:/run/php/a.sock|fcgi://localhost\"\n</FilesMatch>\n");
  auto c = choose(v, "/srv/a/index.php");
  EXPECT_EQ(c.kind, K::ProxyFcgi);
  EXPECT_EQ(c.backend.unix_path, "/run/php/a.sock");
  EXPECT_EQ(choose(v, "/srv/a/.php").kind, K::Forbidden);  // ".+" needs a name: AddHandler applies
  // The same inside a ScriptAlias directory: SetHandler is merged last.
  EXPECT_EQ(choose(v, "/srv/a/cgi-bin/x.php", true).kind, K::ProxyFcgi);
}

TEST(HandlerChoice, DirectorySetHandlerAndNone) {
  auto v = parse_vhost("<Directory /srv/a/run>\nSetHandler cgi-script\nOptions ExecCGI\n</Directory>\n"
                       "<Directory /srv/a/run/static>\nSetHandler None\n</Directory>\n");
  EXPECT_EQ(choose(v, "/srv/a/run/job").kind, K::Cgi);
  EXPECT_EQ(choose(v, "/srv/a/run/static/x.css").kind, K::Static);
  EXPECT_EQ(choose(v, "/srv/a/other").kind, K::Static);
}

TEST(HandlerChoice, FilesInsideDirectory) {
  auto v = parse_vhost("<Directory /srv/a/bin>\nOptions +ExecCGI\n<Files run>\nSetHandler cgi-script\n"
                       "</Files>\n</Directory>\n");
  EXPECT_EQ(choose(v, "/srv/a/bin/run").kind, K::Cgi);
  EXPECT_EQ(choose(v, "/srv/a/run").kind, K::Static);
}

TEST(HandlerChoice, FcgidWrapper) {
  auto v = parse_vhost("AddHandler fcgid-script .php .fcgi\nFcgidWrapper /usr/bin/php-cgi .php\n"
                       "<Directory /srv/a>\nOptions +ExecCGI\n</Directory>\n");
  auto c = choose(v, "/srv/a/index.php");
  EXPECT_EQ(c.kind, K::Fcgid);
  EXPECT_EQ(c.wrapper, "/usr/bin/php-cgi");
  c = choose(v, "/srv/a/app.fcgi");
  EXPECT_EQ(c.kind, K::Fcgid);
  EXPECT_EQ(c.wrapper, "");
}

TEST(HandlerChoice, ProxyPassMatchSubstitution) {
  auto v = parse_vhost("ProxyPassMatch ^/(.*\\.php(/.*)?)$ fcgi://127.0.0.1:9000/srv/a/$1\n");
  auto t = match_proxy_pass(v, "/blog/index.php/2024/post");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->backend.describe(), "127.0.0.1:9000");
  EXPECT_EQ(t->script_filename, "/srv/a/blog/index.php/2024/post");
  EXPECT_FALSE(match_proxy_pass(v, "/style.css"));
}

}  // namespace
}  // namespace itkd
