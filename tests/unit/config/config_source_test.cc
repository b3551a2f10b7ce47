#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "config/config_parser.h"
#include "config/config_source.h"

namespace itkd {
namespace {

ParseOptions no_ids() {
  ParseOptions o;
  o.resolve_identities = false;
  return o;
}

class ConfigFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/itkd-config-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& rel, const std::string& text) {
    std::string path = dir_ + "/" + rel;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path) << text;
    return path;
  }
  std::string head() { return "ServerRoot " + dir_ + "\nListen 80\nDocumentRoot /srv\n"; }
  Result<ServerConfig> parse_disk(DiskSource& src, const std::string& main = "main.conf") {
    return parse_config(src, dir_ + "/" + main, no_ids());
  }
  std::string dir_;
};

TEST_F(ConfigFiles, IncludeGlobDirectoryAndOptional) {
  write("main.conf", head() +
                         "Include sites/*.conf\n"
                         "Include conf.d/\n"
                         "IncludeOptional nothing/*.conf\n"
                         "IncludeOptional /nonexistent/file.conf\n"
                         "Include " + dir_ + "/extra.conf\n");
  write("sites/b.conf", "<VirtualHost *:80>\nServerName b\n</VirtualHost>\n");
  write("sites/a.conf", "<VirtualHost *:80>\nServerName a\n</VirtualHost>\n");
  write("sites/ignored.txt", "Bogus\n");
  write("conf.d/1.conf", "Timeout 7\n");
  write("conf.d/sub/2.conf", "KeepAlive Off\n");
  write("extra.conf", "ServerName main\n");
  DiskSource src;
  auto c = parse_disk(src);
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_EQ(c->vhosts.size(), 3u);
  EXPECT_EQ(c->vhosts[1].server_name, "a");  // glob expansion is sorted
  EXPECT_EQ(c->vhosts[2].server_name, "b");
  EXPECT_EQ(c->vhosts[1].where.file, dir_ + "/sites/a.conf");
  EXPECT_EQ(c->vhosts[0].limits.timeout_s, 7u);
  EXPECT_FALSE(c->vhosts[0].limits.keep_alive);
  EXPECT_EQ(c->vhosts[0].server_name, "main");
  const ConfigSnapshot& snap = src.recorded();
  EXPECT_EQ(snap.main_file, dir_ + "/main.conf");
  EXPECT_EQ(snap.files.count(dir_ + "/sites/a.conf"), 1u);
  EXPECT_EQ(snap.files.count(dir_ + "/conf.d/sub/2.conf"), 1u);
  EXPECT_EQ(snap.globs.count(dir_ + "/sites/*.conf"), 1u);
  EXPECT_EQ(snap.globs.count(dir_ + "/nothing/*.conf"), 1u);
}

TEST_F(ConfigFiles, IncludeInsideVhostAppliesToIt) {
  write("main.conf", head() + "<VirtualHost *:80>\nInclude vh.inc\n</VirtualHost>\n");
  write("vh.inc", "ServerName included\nDocumentRoot /srv/inc\n");
  DiskSource src;
  auto c = parse_disk(src);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->vhosts[1].server_name, "included");
  EXPECT_EQ(c->vhosts[1].document_root, "/srv/inc");
}

TEST_F(ConfigFiles, MissingIncludeIsAnError) {
  write("main.conf", head() + "Include missing.conf\n");
  DiskSource src;
  auto c = parse_disk(src);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message.rfind(dir_ + "/main.conf:4: Include: cannot open " + dir_ + "/missing.conf", 0), 0u)
      << c.error().message;
}

TEST_F(ConfigFiles, IncludeWildcardMatchingNothingIsAnError) {
  write("main.conf", head() + "Include none/*.conf\n");
  DiskSource src;
  auto c = parse_disk(src);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message, dir_ + "/main.conf:4: Include " + dir_ +
                                   "/none/*.conf matches no file (use IncludeOptional if that is fine)");
}

