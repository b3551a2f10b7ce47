// mod_rewrite's rules at request time: what the usual Apache rule sets (WordPress,
// https/www redirects, pretty URLs, Laravel's Authorization line) make of requests.
#include "worker/rewrite_engine.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "config/config_parser.h"
#include "http/request_head.h"
#include "worker/static/static_handler.h"

namespace itkd {
namespace {

class RewriteEngine : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/itkd-rw-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    std::filesystem::create_directories(root_ + "/www/wp-admin");
    std::filesystem::create_directories(root_ + "/shop");
    for (const char* f : {"/www/index.php", "/www/style.css", "/shop/index.php"}) std::ofstream(root_ + f) << "x";
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  // The vhost "a.example" with DocumentRoot <root>/www and `extra` inside.
  void configure(const std::string& extra, const std::string& global = "") {
    ParseOptions o;
    o.resolve_identities = false;
    auto c = parse_config_text("Listen 80\nDocumentRoot /srv/main\n" + global +
                                   "<VirtualHost *:80>\nServerName a.example\nDocumentRoot " + root_ + "/www\n" +
                                   extra + "</VirtualHost>\n",
                               "t.conf", o);
    ASSERT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
    config_ = std::move(c).value();
  }

  RewriteOutcome run(const std::string& target, const std::string& headers = "", std::string_view scheme = "http",
                     const std::string& host = "a.example") {
    buffer_ = "GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\n" + headers + "\r\n";
    head_ = http::RequestHead{};
    EXPECT_EQ(http::parse_request_head(buffer_, http::ParseLimits{}, head_).status, http::ParseStatus::Complete);
    RewriteRequest request{config_.vhosts[1], head_, scheme, "a.example", "127.0.0.1", 80, "192.0.2.7", 40000, 0};
    std::string decoded, path;
    EXPECT_TRUE(percent_decode_path(head_.path, decoded) && remove_dot_segments(decoded, path)) << target;
    return apply_rewrite_rules(request, path, head_.query, head_.has_query);
  }

  std::string wordpress() const {
    return "<Directory " + root_ + "/www>\nRewriteEngine On\nRewriteBase /\nRewriteRule ^index\\.php$ - [L]\n"
           "RewriteCond %{REQUEST_FILENAME} !-f\nRewriteCond %{REQUEST_FILENAME} !-d\n"
           "RewriteRule . /index.php [L]\n</Directory>\n";
  }

