#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http/response_head.h"
#include "static_fixture.h"
#include "worker/static/conditional_request.h"

namespace itkd::test {
namespace {

using StaticHandler = StaticFixture;

TEST_F(StaticHandler, GetSmallFile) {
  write_file("www/a.html", "<p>hello</p>");
  StaticResponse r = get("/a.html");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(body_of(r), "<p>hello</p>");
  EXPECT_EQ(r.file_offset, 0u);
  EXPECT_EQ(r.file_length, 12u);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(header(r, "Content-Length"), "12");
  EXPECT_EQ(header(r, "Content-Type"), "text/html");
  EXPECT_EQ(header(r, "Accept-Ranges"), "bytes");
  EXPECT_EQ(r.filename, docroot_ + "/a.html");
  struct stat st {};
  ASSERT_EQ(stat(abs("www/a.html").c_str(), &st), 0);
  EXPECT_EQ(header(r, "ETag"), make_etag(st));
  EXPECT_EQ(header(r, "Last-Modified"), http::http_date(st.st_mtime));
}

TEST_F(StaticHandler, HeadHasSameHeadersWithoutBody) {
  write_file("www/a.txt", "0123456789");
  StaticResponse g = get("/a.txt");
  StaticResponse h = head("/a.txt");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.headers, g.headers);
  EXPECT_FALSE(h.file.valid());
  EXPECT_TRUE(h.body.empty());
  EXPECT_EQ(header(h, "Content-Length"), "10");
}

TEST_F(StaticHandler, MissingFileIs404WithLogReason) {
  StaticResponse r = get("/missing.html");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.log_reason, "File does not exist: " + docroot_ + "/missing.html");
  EXPECT_NE(r.body.find("<title>404 Not Found</title>"), std::string::npos);
  EXPECT_EQ(header(r, "Content-Type"), "text/html; charset=iso-8859-1");
  EXPECT_EQ(header(r, "Content-Length"), std::to_string(r.body.size()));
}