TEST_F(ConfigFiles, ErrorsNameTheIncludedFile) {
  write("main.conf", head() + "Include bad.conf\n");
  write("bad.conf", "\n\nNoSuchThing\n");
  DiskSource src;
  auto c = parse_disk(src);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message.rfind(dir_ + "/bad.conf:3: unknown directive NoSuchThing", 0), 0u) << c.error().message;
}

TEST_F(ConfigFiles, SectionMustCloseInItsFile) {
  write("main.conf", head() + "Include open.conf\n</VirtualHost>\n");
  write("open.conf", "<VirtualHost *:80>\n");
  DiskSource src;
  auto c = parse_disk(src);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find(dir_ + "/open.conf:1: <VirtualHost> is not closed"), std::string::npos);
  EXPECT_NE(c.error().message.find(dir_ + "/main.conf:5: </VirtualHost> without matching"), std::string::npos);
}

TEST_F(ConfigFiles, IncludeRecursionIsBounded) {
  write("main.conf", head() + "Include loop.conf\n");
  write("loop.conf", "Include loop.conf\n");
  DiskSource src;
  auto c = parse_disk(src);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("Include nested more than 64 deep"), std::string::npos) << c.error().message;
}

TEST_F(ConfigFiles, RelativeMainFileIsRelativeToCwd) {
  write("main.conf", head());
  char old[4096];
  ASSERT_NE(getcwd(old, sizeof old), nullptr);
  ASSERT_EQ(chdir(dir_.c_str()), 0);
  DiskSource src;
  auto c = parse_config(src, "main.conf", no_ids());
  ASSERT_EQ(chdir(old), 0);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(src.recorded().main_file, dir_ + "/main.conf");
}

TEST_F(ConfigFiles, SnapshotRoundTripGivesSameConfig) {
  write("main.conf", head() + "Include sites/\nIncludeOptional opt/*.conf\nDefine X 1\n");
  write("sites/a.conf", "<VirtualHost *:80>\nServerName a\nAssignUserID #5000 #5000\n</VirtualHost>\n");
  write("sites/b/c.conf", "<VirtualHost *:80>\nServerName c\nServerAlias *.c\n</VirtualHost>\n");
  ParseOptions o = no_ids();
  o.defines = {"PROD"};
  DiskSource disk;
  auto first = parse_config(disk, dir_ + "/main.conf", o);
  ASSERT_TRUE(first.ok()) << first.error().message;
  std::string bytes = disk.recorded().serialize();
  EXPECT_EQ(disk.recorded().defines, std::vector<std::string>{"PROD"});

  // The files change on disk; the snapshot must still give the first result.
  std::filesystem::remove_all(dir_ + "/sites");
  auto snap = ConfigSnapshot::deserialize(bytes);
  ASSERT_TRUE(snap.ok()) << snap.error().message;
  EXPECT_EQ(snap->main_file, disk.recorded().main_file);
  EXPECT_EQ(snap->files, disk.recorded().files);
  EXPECT_EQ(snap->globs, disk.recorded().globs);
  EXPECT_EQ(snap->directories, disk.recorded().directories);
  SnapshotSource replay(*snap);
  ParseOptions o2 = no_ids();
  o2.defines = snap->defines;
  auto second = parse_config(replay, snap->main_file, o2);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(describe_config(*first), describe_config(*second));
  ASSERT_EQ(second->vhosts.size(), 3u);
  EXPECT_EQ(second->vhosts[2].server_aliases, std::vector<std::string>{"*.c"});
  EXPECT_EQ(second->pools.size(), first->pools.size());
}

