// OwnerPrivateTmp's two halves: the master's check of OwnerTmpDirectory, and a worker's
// own /tmp (in a forked child: the mount namespace stays there).
#include "sandbox/private_tmp.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "child_process.h"

namespace itkd {
namespace {

namespace fs = std::filesystem;

class PrivateTmpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (mounts)";
    char tmpl[] = "/var/tmp/itkd-private-tmp-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override {
    if (!root_.empty()) fs::remove_all(root_);
  }
  fs::path root_;
};

TEST_F(PrivateTmpTest, BaseIsCreatedAndMustBeRoots) {
  const fs::path base = root_ / "a" / "b" / "tmp";
  ASSERT_TRUE(prepare_private_tmp_base(base.string()).ok());
  struct stat st {};
  ASSERT_EQ(::stat(base.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0711u);
  ::chmod(base.c_str(), 0777);
  auto r = prepare_private_tmp_base(base.string());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("writable by nobody else"), std::string::npos);
  ::chmod(base.c_str(), 0711);
  ::chown(base.c_str(), 61001, 61001);
  EXPECT_FALSE(prepare_private_tmp_base(base.string()).ok());
}

TEST_F(PrivateTmpTest, OwnTmpInItsOwnNamespace) {
  const fs::path base = root_ / "tmp";
  ASSERT_TRUE(prepare_private_tmp_base(base.string()).ok());
  const std::string marker = "itkd-private-tmp-test-" + std::to_string(::getpid());
  auto out = test::run_in_child([&] {
    auto r = enter_private_tmp(base.string(), 61001, 61001);
    if (!r) return "enter failed: " + r.error().message;
    std::ofstream("/tmp/" + marker) << "inside";
    return std::string(fs::exists("/tmp/" + marker) ? "written" : "missing");
  });
  EXPECT_EQ(out.output, "written");
  EXPECT_FALSE(fs::exists("/tmp/" + marker));  // not in the host's /tmp
  EXPECT_TRUE(fs::exists(base / "61001" / marker));
  struct stat st {};
  ASSERT_EQ(::stat((base / "61001").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 61001u);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
}

TEST_F(PrivateTmpTest, RefusesADirectoryNotTheOwners) {
  const fs::path base = root_ / "tmp";
  ASSERT_TRUE(prepare_private_tmp_base(base.string()).ok());
  fs::create_directory(base / "61001");  // root's, not 61001's
  auto out = test::run_in_child([&] {
    auto r = enter_private_tmp(base.string(), 61001, 61001);
    return r ? std::string("entered") : r.error().message;
  });
  EXPECT_NE(out.output.find("is not owned by uid 61001"), std::string::npos) << out.output;
}

}  // namespace
}  // namespace itkd
