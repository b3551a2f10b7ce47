// .htaccess files at request time: which are read, in what order they merge, and that an
// edit, a new file or a broken one is seen by the next request.
#include "worker/htaccess_views.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "config/config_parser.h"
#include "worker/static/static_handler.h"

namespace itkd {
namespace {

class HtaccessViewsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/itkd-ht-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    std::filesystem::create_directories(root_ + "/www/blog/wp-content/uploads");
    std::filesystem::create_directories(root_ + "/www/locked");
    std::ofstream(root_ + "/www/blog/index.php") << "x";
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  void configure(const std::string& directories) {
    ParseOptions o;
    o.resolve_identities = false;
    auto c = parse_config_text("Listen 80\nDocumentRoot " + root_ + "/www\n" + directories, "t.conf", o);
    ASSERT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
    config_ = std::move(c).value();
  }
  void write(const std::string& rel, const std::string& text) {
    std::ofstream(root_ + "/www/" + rel, std::ios::trunc) << text;
    // A new mtime even within the clock's granularity: the size alone may not change.
    struct timespec times[2] = {{0, UTIME_NOW}, {++clock_, 0}};
    ::utimensat(AT_FDCWD, (root_ + "/www/" + rel).c_str(), times, 0);
  }
  DirectoryView view(const std::string& rel) {
    return views_.view_for(0, config_.vhosts[0], root_ + "/www/" + rel, "/etc/itkd");
  }
  // DirectoryIndex as the view merges it for `dir`.
  std::string index_in(const DirectoryView& v, const std::string& dir) {
    const VirtualHost& vh = v.vhost ? *v.vhost : config_.vhosts[0];
    auto s = settings_for_directory(vh, root_ + "/www/" + dir);
    return s.directory_index.empty() ? "" : s.directory_index[0];
  }

