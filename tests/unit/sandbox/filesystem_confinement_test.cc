// Landlock confinement, in forked children (it can't be undone): what is granted opens,
// what isn't fails with EACCES whatever its mode, read-only stays read-only.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "child_process.h"
#include "sandbox/filesystem_confinement.h"

namespace itkd {
namespace {

namespace fs = std::filesystem;

class FilesystemConfinement : public ::testing::Test {
 protected:
  void SetUp() override {
    if (landlock_abi() == 0) GTEST_SKIP() << "this kernel has no Landlock";
    char tmpl[] = "/var/tmp/itkd-landlock-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    for (const char* d : {"rw", "ro", "other"}) {
      fs::create_directory(root_ / d);
      std::ofstream(root_ / d / "file.txt") << "contents\n";
      fs::permissions(root_ / d, fs::perms::all);  // 0777: only Landlock can say no
    }
    std::ofstream(root_ / "single.txt") << "one file\n";
  }
  void TearDown() override {
    if (!root_.empty()) fs::remove_all(root_);
  }

  // open() in the confined child: "ok" or the errno's name.
  static std::string try_open(const fs::path& p, int flags) {
    int fd = ::open(p.c_str(), flags | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::close(fd);
      return "ok";
    }
    return errno == EACCES ? "EACCES" : std::string("errno ") + std::to_string(errno);
  }

  // `programs`: also grant what running /bin/cat takes.
  std::string confined(const std::function<std::string()>& body, bool programs = false) {
    const fs::path root = root_;
    auto outcome = test::run_in_child([&] {
      if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return std::string("prctl failed");
      std::vector<PathGrant> grants = {{(root / "rw").string(), PathAccess::ReadWrite},
                                       {(root / "ro").string(), PathAccess::ReadOnly},
                                       {(root / "single.txt").string(), PathAccess::ReadOnly},
                                       {(root / "absent").string(), PathAccess::ReadWrite}};
      size_t expected = 3;
      if (programs) {
        for (const char* p : {"/usr", "/bin", "/lib", "/lib64", "/etc", "/dev/null"})
          if (fs::exists(p)) grants.push_back({p, PathAccess::ReadWrite}), ++expected;
      }
      auto r = confine_filesystem(grants);
      if (!r) return "confine failed: " + r.error().message;
      if (r->granted != expected || r->missing.size() != 1 || r->missing[0] != (root / "absent").string())
        return std::string("unexpected report");
      return body();
    });
    EXPECT_TRUE(WIFEXITED(outcome.status));
    return outcome.output;
  }

  fs::path root_;
};

TEST_F(FilesystemConfinement, GrantedTreesOpenOthersDoNot) {
  const fs::path r = root_;
  EXPECT_EQ(confined([&] { return try_open(r / "rw" / "file.txt", O_RDONLY); }), "ok");
  EXPECT_EQ(confined([&] { return try_open(r / "ro" / "file.txt", O_RDONLY); }), "ok");
  EXPECT_EQ(confined([&] { return try_open(r / "single.txt", O_RDONLY); }), "ok");
  EXPECT_EQ(confined([&] { return try_open(r / "other" / "file.txt", O_RDONLY); }), "EACCES");
  EXPECT_EQ(confined([&] { return try_open(r / "other", O_RDONLY | O_DIRECTORY); }), "EACCES");
  EXPECT_EQ(confined([&] { return try_open("/etc/hostname", O_RDONLY); }), "EACCES");
}

TEST_F(FilesystemConfinement, ReadOnlyStaysReadOnly) {
  const fs::path r = root_;
  EXPECT_EQ(confined([&] { return try_open(r / "rw" / "new.txt", O_WRONLY | O_CREAT); }), "ok");
  EXPECT_EQ(confined([&] { return try_open(r / "ro" / "file.txt", O_WRONLY); }), "EACCES");
  EXPECT_EQ(confined([&] { return try_open(r / "ro" / "new.txt", O_WRONLY | O_CREAT); }), "EACCES");
  EXPECT_EQ(confined([&] { return try_open(r / "other" / "new.txt", O_WRONLY | O_CREAT); }), "EACCES");
  EXPECT_TRUE(fs::exists(r / "rw" / "new.txt"));
  EXPECT_FALSE(fs::exists(r / "ro" / "new.txt"));
  EXPECT_FALSE(fs::exists(r / "other" / "new.txt"));
}

TEST_F(FilesystemConfinement, SymlinkOutOfTheGrantDoesNotHelp) {
  const fs::path r = root_;
  fs::create_symlink(r / "other" / "file.txt", r / "rw" / "link.txt");
  EXPECT_EQ(confined([&] { return try_open(r / "rw" / "link.txt", O_RDONLY); }), "EACCES");
}

TEST_F(FilesystemConfinement, ProgramsStartedAfterwardInheritIt) {
  const fs::path r = root_;
  auto cat = [&](const fs::path& file) {
    return confined([&] {
      std::string cmd = "/bin/cat " + file.string() + " >/dev/null 2>&1";
      return std::to_string(WEXITSTATUS(std::system(cmd.c_str())));
    }, true);
  };
  EXPECT_EQ(cat(r / "rw" / "file.txt"), "0");
  EXPECT_EQ(cat(r / "other" / "file.txt"), "1");
}

TEST_F(FilesystemConfinement, APathLandlockRefusesIsLeftOutNotFatal) {
  // A pipe (pipefs, a kernel-internal filesystem) can't carry a rule.
  auto outcome = test::run_in_child([&] {
    int p[2];
    if (::pipe(p) != 0 || ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return std::string("setup failed");
    const std::string pipe_path = "/proc/self/fd/" + std::to_string(p[0]);
    PathGrant grants[] = {{pipe_path, PathAccess::ReadOnly}, {(root_ / "rw").string(), PathAccess::ReadWrite}};
    auto r = confine_filesystem(grants);
    if (!r) return "confine failed: " + r.error().message;
    return std::to_string(r->granted) + " " + (r->missing.empty() ? std::string("-") : r->missing[0]);
  });
  EXPECT_EQ(outcome.output.substr(0, 2), "1 ") << outcome.output;
  EXPECT_NE(outcome.output.find("landlock_add_rule"), std::string::npos) << outcome.output;
}

}  // namespace
}  // namespace itkd
