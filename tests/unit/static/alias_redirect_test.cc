// Alias / ScriptAlias / Redirect (mod_alias) and ErrorDocument (core).
#include "static_fixture.h"

namespace itkd::test {
namespace {

using AliasRedirect = StaticFixture;

TEST_F(AliasRedirect, AliasServesFromTarget) {
  make_dir("icons");
  write_file("icons/a.png", "png");
  vhost_.aliases.push_back({"/icons/", abs("icons") + "/", false, {}});
  StaticResponse r = get("/icons/a.png");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(body_of(r), "png");
  EXPECT_EQ(r.filename, abs("icons") + "/a.png");
}

TEST_F(AliasRedirect, AliasWithTrailingSlashDoesNotMatchWithout) {
  make_dir("icons");
  vhost_.aliases.push_back({"/icons/", abs("icons") + "/", false, {}});
  StaticResponse r = get("/icons");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.filename, docroot_ + "/icons");
}

TEST_F(AliasRedirect, AliasWithoutSlashMatchesDirectoryAndRedirects) {
  make_dir("icons");
  write_file("icons/index.html", "icon index");
  vhost_.aliases.push_back({"/icons", abs("icons"), false, {}});
  StaticResponse r = get("/icons");
  EXPECT_EQ(r.status, 301);
  EXPECT_EQ(header(r, "Location"), "http://example.com/icons/");
  EXPECT_EQ(body_of(get("/icons/")), "icon index");
  EXPECT_EQ(get("/iconsx").status, 404);
}

TEST_F(AliasRedirect, AliasToSingleFile) {
  write_file("robots.txt", "User-agent: *");
  vhost_.aliases.push_back({"/robots.txt", abs("robots.txt"), false, {}});
  StaticResponse r = get("/robots.txt");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(body_of(r), "User-agent: *");
  EXPECT_EQ(header(r, "Content-Type"), "text/plain");
}

TEST_F(AliasRedirect, FirstMatchingAliasWins) {
  make_dir("one");
  make_dir("two");
  write_file("one/f.txt", "one");
  write_file("two/f.txt", "two");
  vhost_.aliases.push_back({"/x", abs("one"), false, {}});
  vhost_.aliases.push_back({"/x", abs("two"), false, {}});
  EXPECT_EQ(body_of(get("/x/f.txt")), "one");
}

TEST_F(AliasRedirect, AliasTargetCannotBeEscaped) {
  make_dir("icons");
  write_file("secret.txt", "TOP SECRET");
  vhost_.aliases.push_back({"/icons/", abs("icons") + "/", false, {}});
  for (const char* p : {"/icons/../secret.txt", "/icons/%2e%2e/secret.txt",
                        "/icons/..%2fsecret.txt"}) {
    EXPECT_EQ(body_of(get(p)).find("TOP SECRET"), std::string::npos) << p;
  }
}

TEST_F(AliasRedirect, ScriptAliasIsNotServedAsFile) {
  make_dir("cgi");
  write_file("cgi/run.sh", "#!/bin/sh\necho secret source\n", 0755);
  vhost_.aliases.push_back({"/cgi-bin/", abs("cgi") + "/", true, {}});
  StaticResponse r = get("/cgi-bin/run.sh");
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.log_reason.find("not a runnable script"), std::string::npos);
  EXPECT_EQ(body_of(r).find("secret source"), std::string::npos);
}

TEST_F(AliasRedirect, RedirectAppendsRemainderAndQuery) {
  vhost_.redirects.push_back({301, "/old", "https://new.example/fresh", {}});
  StaticResponse r = get("/old/a%20b.html?q=1");
  EXPECT_EQ(r.status, 301);
  EXPECT_EQ(header(r, "Location"), "https://new.example/fresh/a%20b.html?q=1");
  EXPECT_NE(r.body.find("The document has moved"), std::string::npos);
  EXPECT_EQ(header(get("/old"), "Location"), "https://new.example/fresh");
}

TEST_F(AliasRedirect, RedirectMatchesWholeSegments) {
  write_file("www/older.txt", "kept");
  vhost_.redirects.push_back({302, "/old", "https://new.example/", {}});
  EXPECT_EQ(get("/older.txt").status, 200);
}

TEST_F(AliasRedirect, RedirectStatuses) {
  for (int status : {301, 302, 303, 307, 308}) {
    vhost_.redirects.clear();
    vhost_.redirects.push_back({status, "/r", "http://t.example/x", {}});
    StaticResponse r = get("/r");
    EXPECT_EQ(r.status, status);
    EXPECT_EQ(header(r, "Location"), "http://t.example/x");
  }
}

TEST_F(AliasRedirect, RedirectToLocalPathIsMadeAbsolute) {
  vhost_.redirects.push_back({302, "/a", "/b", {}});
  EXPECT_EQ(header(get("/a/c"), "Location"), "http://example.com/b/c");
}

TEST_F(AliasRedirect, RedirectComesBeforeAlias) {
  make_dir("icons");
  vhost_.aliases.push_back({"/icons/", abs("icons") + "/", false, {}});
  vhost_.redirects.push_back({301, "/icons", "http://cdn.example/icons", {}});
  EXPECT_EQ(get("/icons/a.png").status, 301);
}

RedirectRule redirect_match(int status, const std::string& regex, const std::string& target) {
  RedirectRule r;
  r.status = status;
  r.is_regex = true;
  r.url_prefix = regex;
  r.regex = *SharedRegex::compile(regex, REG_EXTENDED);
  r.target = target;
  return r;
}