  std::string root_;
  ServerConfig config_;
  HtaccessViews views_;
  time_t clock_ = 1'000'000;
};

TEST_F(HtaccessViewsTest, NothingIsReadWithoutAllowOverride) {
  configure("");
  write(".htaccess", "this is not a config file\n");
  DirectoryView v = view("blog/index.php");
  EXPECT_EQ(v.error_status, 0);
  EXPECT_FALSE(v.vhost);
}

TEST_F(HtaccessViewsTest, FilesOnThePathMergeShallowToDeepOverTheirDirectory) {
  configure("<Directory " + root_ + "/www>\nAllowOverride All\nDirectoryIndex config.html\n</Directory>\n");
  write(".htaccess", "DirectoryIndex top.html\n");
  write("blog/.htaccess", "DirectoryIndex blog.html\n");
  DirectoryView v = view("blog/index.php");
  ASSERT_EQ(v.error_status, 0) << v.error_reason;
  ASSERT_TRUE(v.vhost);
  EXPECT_EQ(index_in(v, ""), "top.html");  // the file beats its directory's <Directory>
  EXPECT_EQ(index_in(v, "blog"), "blog.html");
  EXPECT_EQ(index_in(v, "blog/wp-content"), "blog.html");
  // A view for the docroot alone holds only the top file.
  DirectoryView top = view("index.html");
  ASSERT_TRUE(top.vhost);
  EXPECT_EQ(index_in(top, "blog"), "top.html");
}

TEST_F(HtaccessViewsTest, AnEditANewFileAndARemovalApplyAtOnce) {
  configure("<Directory " + root_ + "/www>\nAllowOverride Indexes\n</Directory>\n");
  EXPECT_FALSE(view("blog/index.php").vhost);
  write("blog/.htaccess", "DirectoryIndex one.html\n");
  DirectoryView first = view("blog/index.php");
  EXPECT_EQ(index_in(first, "blog"), "one.html");
  EXPECT_EQ(view("blog/index.php").vhost, first.vhost);  // unchanged: the same view
  write("blog/.htaccess", "DirectoryIndex two.html\n");
  EXPECT_EQ(index_in(view("blog/index.php"), "blog"), "two.html");
  std::filesystem::remove(root_ + "/www/blog/.htaccess");
  EXPECT_FALSE(view("blog/index.php").vhost);
}

TEST_F(HtaccessViewsTest, ABrokenFileIs500WithFileAndLineAndWarningsComeOnce) {
  configure("<Directory " + root_ + "/www>\nAllowOverride Indexes\n</Directory>\n");
  write(".htaccess", "IndexOptions FancyIndexing\nRewriteEngine On\n");
  DirectoryView v = view("blog/index.php");
  EXPECT_EQ(v.error_status, 500);
  EXPECT_NE(v.error_reason.find(root_ + "/www/.htaccess:2: RewriteEngine not allowed here"), std::string::npos)
      << v.error_reason;
  write(".htaccess", "IndexOptions FancyIndexing\n");
  DirectoryView fixed = view("blog/index.php");
  EXPECT_EQ(fixed.error_status, 0);
  ASSERT_EQ(fixed.warnings.size(), 1u);  // IndexOptions has no effect in itkd
  EXPECT_TRUE(view("blog/index.php").warnings.empty());
}

TEST_F(HtaccessViewsTest, AllowOverrideNoneBelowStopsReading) {
  configure("<Directory " + root_ + "/www>\nAllowOverride All\n</Directory>\n<Directory " + root_ +
            "/www/blog/wp-content>\nAllowOverride None\n</Directory>\n");
  write("blog/wp-content/.htaccess", "garbage\n");
  write("blog/.htaccess", "DirectoryIndex blog.html\n");
  DirectoryView v = view("blog/wp-content/uploads/x.png");
  ASSERT_EQ(v.error_status, 0) << v.error_reason;
  EXPECT_EQ(index_in(v, "blog/wp-content/uploads"), "blog.html");
}

TEST_F(HtaccessViewsTest, WalkEndsAtAFileAndMissingDirectoriesCostNothing) {
  configure("<Directory " + root_ + "/www>\nAllowOverride All\n</Directory>\n");
  write("blog/.htaccess", "DirectoryIndex blog.html\n");
  // PATH_INFO after a script, and a pretty URL that names no directory.
  EXPECT_EQ(index_in(view("blog/index.php/2024/05/post"), "blog"), "blog.html");
  EXPECT_EQ(index_in(view("blog/2024/05/post"), "blog"), "blog.html");
}

TEST_F(HtaccessViewsTest, AccessFileNameFirstThatExists) {
  configure("AccessFileName .config .htaccess\n<Directory " + root_ + "/www>\nAllowOverride All\n</Directory>\n");
  write("blog/.htaccess", "DirectoryIndex from-htaccess.html\n");
  EXPECT_EQ(index_in(view("blog/index.php"), "blog"), "from-htaccess.html");
  write("blog/.config", "DirectoryIndex from-config.html\n");
  EXPECT_EQ(index_in(view("blog/index.php"), "blog"), "from-config.html");
}

TEST_F(HtaccessViewsTest, ADirectoryNamedLikeAPatternIsLiteral) {
  std::filesystem::create_directories(root_ + "/www/a*");
  std::filesystem::create_directories(root_ + "/www/ab");
  configure("<Directory " + root_ + "/www>\nAllowOverride All\n</Directory>\n");
  write("a*/.htaccess", "DirectoryIndex star.html\n");
  DirectoryView v = view("a*/x");
  EXPECT_EQ(index_in(v, "a*"), "star.html");
  EXPECT_EQ(index_in(v, "ab"), "index.html");  // "a*" is a name here, not a wildcard
}

TEST_F(HtaccessViewsTest, NotARegularFileIs403) {
  configure("<Directory " + root_ + "/www>\nAllowOverride All\n</Directory>\n");
  std::filesystem::create_directories(root_ + "/www/blog/.htaccess");
  DirectoryView v = view("blog/index.php");
  EXPECT_EQ(v.error_status, 403);
  EXPECT_NE(v.error_reason.find("not a regular file"), std::string::npos);
}

TEST_F(HtaccessViewsTest, AHugeFileIsRefusedNotRead) {
  configure("<Directory " + root_ + "/www>\nAllowOverride All\n</Directory>\n");
  write("blog/.htaccess", std::string(HtaccessViews::kMaxFileBytes + 1, '#'));
  DirectoryView v = view("blog/index.php");
  EXPECT_EQ(v.error_status, 500);
  EXPECT_NE(v.error_reason.find("larger than"), std::string::npos);
}

TEST_F(HtaccessViewsTest, ACacheStartingOverMidPathKeepsWhatItRead) {
  configure("<Directory " + root_ + "/www>\nAllowOverride All\n</Directory>\n");
  write("blog/.htaccess", "DirectoryIndex blog.html\n");
  ASSERT_TRUE(view("blog/index.php").vhost);
  // Fill the cache to its bound with other directories' files.
  for (size_t i = 1; i < HtaccessViews::kMaxFiles; ++i) {
    std::filesystem::create_directories(root_ + "/www/d" + std::to_string(i));
    write("d" + std::to_string(i) + "/.htaccess", "DirectoryIndex x.html\n");
    ASSERT_EQ(view("d" + std::to_string(i) + "/x").error_status, 0);
  }
  // blog's file is a cache hit, the new one below it a parse that starts the cache over.
  write("blog/wp-content/.htaccess", "DirectoryIndex deep.html\n");
  DirectoryView v = view("blog/wp-content/uploads/a.png");
  ASSERT_TRUE(v.vhost);
  EXPECT_EQ(index_in(v, "blog"), "blog.html");
  EXPECT_EQ(index_in(v, "blog/wp-content/uploads"), "deep.html");
}

TEST_F(HtaccessViewsTest, AFileMayNameOnlyItsOwnersFastCgiBackends) {
  configure("<FilesMatch \\.php$>\nSetHandler \"proxy:unix:/run/php/alice.sock|fcgi://localhost\"\n</FilesMatch>\n"
            "<Directory " + root_ + "/www>\nAllowOverride All\n</Directory>\n");
  views_.allow_backends_of({&config_.vhosts[0]});
  write("blog/.htaccess", "<FilesMatch \\.php$>\nSetHandler \"proxy:unix:/run/php/alice.sock|fcgi://localhost\"\n"
                          "</FilesMatch>\n");
  EXPECT_EQ(view("blog/index.php").error_status, 0);
  // Another tenant's pool, by socket or by TCP port (which no file permission guards).
  for (const char* other : {"SetHandler \"proxy:unix:/run/php/bob.sock|fcgi://localhost\"\n",
                            "AddHandler \"proxy:fcgi://127.0.0.1:9001\" .php\n"}) {
    write("blog/.htaccess", other);
    DirectoryView v = view("blog/index.php");
    EXPECT_EQ(v.error_status, 500) << other;
    EXPECT_NE(v.error_reason.find("configuration gives to no site of this owner"), std::string::npos) << v.error_reason;
  }
}

TEST_F(HtaccessViewsTest, UnreadableFileIs403) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads every file; tests/e2e/test_htaccess.py checks this as an owner";
  configure("<Directory " + root_ + "/www>\nAllowOverride All\n</Directory>\n");
  write("blog/.htaccess", "DirectoryIndex x.html\n");
  ::chmod((root_ + "/www/blog/.htaccess").c_str(), 0);
  EXPECT_EQ(view("blog/index.php").error_status, 403);
}

TEST_F(HtaccessViewsTest, HandlersFromAFileMakeTheViewDynamic) {
  configure("<Directory " + root_ + "/www>\nAllowOverride FileInfo\n</Directory>\n");
  write("blog/.htaccess", "Header set X-A b\n");
  DirectoryView plain = view("blog/index.php");
  ASSERT_TRUE(plain.vhost);
  EXPECT_FALSE(plain.has_dynamic);
  EXPECT_TRUE(plain.vhost->has_header_rules);
  write("blog/.htaccess", "AddHandler cgi-script .cgi\n");
  EXPECT_TRUE(view("blog/index.php").has_dynamic);
}

}  // namespace
}  // namespace itkd