TEST_F(ConfigFiles, SnapshotRecordsIdentitiesForChrootedChildren) {
  // Named users resolve on the master's side; the child replays the answers.
  write("main.conf", head() + "User www-data\nGroup www-data\nFrontUser nobody\nFrontGroup nogroup\n"
                               "<VirtualHost *:80>\nAssignUserID #61001 #61001\n</VirtualHost>\n");
  ParseOptions o;
  o.resolve_identities = true;
  DiskSource disk;
  auto first = parse_config(disk, dir_ + "/main.conf", o);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(disk.recorded().identities.size(), 3u);
  auto snap = ConfigSnapshot::deserialize(disk.recorded().serialize());
  ASSERT_TRUE(snap.ok());
  SnapshotSource replay(*snap);
  auto second = parse_config(replay, snap->main_file, o);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(describe_config(*first), describe_config(*second));
  EXPECT_EQ(second->pools[0].uid, 33u);
  EXPECT_EQ(second->pools[0].groups, first->pools[0].groups);

  // A snapshot without the answers can't silently invent ids.
  snap->identities.clear();
  SnapshotSource bare(*snap);
  auto third = parse_config(bare, snap->main_file, o);
  ASSERT_FALSE(third.ok());
  EXPECT_NE(third.error().message.find("not in the configuration snapshot"), std::string::npos);
}

TEST(ConfigSnapshot, EmptyRoundTrip) {
  ConfigSnapshot s;
  auto d = ConfigSnapshot::deserialize(s.serialize());
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->files.empty());
}

TEST(ConfigSnapshot, RejectsEveryTruncation) {
  ConfigSnapshot s;
  s.main_file = "/etc/itkd/itkd.conf";
  s.defines = {"A", "B"};
  s.files["/etc/itkd/itkd.conf"] = "Listen 80\n";
  s.files["/etc/itkd/x"] = std::string("\0binary\xff", 8);
  s.globs["/etc/itkd/*.conf"] = {"/etc/itkd/itkd.conf"};
  s.directories = {"/etc/itkd/sites"};
  s.identities[{"alice", "alice"}].identity = Identity{61001, 61001, {61001, 100}, "alice", "/home/alice"};
  s.identities[{"bob", "bob"}].error = "unknown user 'bob'";
  std::string bytes = s.serialize();
  auto full = ConfigSnapshot::deserialize(bytes);
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->files, s.files);
  ASSERT_EQ(full->identities.size(), 2u);
  const auto& alice = full->identities.at({"alice", "alice"});
  EXPECT_EQ(alice.identity.uid, 61001u);
  EXPECT_EQ(alice.identity.groups, (std::vector<gid_t>{61001, 100}));
  EXPECT_EQ(alice.identity.user_name, "alice");
  EXPECT_EQ(alice.identity.home, "/home/alice");
  SnapshotSource src(*full);
  EXPECT_EQ(src.resolve("alice", "alice")->gid, 61001u);
  EXPECT_EQ(src.resolve("bob", "bob").error().message, "unknown user 'bob'");
  EXPECT_FALSE(src.resolve("carol", "carol").ok());
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(ConfigSnapshot::deserialize(bytes.substr(0, n)).ok()) << n;
  }
  EXPECT_FALSE(ConfigSnapshot::deserialize(bytes + "x").ok());
}

TEST(ConfigSnapshot, RejectsGarbage) {
  EXPECT_FALSE(ConfigSnapshot::deserialize("").ok());
  EXPECT_FALSE(ConfigSnapshot::deserialize("hello world").ok());
  std::string huge_count = std::string("ITKDCFG2") + std::string("\xff\xff\xff\xff", 4);
  EXPECT_FALSE(ConfigSnapshot::deserialize(huge_count).ok());
  std::string bad_list = std::string("ITKDCFG2") + std::string("\0\0\0\0", 4) + std::string("\xff\xff\xff\x7f", 4);
  EXPECT_FALSE(ConfigSnapshot::deserialize(bad_list).ok());
}

TEST(ConfigSnapshot, SnapshotSourceRefusesUnknownPaths) {
  ConfigSnapshot s;
  SnapshotSource src(s);
  EXPECT_FALSE(src.read_file("/etc/passwd").ok());
  EXPECT_FALSE(src.expand("/etc/*").ok());
  EXPECT_FALSE(src.is_directory("/etc"));
}

}  // namespace
}  // namespace itkd
