// The worker's open-file cache seen through the static handler: a hit serves the same
// open file, and any change to the path (content, mode, replacement, deletion) is seen
// by the very next request.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "static_fixture.h"

namespace itkd::test {
namespace {

class OpenFileCacheTest : public StaticFixture {
 protected:
  void SetUp() override {
    StaticFixture::SetUp();
    files_ = &cache_;
  }
  OpenFileCache cache_;
};

TEST_F(OpenFileCacheTest, SecondRequestSendsFromTheSameOpenFile) {
  write_file("www/a.txt", "first\n");
  StaticResponse r1 = get("/a.txt");
  ASSERT_EQ(r1.status, 200);
  EXPECT_EQ(cache_.size(), 1u);
  StaticResponse r2 = get("/a.txt");
  ASSERT_EQ(r2.status, 200);
  EXPECT_EQ(r1.file.get(), r2.file.get());  // shared, not reopened
  EXPECT_EQ(body_of(r2), "first\n");
  EXPECT_EQ(header(r1, "ETag"), header(r2, "ETag"));
}

TEST_F(OpenFileCacheTest, AnEditIsSeenAtOnce) {
  write_file("www/a.txt", "first\n");
  StaticResponse r1 = get("/a.txt");
  write_file("www/a.txt", "second, longer\n");
  StaticResponse r2 = get("/a.txt");
  ASSERT_EQ(r2.status, 200);
  EXPECT_EQ(body_of(r2), "second, longer\n");
  EXPECT_EQ(header(r2, "Content-Length"), "15");
}

TEST_F(OpenFileCacheTest, AChmodIsSeenAtOnce) {
  write_file("www/a.txt", "first\n");
  StaticResponse r1 = get("/a.txt");
  ASSERT_EQ(chmod(abs("www/a.txt").c_str(), 0600), 0);
  StaticResponse r2 = get("/a.txt");
  // The mode change (ctime) made it a miss: opened again, with the kernel deciding.
  EXPECT_NE(r1.file.get(), r2.file.get());
}

TEST_F(OpenFileCacheTest, AReplacedOrDeletedFileIsNotServedFromTheCache) {
  write_file("www/a.txt", "old\n");
  write_file("www/new.txt", "new\n");
  StaticResponse r1 = get("/a.txt");
  ASSERT_EQ(rename(abs("www/new.txt").c_str(), abs("www/a.txt").c_str()), 0);
  EXPECT_EQ(body_of(get("/a.txt")), "new\n");
  ASSERT_EQ(unlink(abs("www/a.txt").c_str()), 0);
  EXPECT_EQ(get("/a.txt").status, 404);
  EXPECT_EQ(cache_.size(), 0u);
}

TEST_F(OpenFileCacheTest, OnlyThePlainOpenPathIsCached) {
  // Without FollowSymLinks every component is checked each time: nothing is cached.
  set_root_options(0);
  write_file("www/a.txt", "x\n");
  EXPECT_EQ(get("/a.txt").status, 200);
  EXPECT_EQ(get("/a.txt").status, 200);
  EXPECT_EQ(cache_.size(), 0u);
}

TEST_F(OpenFileCacheTest, IdleEntriesAreClosed) {
  write_file("www/a.txt", "x\n");
  now_ms_ = 1000;
  get("/a.txt");
  cache_.expire(1000 + OpenFileCache::kIdleMs - 1);
  EXPECT_EQ(cache_.size(), 1u);
  cache_.expire(1000 + OpenFileCache::kIdleMs);
  EXPECT_EQ(cache_.size(), 0u);
}

TEST_F(OpenFileCacheTest, OneStatPerTurnIsTrustedOnlyWithinThatTurn) {
  write_file("www/a.txt", "first\n");
  cache_.begin_turn();
  StaticResponse r1 = get("/a.txt");
  ASSERT_EQ(cache_.size(), 1u);
  // Later in the same turn (a request that had arrived before the edit): no second stat.
  write_file("www/a.txt", "second, longer\n");
  auto same_turn = cache_.find(abs("www/a.txt"), 0);
  ASSERT_TRUE(same_turn);
  EXPECT_EQ(same_turn->fd.get(), r1.file.get());
  // The next turn checks again and sees the edit.
  cache_.begin_turn();
  EXPECT_FALSE(cache_.find(abs("www/a.txt"), 0));
  EXPECT_EQ(body_of(get("/a.txt")), "second, longer\n");
}

}  // namespace
}  // namespace itkd::test
