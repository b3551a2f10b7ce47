// Which requests run a program: here, FallbackResource's part of it (mod_dir), which turns
// a request for nothing in the filesystem into one for the site's front controller.
#include "worker/dynamic_target.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "config/config_parser.h"
#include "http/request_head.h"

namespace itkd {
namespace {

class DynamicTargetFallback : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/itkd-dyn-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    std::filesystem::create_directories(root_ + "/www/assets");
    for (const char* f : {"/www/index.php", "/www/style.css", "/www/app.html"}) std::ofstream(root_ + f) << "x";
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  VirtualHost vhost(const std::string& extra) {
    ParseOptions o;
    o.resolve_identities = false;
    auto c = parse_config_text("Listen 80\nDocumentRoot /srv/main\n<VirtualHost *:80>\nServerName a\n"
                               "DocumentRoot " + root_ + "/www\n<FilesMatch \\.php$>\n"
                               "SetHandler \"proxy:unix:/run/php/a.sock|fcgi://localhost\"\n</FilesMatch>\n" +
                               extra + "</VirtualHost>\n", "t.conf", o);
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
    return c.ok() ? c->vhosts[1] : VirtualHost{};
  }

  std::optional<DynamicTarget> find(const VirtualHost& v, const std::string& target, bool* blocked,
                                    const std::string& method = "GET") {
    buffer_ = method + " " + target + " HTTP/1.1\r\nHost: a\r\n\r\n";
    head_ = http::RequestHead{};
    EXPECT_EQ(http::parse_request_head(buffer_, http::ParseLimits{}, head_).status, http::ParseStatus::Complete);
    return find_dynamic_target(v, head_, nullptr, nullptr, 0, blocked);
  }

  std::string root_;
  std::string buffer_;
  http::RequestHead head_;
};

TEST_F(DynamicTargetFallback, APrettyUrlRunsTheFrontControllerWithItsOwnUri) {
  VirtualHost v = vhost("FallbackResource /index.php\n");
  bool blocked = true;
  auto t = find(v, "/2026/11/hello-world/?replytocom=5", &blocked);
  ASSERT_TRUE(t);
  EXPECT_FALSE(blocked);
  EXPECT_EQ(t->choice.kind, HandlerChoice::Kind::ProxyFcgi);
  EXPECT_EQ(t->script.filename, root_ + "/www/index.php");
  EXPECT_EQ(t->script.script_name, "/index.php");
  EXPECT_EQ(t->script.path_info, "");
  // REQUEST_URI and QUERY_STRING come from the head, which stays the client's.
  EXPECT_EQ(head_.path, "/2026/11/hello-world/");
  // POST too: a front controller's API (the body goes to the program).
  EXPECT_TRUE(find(v, "/wp-json/wp/v2/posts", &blocked, "POST"));
}

TEST_F(DynamicTargetFallback, ExistingFilesAndNamesWithAHandlerDontFallBack) {
  VirtualHost v = vhost("FallbackResource /index.php\n");
  bool blocked = true;
  EXPECT_FALSE(find(v, "/style.css", &blocked));
  EXPECT_FALSE(blocked);
  EXPECT_FALSE(find(v, "/assets/", &blocked));  // a directory is not "nothing"
  EXPECT_FALSE(blocked);
  // A missing .php has a handler by its name: mod_dir leaves it, a 404.
  EXPECT_FALSE(find(v, "/gone.php", &blocked));
  EXPECT_TRUE(blocked);
}

TEST_F(DynamicTargetFallback, AStaticFallbackIsLeftToTheStaticHandler) {
  VirtualHost v = vhost("FallbackResource /app.html\n");
  bool blocked = true;
  EXPECT_FALSE(find(v, "/route/x", &blocked));
  EXPECT_FALSE(blocked);
}

TEST_F(DynamicTargetFallback, DisabledOrUnsetMeansNoFallback) {
  bool blocked = true;
  EXPECT_FALSE(find(vhost(""), "/2026/11/x/", &blocked));
  EXPECT_FALSE(blocked);
  VirtualHost v = vhost("FallbackResource /index.php\n<Directory " + root_ + "/www/assets>\n"
                        "FallbackResource disabled\n</Directory>\n");
  EXPECT_FALSE(find(v, "/assets/gone.png", &blocked));
  EXPECT_TRUE(find(v, "/elsewhere", &blocked));
}

TEST_F(DynamicTargetFallback, AScriptDeniedByFilesIs403AndNeverRuns) {
  std::ofstream(root_ + "/www/wp-config.php") << "<?php";
  VirtualHost v = vhost("<Files wp-config.php>\nRequire all denied\n</Files>\n");
  bool blocked = false;
  for (const char* target : {"/wp-config.php", "/wp-config.php/extra"}) {
    auto t = find(v, target, &blocked);
    ASSERT_TRUE(t) << target;
    EXPECT_EQ(t->error_status, 403) << target;
    EXPECT_NE(t->reason.find("client denied by server configuration"), std::string::npos) << t->reason;
  }
  HandlerMemo memo;  // the worker's path: the name's decision is remembered, denial included
  buffer_ = "GET /wp-config.php HTTP/1.1\r\nHost: a\r\n\r\n";
  head_ = http::RequestHead{};
  ASSERT_EQ(http::parse_request_head(buffer_, http::ParseLimits{}, head_).status, http::ParseStatus::Complete);
  for (int i = 0; i < 2; ++i) {
    auto t = find_dynamic_target(v, head_, nullptr, &memo, 0, &blocked);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->error_status, 403);
  }
}

}  // namespace
}  // namespace itkd