  std::string root_;
  ServerConfig config_;
  std::string buffer_;
  http::RequestHead head_;
};

using Kind = RewriteOutcome::Kind;

TEST_F(RewriteEngine, WordPressSendsPrettyUrlsToIndexPhpAndLeavesFilesAlone) {
  configure(wordpress());
  RewriteOutcome r = run("/2026/11/hello-world/?replytocom=5");
  ASSERT_EQ(r.kind, Kind::Rewritten);
  EXPECT_EQ(r.path, "/index.php");
  EXPECT_EQ(r.query, "replytocom=5");  // no '?' in the substitution: the query stays
  EXPECT_TRUE(r.internal_redirect);
  EXPECT_EQ(run("/style.css").kind, Kind::Unchanged);
  EXPECT_EQ(run("/wp-admin/").kind, Kind::Unchanged);
  EXPECT_EQ(run("/").kind, Kind::Unchanged);           // "" does not match '.'
  EXPECT_EQ(run("/index.php").kind, Kind::Unchanged);  // the first rule stops the loop
}

TEST_F(RewriteEngine, WildcardDirectoriesRunTheirRules) {
  // "<Directory /home/*/public_html>", as hosting configs write it for every user.
  std::string parent = root_.substr(0, root_.rfind('/'));
  configure("<Directory " + parent + "/*/www>\nRewriteEngine On\nRewriteCond %{REQUEST_FILENAME} !-f\n"
            "RewriteRule . /index.php [L]\n</Directory>\n");
  RewriteOutcome r = run("/2026/11/hello-world/");
  ASSERT_EQ(r.kind, Kind::Rewritten);
  EXPECT_EQ(r.path, "/index.php");
}

TEST_F(RewriteEngine, ALaterBlockForTheSameDirectoryReplacesTheRules) {
  configure("<Directory " + root_ + "/www>\nRewriteEngine On\nRewriteRule ^old$ /style.css [L]\n</Directory>\n"
            "<Directory " + root_ + "/www>\nRewriteRule ^old$ /index.php [L]\n</Directory>\n");
  RewriteOutcome r = run("/old");
  ASSERT_EQ(r.kind, Kind::Rewritten);
  EXPECT_EQ(r.path, "/index.php");
}

TEST_F(RewriteEngine, TheSameRulesWorkWithoutRewriteBaseBelowDocumentRoot) {
  configure("<Directory " + root_ + "/www>\nRewriteEngine On\nRewriteCond %{REQUEST_FILENAME} !-f\n"
            "RewriteRule ^(.*)$ index.php?route=$1 [L,QSA]\n</Directory>\n");
  RewriteOutcome r = run("/products/7?sort=asc");
  ASSERT_EQ(r.kind, Kind::Rewritten);
  EXPECT_EQ(r.path, "/index.php");
  EXPECT_EQ(r.query, "route=products/7&sort=asc");
}

TEST_F(RewriteEngine, AnAliasedDirectoryRewritesBelowItsUrl) {
  configure("Alias /shop " + root_ + "/shop\n<Directory " + root_ + "/shop>\nRewriteEngine On\n"
            "RewriteCond %{REQUEST_FILENAME} !-f\nRewriteRule ^ index.php [L]\n</Directory>\n");
  RewriteOutcome r = run("/shop/cart");
  ASSERT_EQ(r.kind, Kind::Rewritten);
  EXPECT_EQ(r.path, "/shop/index.php");
}

TEST_F(RewriteEngine, ARuleThatAlwaysRewritesStopsAfterTenRoundsWith500) {
  configure("<Directory " + root_ + "/www>\nRewriteEngine On\nRewriteRule ^(.*)$ x$1\n</Directory>\n");
  RewriteOutcome r = run("/a");
  ASSERT_EQ(r.kind, Kind::Respond);
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.log_reason.find("limit of 10 internal redirects"), std::string::npos) << r.log_reason;
}

TEST_F(RewriteEngine, HttpsAndWwwRedirectsAtVhostLevel) {
  configure("RewriteEngine On\nRewriteCond %{HTTPS} off\n"
            "RewriteRule ^/?(.*)$ https://%{HTTP_HOST}/$1 [R=301,L]\n");
  RewriteOutcome r = run("/a%20b/c?x=1");
  ASSERT_EQ(r.kind, Kind::Respond);
  EXPECT_EQ(r.status, 301);
  EXPECT_EQ(r.location, "https://a.example/a%20b/c?x=1");
  EXPECT_EQ(run("/a", "", "https").kind, Kind::Unchanged);

  configure("RewriteEngine On\nRewriteCond %{HTTP_HOST} ^www\\.(.+)$ [NC]\nRewriteRule ^ http://%1%{REQUEST_URI} [R=permanent,L]\n");
  EXPECT_EQ(run("/x").kind, Kind::Unchanged);
  RewriteOutcome www = run("/x?y=1", "", "http", "WWW.a.example");
  EXPECT_EQ(www.status, 301);
  EXPECT_EQ(www.location, "http://a.example/x?y=1");
}