TEST_F(StaticHandler, DefaultErrorPageIsApacheTemplate) {
  StaticResponse r = get("/nope");
  EXPECT_EQ(r.body.rfind("<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">", 0), 0u);
  EXPECT_NE(r.body.find("<h1>Not Found</h1>"), std::string::npos);
  EXPECT_NE(r.body.find("The requested URL was not found on this server."), std::string::npos);
}

TEST_F(StaticHandler, MissingIntermediateDirectoryIs404) {
  EXPECT_EQ(get("/no/such/dir/file").status, 404);
}

TEST_F(StaticHandler, FileUsedAsDirectoryIs404) {
  write_file("www/a.txt", "x");
  EXPECT_EQ(get("/a.txt/").status, 404);
  EXPECT_EQ(get("/a.txt/b").status, 404);
}

TEST_F(StaticHandler, EncodedSlashIs404AndNulIs400) {
  write_file("www/a.txt", "x");
  StaticResponse slash = get("/x%2Fa.txt");
  EXPECT_EQ(slash.status, 404);
  EXPECT_NE(slash.log_reason.find("%2f"), std::string::npos);
  EXPECT_EQ(get("/a.txt%00.html").status, 400);
  EXPECT_EQ(get("/a%zz").status, 400);
}

TEST_F(StaticHandler, EncodedCharactersAreDecoded) {
  write_file("www/a b.txt", "spaced");
  StaticResponse r = get("/a%20b.txt");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(body_of(r), "spaced");
}

TEST_F(StaticHandler, DotSegmentClimbIs400) {
  EXPECT_EQ(get("/../etc/passwd").status, 400);
  EXPECT_EQ(get("/%2e%2e/etc/passwd").status, 400);
  EXPECT_EQ(get("/a/../../b").status, 400);
}

TEST_F(StaticHandler, TraversalAttemptsNeverEscapeDocroot) {
  write_file("secret.txt", "TOP SECRET");
  write_file("www/index.html", "home");
  make_dir("www/sub");
  const char* attempts[] = {
      "/../secret.txt",        "/sub/../../secret.txt", "/%2e%2e/secret.txt",
      "/%2E%2E%2Fsecret.txt",  "/sub/%2e%2e/%2e%2e/secret.txt", "/..%2fsecret.txt",
      "/....//secret.txt",     "//../secret.txt",        "/sub/./../../secret.txt",
      "/.%2e/secret.txt",      "/%252e%252e/secret.txt", "/sub/..\\..\\secret.txt",
  };
  for (const char* a : attempts) {
    StaticResponse r = get(a);
    EXPECT_NE(r.status, 200) << a;
    EXPECT_EQ(body_of(r).find("TOP SECRET"), std::string::npos) << a;
  }
}

TEST_F(StaticHandler, OptionsAsterisk) {
  TestRequest r;
  r.method = http::Method::Options;
  r.method_text = "OPTIONS";
  r.path = "*";
  r.form = http::TargetForm::Asterisk;
  StaticResponse resp = request(r);
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(header(resp, "Allow"), "GET, HEAD, OPTIONS");
  EXPECT_EQ(header(resp, "Content-Length"), "0");
}

TEST_F(StaticHandler, OptionsOnPath) {
  StaticResponse r = method(http::Method::Options, "OPTIONS", "/anything");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(header(r, "Allow"), "GET, HEAD, OPTIONS");
  EXPECT_EQ(header(r, "Content-Length"), "0");
  EXPECT_TRUE(r.body.empty());
}

TEST_F(StaticHandler, UnsupportedMethodsAre405WithAllow) {
  write_file("www/a.txt", "x");
  const std::pair<http::Method, const char*> methods[] = {
      {http::Method::Post, "POST"},     {http::Method::Put, "PUT"},
      {http::Method::Delete, "DELETE"}, {http::Method::Patch, "PATCH"},
      {http::Method::Trace, "TRACE"},
  };
  for (const auto& [m, text] : methods) {
    StaticResponse r = method(m, text, "/a.txt");
    EXPECT_EQ(r.status, 405) << text;
    EXPECT_EQ(header(r, "Allow"), "GET, HEAD, OPTIONS") << text;
    EXPECT_NE(r.body.find(std::string("The requested method ") + text), std::string::npos);
  }
}

TEST_F(StaticHandler, UnknownMethodIs501) {
  StaticResponse r = method(http::Method::Other, "BREW", "/a.txt");
  EXPECT_EQ(r.status, 501);
  EXPECT_NE(r.body.find("BREW not supported"), std::string::npos);
}

TEST_F(StaticHandler, MethodNameIsEscapedInErrorPage) {
  StaticResponse r = method(http::Method::Other, "<X>", "/");
  EXPECT_EQ(r.body.find("<X>"), std::string::npos);
  EXPECT_NE(r.body.find("&lt;X&gt;"), std::string::npos);
}

TEST_F(StaticHandler, AddTypeOverridesMimeTypes) {
  write_file("www/a.html", "x");
  write_file("www/b.foo", "x");
  vhost_.add_types[".html"] = "application/xhtml+xml";
  vhost_.add_types[".foo"] = "application/x-foo";
  EXPECT_EQ(header(get("/a.html"), "Content-Type"), "application/xhtml+xml");
  EXPECT_EQ(header(get("/b.foo"), "Content-Type"), "application/x-foo");
}

TEST_F(StaticHandler, UnknownExtensionHasNoContentType) {
  write_file("www/data.unknownext", "x");
  write_file("www/noext", "x");
  StaticResponse r = get("/data.unknownext");
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(has_header(r, "Content-Type"));
  EXPECT_FALSE(has_header(get("/noext"), "Content-Type"));
}

TEST_F(StaticHandler, ExtensionIsCaseInsensitive) {
  write_file("www/PIC.PNG", "x");
  EXPECT_EQ(header(get("/PIC.PNG"), "Content-Type"), "image/png");
}

TEST_F(StaticHandler, DefaultCharsetOnTextPlainAndHtmlOnly) {
  write_file("www/a.html", "x");
  write_file("www/a.txt", "x");
  write_file("www/a.css", "x");
  write_file("www/a.png", "x");
  vhost_.default_charset = "UTF-8";
  EXPECT_EQ(header(get("/a.html"), "Content-Type"), "text/html; charset=UTF-8");
  EXPECT_EQ(header(get("/a.txt"), "Content-Type"), "text/plain; charset=UTF-8");
  EXPECT_EQ(header(get("/a.css"), "Content-Type"), "text/css");
  EXPECT_EQ(header(get("/a.png"), "Content-Type"), "image/png");
}

TEST_F(StaticHandler, IfNoneMatchGives304WithValidators) {
  write_file("www/a.txt", "0123456789");
  std::string etag = header(get("/a.txt"), "ETag");
  for (std::string inm : {etag, "W/" + etag, std::string("*"), "\"zzz\", " + etag}) {
    StaticResponse r = get("/a.txt", {{"If-None-Match", inm}});
    EXPECT_EQ(r.status, 304) << inm;
    EXPECT_EQ(header(r, "ETag"), etag);
    EXPECT_TRUE(has_header(r, "Last-Modified"));
    EXPECT_FALSE(has_header(r, "Content-Length"));
    EXPECT_FALSE(r.file.valid());
    EXPECT_TRUE(r.body.empty());
  }
  EXPECT_EQ(get("/a.txt", {{"If-None-Match", "\"other\""}}).status, 200);
  EXPECT_EQ(head("/a.txt", {{"If-None-Match", etag}}).status, 304);
}

TEST_F(StaticHandler, IfModifiedSince) {
  write_file("www/a.txt", "x");
  struct timespec times[2] = {{1600000000, 0}, {1600000000, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, abs("www/a.txt").c_str(), times, 0), 0);
  EXPECT_EQ(get("/a.txt", {{"If-Modified-Since", http::http_date(1600000000)}}).status, 304);
  EXPECT_EQ(get("/a.txt", {{"If-Modified-Since", http::http_date(1600000100)}}).status, 304);
  EXPECT_EQ(get("/a.txt", {{"If-Modified-Since", http::http_date(1599999999)}}).status, 200);
  EXPECT_EQ(get("/a.txt", {{"If-Modified-Since", "yesterday"}}).status, 200);
  EXPECT_EQ(get("/a.txt", {{"If-None-Match", "\"no\""},
                           {"If-Modified-Since", http::http_date(1600000000)}})
                .status,
            200);
  EXPECT_EQ(header(get("/a.txt"), "Last-Modified"), "Sun, 13 Sep 2020 12:26:40 GMT");
}

TEST_F(StaticHandler, IfMatchAndIfUnmodifiedSinceGive412) {
  write_file("www/a.txt", "x");
  struct timespec times[2] = {{1600000000, 0}, {1600000000, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, abs("www/a.txt").c_str(), times, 0), 0);
  std::string etag = header(get("/a.txt"), "ETag");
  StaticResponse failed = get("/a.txt", {{"If-Match", "\"other\""}});
  EXPECT_EQ(failed.status, 412);
  EXPECT_FALSE(failed.file.valid());
  EXPECT_EQ(get("/a.txt", {{"If-Match", etag}}).status, 200);
  EXPECT_EQ(get("/a.txt", {{"If-Match", "W/" + etag}}).status, 412);
  EXPECT_EQ(get("/a.txt", {{"If-Match", "*"}}).status, 200);
  EXPECT_EQ(get("/a.txt", {{"If-Unmodified-Since", http::http_date(1599999999)}}).status, 412);
  EXPECT_EQ(get("/a.txt", {{"If-Unmodified-Since", http::http_date(1600000000)}}).status, 200);
}

TEST_F(StaticHandler, RangeRequests) {
  write_file("www/a.txt", "0123456789");
  struct Case {
    const char* range;
    int status;
    const char* body;
    const char* content_range;
  };
  const Case cases[] = {
      {"bytes=0-3", 206, "0123", "bytes 0-3/10"},
      {"bytes=7-", 206, "789", "bytes 7-9/10"},
      {"bytes=-2", 206, "89", "bytes 8-9/10"},
      {"bytes=8-100", 206, "89", "bytes 8-9/10"},
      {"bytes=0-1,4-5", 200, "0123456789", ""},
      {"bytes=x-y", 200, "0123456789", ""},
      {"bytes=10-", 416, nullptr, "bytes */10"},
      {"bytes=-0", 416, nullptr, "bytes */10"},
  };
  for (const Case& c : cases) {
    StaticResponse r = get("/a.txt", {{"Range", c.range}});
    EXPECT_EQ(r.status, c.status) << c.range;
    EXPECT_EQ(header(r, "Content-Range"), c.content_range) << c.range;
    if (c.body) {
      EXPECT_EQ(body_of(r), c.body) << c.range;
      EXPECT_EQ(header(r, "Content-Length"), std::to_string(std::string(c.body).size()));
    } else {
      EXPECT_FALSE(r.file.valid());
      EXPECT_NE(r.body.find("416 Range Not Satisfiable"), std::string::npos);
    }
  }
}

TEST_F(StaticHandler, IfRangeDecidesBetweenPartialAndFull) {
  write_file("www/a.txt", "0123456789");
  StaticResponse full = get("/a.txt");
  std::string etag = header(full, "ETag");
  std::string lm = header(full, "Last-Modified");
  EXPECT_EQ(get("/a.txt", {{"Range", "bytes=0-0"}, {"If-Range", etag}}).status, 206);
  EXPECT_EQ(get("/a.txt", {{"Range", "bytes=0-0"}, {"If-Range", "\"stale\""}}).status, 200);
  EXPECT_EQ(get("/a.txt", {{"Range", "bytes=0-0"}, {"If-Range", lm}}).status, 206);
  EXPECT_EQ(get("/a.txt", {{"Range", "bytes=0-0"},
                           {"If-Range", "Thu, 01 Jan 1970 00:00:00 GMT"}})
                .status,
            200);
}

TEST_F(StaticHandler, HeadIgnoresRange) {
  write_file("www/a.txt", "0123456789");
  StaticResponse r = head("/a.txt", {{"Range", "bytes=0-1"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(header(r, "Content-Length"), "10");
}

TEST_F(StaticHandler, DirectoryWithoutSlashRedirects) {
  make_dir("www/sub");
  StaticResponse r = get("/sub?x=1&y=2");
  EXPECT_EQ(r.status, 301);
  EXPECT_EQ(header(r, "Location"), "http://example.com/sub/?x=1&y=2");
  EXPECT_NE(r.body.find("<title>301 Moved Permanently</title>"), std::string::npos);
  EXPECT_NE(r.body.find("http://example.com/sub/?x=1&amp;y=2"), std::string::npos);
}

TEST_F(StaticHandler, DirectoryRedirectEscapesPath) {
  make_dir("www/a b");
  StaticResponse r = get("/a%20b");
  EXPECT_EQ(r.status, 301);
  EXPECT_EQ(header(r, "Location"), "http://example.com/a%20b/");
}

TEST_F(StaticHandler, DirectoryIndexServed) {
  make_dir("www/sub");
  write_file("www/sub/index.html", "index!");
  StaticResponse r = get("/sub/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(body_of(r), "index!");
  EXPECT_EQ(header(r, "Content-Type"), "text/html");
  write_file("www/index.html", "root");
  EXPECT_EQ(body_of(get("/")), "root");
}

TEST_F(StaticHandler, DirectoryIndexOrder) {
  vhost_.directory_index = {"index.htm", "index.html", "default.txt"};
  make_dir("www/d");
  write_file("www/d/index.html", "html");
  write_file("www/d/default.txt", "txt");
  EXPECT_EQ(body_of(get("/d/")), "html");
  write_file("www/d/index.htm", "htm");
  EXPECT_EQ(body_of(get("/d/")), "htm");
}

TEST_F(StaticHandler, NoIndexAndNoIndexesIs403) {
  make_dir("www/sub");
  StaticResponse r = get("/sub/");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.log_reason, "Cannot serve directory " + docroot_ +
                              "/sub/: No matching DirectoryIndex (index.html) found, and "
                              "server-generated directory index forbidden by Options directive");
}

TEST_F(StaticHandler, DirectoryListingWithIndexes) {
  set_root_options(kOptIndexes);
  make_dir("www/sub");
  make_dir("www/sub/zdir");
  write_file("www/sub/b.txt", "bb");
  write_file("www/sub/a.txt", "a");
  StaticResponse r = get("/sub/");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(header(r, "Content-Type"), "text/html; charset=UTF-8");
  EXPECT_EQ(header(r, "Content-Length"), std::to_string(r.body.size()));
  EXPECT_NE(r.body.find("<title>Index of /sub/</title>"), std::string::npos);
  EXPECT_NE(r.body.find("<h1>Index of /sub/</h1>"), std::string::npos);
  EXPECT_NE(r.body.find("<a href=\"/\">Parent Directory</a>"), std::string::npos);
  size_t a = r.body.find("<a href=\"a.txt\">a.txt</a>");
  size_t b = r.body.find("<a href=\"b.txt\">b.txt</a>");
  size_t z = r.body.find("<a href=\"zdir/\">zdir/</a>");
  ASSERT_NE(a, std::string::npos);
  ASSERT_NE(b, std::string::npos);
  ASSERT_NE(z, std::string::npos);
  EXPECT_LT(a, b);
  EXPECT_LT(b, z);
}

TEST_F(StaticHandler, ListingEscapesHostileNames) {
  set_root_options(kOptIndexes);
  make_dir("www/d");
  write_file("www/d/<script>&\"x.html", "x");
  StaticResponse r = get("/d/");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body.find("<script>"), std::string::npos);
  EXPECT_NE(r.body.find(">&lt;script&gt;&amp;&quot;x.html</a>"), std::string::npos);
  EXPECT_NE(r.body.find("href=\"%3Cscript%3E&amp;%22x.html\""), std::string::npos);
}

TEST_F(StaticHandler, RootListingHasNoParentLink) {
  set_root_options(kOptIndexes);
  write_file("www/f.txt", "x");
  StaticResponse r = get("/");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body.find("Parent Directory"), std::string::npos);
  EXPECT_NE(r.body.find("Index of /</title>"), std::string::npos);
}

TEST_F(StaticHandler, HeadOfListingHasLengthButNoBody) {
  set_root_options(kOptIndexes);
  StaticResponse g = get("/");
  StaticResponse h = head("/");
  EXPECT_EQ(h.status, 200);
  EXPECT_TRUE(h.body.empty());
  EXPECT_EQ(header(h, "Content-Length"), std::to_string(g.body.size()));
}

TEST_F(StaticHandler, IndexesFromNestedDirectoryBlocks) {
  set_root_options(kOptFollowSymLinks);
  add_directory("www/open", kOptIndexes);
  make_dir("www/open");
  make_dir("www/open/deeper");
  make_dir("www/closed");
  DirectoryBlock& minus = add_directory("www/open/deeper", 0);
  minus.options.reset();
  minus.options_remove = kOptIndexes;
  EXPECT_EQ(get("/open/").status, 200);
  EXPECT_EQ(get("/closed/").status, 403);
  EXPECT_EQ(get("/open/deeper/").status, 403);
}

TEST_F(StaticHandler, DirectoryIndexFromDirectoryBlock) {
  DirectoryBlock& b = add_directory("www/d", kDefaultOptions);
  b.directory_index = std::vector<std::string>{"start.txt"};
  make_dir("www/d");
  write_file("www/d/index.html", "no");
  write_file("www/d/start.txt", "yes");
  EXPECT_EQ(body_of(get("/d/")), "yes");
}

TEST_F(StaticHandler, RequireAllDeniedCoversEverythingBelow) {
  DirectoryBlock& b = add_directory("www/private", kDefaultOptions);
  b.access = require_all(true);
  make_dir("www/private");
  make_dir("www/private/sub");
  write_file("www/private/a.txt", "secret");
  write_file("www/public.txt", "ok");
  for (const char* p : {"/private/a.txt", "/private/missing", "/private/", "/private",
                        "/private/sub/", "/private/sub/x/y"}) {
    StaticResponse r = get(p);
    EXPECT_EQ(r.status, 403) << p;
    EXPECT_NE(r.log_reason.find("client denied by server configuration"), std::string::npos)
        << p;
  }
  EXPECT_EQ(get("/public.txt").status, 200);
}

TEST_F(StaticHandler, RequireAllGrantedReopensSubdirectory) {
  DirectoryBlock& deny = add_directory("www/private", kDefaultOptions);
  deny.access = require_all(true);
  DirectoryBlock& grant = add_directory("www/private/open", kDefaultOptions);
  grant.access = require_all(false);
  make_dir("www/private");
  make_dir("www/private/open");
  write_file("www/private/open/a.txt", "fine");
  EXPECT_EQ(body_of(get("/private/open/a.txt")), "fine");
}

TEST_F(StaticHandler, DebianStyleRootDeniedDocrootGranted) {
  // apache2.conf: <Directory /> Require all denied, then <Directory /var/www/> granted.
  DirectoryBlock root_block;
  root_block.path = "/";
  root_block.options = kOptFollowSymLinks;
  root_block.access = require_all(true);
  vhost_.directories.push_back(root_block);
  DirectoryBlock& www = add_directory("www", kOptIndexes | kOptFollowSymLinks);
  www.access = require_all(false);
  write_file("www/index.html", "home");
  write_file("www/a.txt", "a");
  write_file("elsewhere.txt", "no");
  EXPECT_EQ(body_of(get("/")), "home");
  EXPECT_EQ(body_of(get("/a.txt")), "a");
  vhost_.aliases.push_back({"/e.txt", abs("elsewhere.txt"), false, {}});
  EXPECT_EQ(get("/e.txt").status, 403);
}

TEST_F(StaticHandler, FifoIsRefusedWithoutBlocking) {
  ASSERT_EQ(mkfifo(abs("www/pipe.txt").c_str(), 0666), 0);
  // A blocking open of a FIFO would hang forever: the alarm turns that into a failure.
  signal(SIGALRM, SIG_DFL);
  alarm(5);
  StaticResponse r = get("/pipe.txt");
  StaticResponse h = head("/pipe.txt");
  alarm(0);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(h.status, 403);
  EXPECT_NE(r.log_reason.find("Not a regular file"), std::string::npos);
}

TEST_F(StaticHandler, DeviceIsRefused) {
  make_symlink("/dev/null", "www/null.txt");
  EXPECT_EQ(get("/null.txt").status, 403);
}

TEST_F(StaticHandler, UnreadableFileIs403) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads mode 000 files";
  write_file("www/locked.txt", "secret", 0000);
  StaticResponse r = get("/locked.txt");
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.log_reason.find("file permissions deny server access"), std::string::npos);
  EXPECT_EQ(head("/locked.txt").status, 403);
}

TEST_F(StaticHandler, UnsearchableDirectoryIs403) {
  if (geteuid() == 0) GTEST_SKIP() << "root searches mode 000 directories";
  make_dir("www/closed");
  write_file("www/closed/a.txt", "x");
  chmod(abs("www/closed").c_str(), 0000);
  EXPECT_EQ(get("/closed/a.txt").status, 403);
}

TEST_F(StaticHandler, ResponseFileIsCloseOnExec) {
  write_file("www/a.txt", "x");
  StaticResponse r = get("/a.txt");
  ASSERT_TRUE(r.file.valid());
  EXPECT_TRUE(fcntl(r.file.get(), F_GETFD) & FD_CLOEXEC);
}

}  // namespace
}  // namespace itkd::test
