// Options FollowSymLinks / SymLinksIfOwnerMatch / neither, per containing directory.
#include <sys/stat.h>
#include <unistd.h>

#include "static_fixture.h"

namespace itkd::test {
namespace {

using Symlinks = StaticFixture;
constexpr uid_t kOtherUid = 54321;

TEST_F(Symlinks, FollowSymLinksServesLinkInsideDocroot) {
  write_file("www/a.txt", "target");
  make_symlink("a.txt", "www/l.txt");
  StaticResponse r = get("/l.txt");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(body_of(r), "target");
}

TEST_F(Symlinks, FollowSymLinksAllowsLinkOutsideDocroot) {
  // Apache semantics: FollowSymLinks lets a link point anywhere; kernel permissions decide.
  write_file("outside.txt", "outside");
  make_symlink(abs("outside.txt"), "www/out.txt");
  EXPECT_EQ(body_of(get("/out.txt")), "outside");
}

TEST_F(Symlinks, FollowSymLinksLinkToDirectory) {
  make_dir("realdir");
  write_file("realdir/f.txt", "in dir");
  write_file("realdir/index.html", "dir index");
  make_symlink(abs("realdir"), "www/ldir");
  EXPECT_EQ(body_of(get("/ldir/f.txt")), "in dir");
  EXPECT_EQ(body_of(get("/ldir/")), "dir index");
  EXPECT_EQ(get("/ldir").status, 301);
}

TEST_F(Symlinks, NeitherOptionRefusesLink) {
  set_root_options(0);
  write_file("www/a.txt", "target");
  make_symlink("a.txt", "www/l.txt");
  StaticResponse r = get("/l.txt");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.log_reason,
            "Symbolic link not allowed or link target not accessible: " + docroot_ + "/l.txt");
  EXPECT_FALSE(r.file.valid());
  EXPECT_EQ(head("/l.txt").status, 403);
}

TEST_F(Symlinks, NeitherOptionStillServesPlainFiles) {
  set_root_options(0);
  make_dir("www/d");
  write_file("www/d/a.txt", "plain");
  EXPECT_EQ(body_of(get("/d/a.txt")), "plain");
  EXPECT_EQ(get("/d/missing").status, 404);
}

TEST_F(Symlinks, NeitherOptionRefusesLinkedDirectoryComponent) {
  set_root_options(0);
  make_dir("www/real");
  write_file("www/real/a.txt", "x");
  make_symlink("real", "www/ldir");
  EXPECT_EQ(get("/ldir/a.txt").status, 403);
  EXPECT_EQ(get("/ldir/").status, 403);
}

TEST_F(Symlinks, NeitherOptionNeverReadsOutsideTarget) {
  set_root_options(0);
  write_file("secret.txt", "TOP SECRET");
  make_symlink(abs("secret.txt"), "www/s.txt");
  make_symlink("../secret.txt", "www/s2.txt");
  for (const char* p : {"/s.txt", "/s2.txt"}) {
    StaticResponse r = get(p);
    EXPECT_EQ(r.status, 403) << p;
    EXPECT_EQ(body_of(r).find("TOP SECRET"), std::string::npos) << p;
  }
}

TEST_F(Symlinks, IfOwnerMatchSameOwnerIsServed) {
  set_root_options(kOptSymLinksIfOwnerMatch);
  write_file("www/a.txt", "owned");
  make_symlink("a.txt", "www/l.txt");
  EXPECT_EQ(body_of(get("/l.txt")), "owned");
}

TEST_F(Symlinks, IfOwnerMatchDifferentOwnerIsRefused) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to chown the target";
  set_root_options(kOptSymLinksIfOwnerMatch);
  write_file("www/a.txt", "not yours");
  ASSERT_EQ(chown(abs("www/a.txt").c_str(), kOtherUid, kOtherUid), 0);
  make_symlink("a.txt", "www/l.txt");
  StaticResponse r = get("/l.txt");
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.log_reason.find("Symbolic link not allowed"), std::string::npos);
  EXPECT_NE(r.log_reason.find("SymLinksIfOwnerMatch"), std::string::npos);
  // The file itself, reached without the link, is fine.
  EXPECT_EQ(get("/a.txt").status, 200);
}