TEST_F(RewriteEngine, PrettyUrlsWithQueryHandling) {
  configure("RewriteEngine On\nRewriteRule ^/post/(\\d+)/?$ /index.php?p=$1 [QSA,L]\n"
            "RewriteRule ^/old/(.*)$ /new/$1?fresh=1 [L]\nRewriteRule ^/plain/(.*)$ /$1 [QSD]\n");
  RewriteOutcome r = run("/post/42/?utm=x");
  ASSERT_EQ(r.kind, Kind::Rewritten);
  EXPECT_EQ(r.path, "/index.php");
  EXPECT_EQ(r.query, "p=42&utm=x");
  EXPECT_FALSE(r.internal_redirect);  // a vhost rule: the same request, not a redirect
  EXPECT_EQ(run("/post/d").kind, Kind::Unchanged);  // \d means a digit, as in PCRE
  r = run("/old/a?b=c");
  EXPECT_EQ(r.path, "/new/a");
  EXPECT_EQ(r.query, "fresh=1");
  r = run("/plain/x?drop=me");
  EXPECT_EQ(r.path, "/x");
  EXPECT_FALSE(r.has_query);
}

TEST_F(RewriteEngine, ForbiddenGoneAndStatusRedirects) {
  configure("RewriteEngine On\nRewriteRule \\.(bak|sql)$ - [F]\nRewriteRule ^/retired - [G]\n"
            "RewriteCond %{HTTP_USER_AGENT} BadBot [NC]\nRewriteRule .* - [R=403]\n");
  EXPECT_EQ(run("/dump.sql").status, 403);
  EXPECT_EQ(run("/retired/page").status, 410);
  EXPECT_EQ(run("/x", "User-Agent: some badbot/1.0\r\n").status, 403);
  EXPECT_EQ(run("/x", "User-Agent: curl\r\n").kind, Kind::Unchanged);
}

TEST_F(RewriteEngine, OrChainSkipAndConditionGroups) {
  configure("RewriteEngine On\n"
            "RewriteCond %{QUERY_STRING} a=1 [OR]\nRewriteCond %{QUERY_STRING} b=1\nRewriteRule ^/or$ /yes\n"
            "RewriteRule ^/chain/(.*)$ /step1/$1 [C]\nRewriteRule ^/step1/(x.*)$ /step2/$1\n"
            "RewriteRule ^/skip$ - [S=1]\nRewriteRule ^/skip$ /skipped\n"
            "RewriteCond %{HTTP:X-Lang} ^([a-z]{2})$\nRewriteRule ^/lang$ /%1/index.html\n");
  EXPECT_EQ(run("/or?a=1").path, "/yes");
  EXPECT_EQ(run("/or?b=1").path, "/yes");
  EXPECT_EQ(run("/or?c=1").kind, Kind::Unchanged);
  EXPECT_EQ(run("/chain/xy").path, "/step2/xy");
  EXPECT_EQ(run("/chain/yy").path, "/step1/yy");
  EXPECT_EQ(run("/skip").kind, Kind::Unchanged);
  EXPECT_EQ(run("/lang", "X-Lang: de\r\n").path, "/de/index.html");
}

TEST_F(RewriteEngine, StringAndIntegerConditions) {
  configure("RewriteEngine On\nRewriteCond %{REQUEST_METHOD} =POST\nRewriteRule ^/form$ /post-only\n"
            "RewriteCond %{SERVER_PORT} -eq80\nRewriteRule ^/port$ /eighty\n"
            "RewriteCond %{HTTP:X-Empty} =\"\"\nRewriteRule ^/empty$ /was-empty\n");
  EXPECT_EQ(run("/form").kind, Kind::Unchanged);
  EXPECT_EQ(run("/port").path, "/eighty");
  EXPECT_EQ(run("/empty").path, "/was-empty");
}

TEST_F(RewriteEngine, AbsoluteUrlsToThisSiteAreLocalOthersRedirect) {
  configure("RewriteEngine On\nRewriteRule ^/here$ http://a.example/there\nRewriteRule ^/away$ http://b.example/x\n");
  EXPECT_EQ(run("/here").path, "/there");
  RewriteOutcome r = run("/away");
  EXPECT_EQ(r.kind, Kind::Respond);
  EXPECT_EQ(r.status, 302);
  EXPECT_EQ(r.location, "http://b.example/x");
}

