// FallbackResource (mod_dir): a URL for which nothing exists in the filesystem is served
// by the fallback's file (a single-page app's /index.html, a front controller).
#include "static_fixture.h"

namespace itkd::test {
namespace {

using FallbackResource = StaticFixture;

TEST_F(FallbackResource, MissingPathsGetTheFallbackExistingFilesThemselves) {
  write_file("www/index.html", "app shell");
  write_file("www/style.css", "body{}");
  vhost_.fallback_resource = "/index.html";
  StaticResponse r = get("/users/42/profile?tab=1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(body_of(r), "app shell");
  EXPECT_EQ(header(r, "Content-Type"), "text/html");
  EXPECT_EQ(r.filename, docroot_ + "/index.html");
  EXPECT_EQ(body_of(get("/style.css")), "body{}");
  EXPECT_EQ(get("/missing.css").status, 200);  // no handler for the name: falls back too
}

TEST_F(FallbackResource, DirectoriesAreNotMissing) {
  write_file("www/index.html", "app shell");
  make_dir("www/docs");
  vhost_.fallback_resource = "/index.html";
  EXPECT_EQ(get("/docs").status, 301);
}

TEST_F(FallbackResource, DisabledInADirectoryAndRelativeToTheRequest) {
  write_file("www/index.html", "app shell");
  make_dir("www/blog");
  write_file("www/blog/index.html", "blog shell");
  make_dir("www/assets");
  vhost_.fallback_resource = "/index.html";
  add_directory("www/assets", kDefaultOptions).fallback_resource = "";
  add_directory("www/blog", kDefaultOptions).fallback_resource = "index.html";
  EXPECT_EQ(get("/assets/gone.png").status, 404);
  EXPECT_EQ(body_of(get("/blog/gone")), "blog shell");
  EXPECT_EQ(body_of(get("/elsewhere")), "app shell");
}

TEST_F(FallbackResource, AMissingFallbackIsA404ThatSaysSo) {
  vhost_.fallback_resource = "/index.html";
  StaticResponse r = get("/x");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.log_reason.find("FallbackResource /index.html (for " + docroot_ + "/x) does not exist"),
            std::string::npos) << r.log_reason;
}

TEST_F(FallbackResource, NotAppliedWhenTheCallerSaysTheNameHasAHandler) {
  write_file("www/index.html", "app shell");
  vhost_.fallback_resource = "/index.html";
  TestRequest t;
  t.path = "/missing.php";
  http::RequestHead h = t.head();
  StaticRequest req{vhost_, h, mime_, "http", "example.com", nullptr, 0, false, client_};
  EXPECT_EQ(serve_static(req).status, 404);
}

TEST_F(FallbackResource, CannotLeaveTheDocumentRoot) {
  write_file("outside.html", "outside");
  vhost_.fallback_resource = "/../outside.html";
  EXPECT_EQ(body_of(get("/x")).find("outside"), std::string::npos);
}

}  // namespace
}  // namespace itkd::test