TEST_F(Symlinks, IfOwnerMatchLinkOwnedByOtherIsRefused) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to lchown the link";
  set_root_options(kOptSymLinksIfOwnerMatch);
  write_file("www/a.txt", "x");
  make_symlink("a.txt", "www/l.txt");
  ASSERT_EQ(lchown(abs("www/l.txt").c_str(), kOtherUid, kOtherUid), 0);
  EXPECT_EQ(get("/l.txt").status, 403);
}

TEST_F(Symlinks, IfOwnerMatchChainComparesFinalTarget) {
  set_root_options(kOptSymLinksIfOwnerMatch);
  write_file("www/a.txt", "chained");
  make_symlink("a.txt", "www/l2");
  make_symlink("l2", "www/l1");
  EXPECT_EQ(body_of(get("/l1")), "chained");
  if (geteuid() != 0) return;
  ASSERT_EQ(chown(abs("www/a.txt").c_str(), kOtherUid, kOtherUid), 0);
  EXPECT_EQ(get("/l1").status, 403);
}

TEST_F(Symlinks, IfOwnerMatchDirectoryComponent) {
  set_root_options(kOptSymLinksIfOwnerMatch);
  make_dir("real");
  write_file("real/f.txt", "via dir link");
  make_symlink(abs("real"), "www/ldir");
  EXPECT_EQ(body_of(get("/ldir/f.txt")), "via dir link");
  if (geteuid() != 0) return;
  ASSERT_EQ(chown(abs("real").c_str(), kOtherUid, kOtherUid), 0);
  EXPECT_EQ(get("/ldir/f.txt").status, 403);
}

TEST_F(Symlinks, DanglingLink) {
  make_symlink("nowhere", "www/dangling");
  EXPECT_EQ(get("/dangling").status, 404);  // FollowSymLinks: the target does not exist
  set_root_options(0);
  EXPECT_EQ(get("/dangling").status, 403);
  vhost_.directories.back().options = kOptSymLinksIfOwnerMatch;
  EXPECT_EQ(get("/dangling").status, 403);
}

TEST_F(Symlinks, LinkLoopIsRefused) {
  make_symlink("loop2", "www/loop1");
  make_symlink("loop1", "www/loop2");
  EXPECT_EQ(get("/loop1").status, 403);
}

TEST_F(Symlinks, OptionsDecidedPerContainingDirectory) {
  set_root_options(0);
  add_directory("www/sub", kOptFollowSymLinks);
  make_dir("www/sub");
  write_file("www/a.txt", "a");
  make_symlink("../a.txt", "www/sub/l.txt");
  make_symlink("a.txt", "www/l.txt");
  EXPECT_EQ(body_of(get("/sub/l.txt")), "a");
  EXPECT_EQ(get("/l.txt").status, 403);
}

TEST_F(Symlinks, IndexFileLinkRefusedIs403) {
  set_root_options(0);
  make_dir("www/d");
  write_file("www/d/real.html", "x");
  make_symlink("real.html", "www/d/index.html");
  StaticResponse r = get("/d/");
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.log_reason.find("Symbolic link not allowed"), std::string::npos);
}

TEST_F(Symlinks, ListingHidesLinksThatWouldBeRefused) {
  set_root_options(kOptIndexes);
  write_file("www/a.txt", "a");
  make_symlink("a.txt", "www/link.txt");
  StaticResponse r = get("/");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("a.txt"), std::string::npos);
  EXPECT_EQ(r.body.find("link.txt"), std::string::npos);
  vhost_.directories.back().options = kOptIndexes | kOptFollowSymLinks;
  EXPECT_NE(get("/").body.find("link.txt"), std::string::npos);
}

}  // namespace
}  // namespace itkd::test