TEST_F(RewriteEngine, EnvVariablesReachScriptsAndAreRenamedByAnInternalRedirect) {
  configure("<Directory " + root_ + "/www>\nRewriteEngine On\n"
            "RewriteCond %{HTTP:Authorization} .\nRewriteRule .* - [E=HTTP_AUTHORIZATION:%{HTTP:Authorization}]\n"
            "RewriteCond %{REQUEST_FILENAME} !-f\nRewriteRule ^ index.php [L]\n</Directory>\n");
  RewriteOutcome r = run("/api/users", "Authorization: Bearer abc\r\n");
  ASSERT_EQ(r.kind, Kind::Rewritten);
  ASSERT_EQ(r.env.size(), 2u);
  EXPECT_EQ(r.env[0], (std::pair<std::string, std::string>{"REDIRECT_HTTP_AUTHORIZATION", "Bearer abc"}));
  EXPECT_EQ(r.env[1], (std::pair<std::string, std::string>{"HTTP_AUTHORIZATION", "Bearer abc"}));
}

TEST_F(RewriteEngine, RedirectStatusTellsTheSecondRound) {
  configure("<Directory " + root_ + "/www>\nRewriteEngine On\nRewriteCond %{ENV:REDIRECT_STATUS} ^$\n"
            "RewriteRule ^index\\.php$ - [F]\nRewriteCond %{REQUEST_FILENAME} !-f\n"
            "RewriteRule ^ index.php [L]\n</Directory>\n");
  EXPECT_EQ(run("/index.php").status, 403);  // asked for directly
  EXPECT_EQ(run("/route").path, "/index.php");  // reached by the rewrite
}

TEST_F(RewriteEngine, EndStopsTheDirectoryRound) {
  configure("RewriteEngine On\nRewriteRule ^/raw/(.*)$ /$1 [END]\n<Directory " + root_ +
            "/www>\nRewriteEngine On\nRewriteRule ^(.*)$ /never [L]\n</Directory>\n");
  EXPECT_EQ(run("/raw/style.css").path, "/style.css");
  EXPECT_EQ(run("/other").path, "/never");
}

TEST_F(RewriteEngine, MainServerRulesOnlyWhenInherited) {
  std::string global = "RewriteEngine On\nRewriteRule ^/global$ /from-main\n";
  configure("RewriteEngine On\nRewriteRule ^/own$ /from-vhost\n", global);
  EXPECT_EQ(run("/global").kind, Kind::Unchanged);
  configure("RewriteEngine On\nRewriteOptions Inherit\nRewriteRule ^/own$ /from-vhost\n", global);
  EXPECT_EQ(run("/global").path, "/from-main");
  EXPECT_EQ(run("/own").path, "/from-vhost");
}

TEST_F(RewriteEngine, EngineOffOrNestedDirectoryWithoutRulesChangesNothingElse) {
  configure(wordpress() + "<Directory " + root_ + "/www/wp-admin>\nRewriteEngine Off\n</Directory>\n");
  EXPECT_EQ(run("/wp-admin/missing").kind, Kind::Unchanged);
  configure(wordpress() + "<Directory " + root_ + "/www/wp-admin>\nOptions -Indexes\n</Directory>\n");
  EXPECT_EQ(run("/wp-admin/missing").path, "/index.php");  // a block with no rewrite lines is transparent
}

TEST_F(RewriteEngine, RedirectsEscapeWhatTheyCopyUnlessNE) {
  configure("RewriteEngine On\nRewriteRule ^/go/(.*)$ /to/$1 [R]\nRewriteRule ^/frag$ /page#part [R,NE]\n"
            "RewriteRule ^/h$ /x?v=%{HTTP:X-V} [R]\n");
  EXPECT_EQ(run("/go/a%25b%3Fc").location, "http://a.example/to/a%25b%3Fc");
  EXPECT_EQ(run("/frag").location, "http://a.example/page#part");
  RewriteOutcome r = run("/h", "X-V: a b\"\r\n");
  EXPECT_EQ(r.location, "http://a.example/x?v=a%20b%22");
}

}  // namespace
}  // namespace itkd