TEST_F(AliasRedirect, RedirectMatchSubstitutesGroupsEscapedWithQuery) {
  vhost_.redirects.push_back(redirect_match(301, "^/blog/([0-9]{4})/(.*)\\.html$", "https://new.example/$1/$2/"));
  StaticResponse r = get("/blog/2024/a%20b.html?ref=x");
  EXPECT_EQ(r.status, 301);
  EXPECT_EQ(header(r, "Location"), "https://new.example/2024/a%20b/?ref=x");
  EXPECT_EQ(get("/blog/latest.html").status, 404);  // no match: served as usual
  vhost_.redirects.clear();
  vhost_.redirects.push_back(redirect_match(302, "\\.php$", "/index.html"));
  EXPECT_EQ(header(get("/x/old.php"), "Location"), "http://example.com/index.html");
  vhost_.redirects.clear();
  vhost_.redirects.push_back(redirect_match(410, "^/wp-login", ""));
  EXPECT_EQ(get("/wp-login.php").status, 410);
}

TEST_F(AliasRedirect, RedirectGoneIs410) {
  vhost_.redirects.push_back({410, "/gone", "", {}});
  StaticResponse r = get("/gone/page");
  EXPECT_EQ(r.status, 410);
  EXPECT_FALSE(has_header(r, "Location"));
  EXPECT_NE(r.body.find("<title>410 Gone</title>"), std::string::npos);
}

TEST_F(AliasRedirect, ErrorDocumentText) {
  vhost_.error_documents.push_back({404, ErrorDocumentRule::Kind::Text, "Nothing here"});
  StaticResponse r = get("/missing");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "Nothing here");
  EXPECT_EQ(header(r, "Content-Type"), "text/html; charset=iso-8859-1");
  EXPECT_EQ(header(r, "Content-Length"), "12");
  EXPECT_FALSE(r.log_reason.empty());
}

TEST_F(AliasRedirect, ErrorDocumentExternalUrlIs302) {
  vhost_.error_documents.push_back(
      {404, ErrorDocumentRule::Kind::ExternalUrl, "http://errors.example/404"});
  StaticResponse r = get("/missing");
  EXPECT_EQ(r.status, 302);
  EXPECT_EQ(header(r, "Location"), "http://errors.example/404");
}

TEST_F(AliasRedirect, ErrorDocumentLocalKeepsOriginalStatus) {
  make_dir("www/errors");
  write_file("www/errors/404.html", "<h1>custom 404</h1>");
  vhost_.error_documents.push_back({404, ErrorDocumentRule::Kind::LocalUrl, "/errors/404.html"});
  StaticResponse r = get("/missing", {{"If-None-Match", "*"}, {"Range", "bytes=0-1"}});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(body_of(r), "<h1>custom 404</h1>");
  EXPECT_EQ(header(r, "Content-Type"), "text/html");
  EXPECT_FALSE(has_header(r, "ETag"));
  EXPECT_EQ(r.log_reason, "File does not exist: " + docroot_ + "/missing");
  StaticResponse h = head("/missing");
  EXPECT_EQ(h.status, 404);
  EXPECT_FALSE(h.file.valid());
  EXPECT_EQ(header(h, "Content-Length"), "19");
}

TEST_F(AliasRedirect, ErrorDocumentScriptIsRunNeverServed) {
  make_dir("www/errors");
  write_file("www/errors/404.php", "<?php $db_password = 'hunter2';");
  vhost_.error_documents.push_back({404, ErrorDocumentRule::Kind::LocalUrl, "/errors/404.php"});
  std::string asked_url, asked_fs;
  runs_handler_ = [&](const std::string& url, const std::string& fs, bool) {
    asked_url = url;
    asked_fs = fs;
    return fs.ends_with(".php");
  };
  StaticResponse r = get("/missing");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.error_document_script, "/errors/404.php");
  EXPECT_EQ(r.body.find("hunter2"), std::string::npos);
  EXPECT_FALSE(r.file.valid());
  EXPECT_EQ(asked_url, "/errors/404.php");
  EXPECT_EQ(asked_fs, docroot_ + "/errors/404.php");
  // Without a handler for it, the file is the page, as before.
  runs_handler_ = [](const std::string&, const std::string&, bool) { return false; };
  EXPECT_TRUE(get("/missing").error_document_script.empty());
}

TEST_F(AliasRedirect, ErrorDocumentLocalFor403) {
  make_dir("www/errors");
  write_file("www/errors/403.html", "forbidden page");
  make_dir("www/noindex");
  vhost_.error_documents.push_back({403, ErrorDocumentRule::Kind::LocalUrl, "/errors/403.html"});
  StaticResponse r = get("/noindex/");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(body_of(r), "forbidden page");
}

TEST_F(AliasRedirect, ErrorDocumentLocalMissingFallsBackWithoutRecursion) {
  vhost_.error_documents.push_back({404, ErrorDocumentRule::Kind::LocalUrl, "/errors/404.html"});
  StaticResponse r = get("/missing");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("<title>404 Not Found</title>"), std::string::npos);
}

TEST_F(AliasRedirect, ErrorDocumentKeepsAllowOn405) {
  vhost_.error_documents.push_back({405, ErrorDocumentRule::Kind::Text, "no"});
  StaticResponse r = method(http::Method::Post, "POST", "/x");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(header(r, "Allow"), "GET, HEAD, OPTIONS");
  EXPECT_EQ(r.body, "no");
}

}  // namespace
}  // namespace itkd::test
