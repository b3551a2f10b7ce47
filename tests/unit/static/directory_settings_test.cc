#include <gtest/gtest.h>

#include "worker/static/static_handler.h"

namespace itkd {
namespace {

AccessRules require_all(bool denied) { return *access_rules_from({{"all", denied ? "denied" : "granted"}}); }
bool denies(const EffectiveAccess& a) { return !a.unrestricted() && !access_granted(a, ClientAddresses{}); }

DirectoryBlock block(const std::string& path, std::optional<unsigned> options) {
  DirectoryBlock b;
  b.path = path;
  b.options = options;
  return b;
}

TEST(DirectorySettings, DefaultsWithoutBlocks) {
  VirtualHost v;
  DirectorySettings s = settings_for_directory(v, "/srv/www");
  EXPECT_EQ(s.options, kDefaultOptions);
  EXPECT_EQ(s.directory_index, std::vector<std::string>{"index.html"});
  EXPECT_TRUE(s.access.unrestricted());
}

TEST(DirectorySettings, LongestPathWinsRegardlessOfOrder) {
  VirtualHost v;
  v.directories.push_back(block("/srv/www/a", kOptIndexes));
  v.directories.push_back(block("/srv/www", 0));
  v.directories.push_back(block("/", kOptFollowSymLinks));
  EXPECT_EQ(settings_for_directory(v, "/srv/www/a/b").options, kOptIndexes);
  EXPECT_EQ(settings_for_directory(v, "/srv/www").options, 0u);
  EXPECT_EQ(settings_for_directory(v, "/srv/other").options, kOptFollowSymLinks);
}

TEST(DirectorySettings, PrefixMustEndOnSegmentBoundary) {
  VirtualHost v;
  v.directories.push_back(block("/srv/a", kOptIndexes));
  EXPECT_EQ(settings_for_directory(v, "/srv/a").options, kOptIndexes);
  EXPECT_EQ(settings_for_directory(v, "/srv/a/x").options, kOptIndexes);
  EXPECT_EQ(settings_for_directory(v, "/srv/ab").options, kDefaultOptions);
}

TEST(DirectorySettings, RelativeOptionsModifyInherited) {
  VirtualHost v;
  v.directories.push_back(block("/srv", kOptFollowSymLinks | kOptIndexes));
  DirectoryBlock rel;
  rel.path = "/srv/www";
  rel.options_remove = kOptIndexes;
  rel.options_add = kOptExecCGI;
  v.directories.push_back(rel);
  EXPECT_EQ(settings_for_directory(v, "/srv/www/x").options, kOptFollowSymLinks | kOptExecCGI);
  EXPECT_EQ(settings_for_directory(v, "/srv/x").options, kOptFollowSymLinks | kOptIndexes);
}

TEST(DirectorySettings, RegexBlocksApplyAfterPrefixBlocks) {
  VirtualHost v;
  DirectoryBlock re = block("^/srv/.*/private", 0);
  re.is_regex = true;
  v.directories.push_back(re);
  v.directories.push_back(block("/srv/www/private", kOptIndexes));
  EXPECT_EQ(settings_for_directory(v, "/srv/www/private").options, 0u);
  EXPECT_EQ(settings_for_directory(v, "/srv/www/public").options, kDefaultOptions);
}

TEST(DirectorySettings, WildcardBlocks) {
  VirtualHost v;
  v.directories.push_back(block("/home/*/public_html", kOptIndexes));
  EXPECT_EQ(settings_for_directory(v, "/home/alice/public_html/sub").options, kOptIndexes);
  EXPECT_EQ(settings_for_directory(v, "/home/alice/private").options, kDefaultOptions);
  EXPECT_EQ(settings_for_directory(v, "/home/a/b/public_html").options, kDefaultOptions);
}

TEST(DirectorySettings, DirectoryIndexAndDenial) {
  VirtualHost v;
  v.directory_index = {"index.html", "index.htm"};
  DirectoryBlock deny = block("/srv/www/private", std::nullopt);
  deny.access = require_all(true);
  v.directories.push_back(deny);
  DirectoryBlock grant = block("/srv/www/private/open", std::nullopt);
  grant.access = require_all(false);
  grant.directory_index = std::vector<std::string>{"start.html"};
  v.directories.push_back(grant);
  EXPECT_TRUE(denies(settings_for_directory(v, "/srv/www/private/x").access));
  DirectorySettings open = settings_for_directory(v, "/srv/www/private/open");
  EXPECT_FALSE(denies(open.access));
  EXPECT_EQ(open.directory_index, std::vector<std::string>{"start.html"});
  EXPECT_EQ(settings_for_directory(v, "/srv/www").directory_index.size(), 2u);
}

TEST(DirectorySettings, PhpSettingsMergeDeepestLastThenMatchBlocks) {
  VirtualHost v;
  v.php_ini = {{"memory_limit", "64M", false}, {"open_basedir", "/srv", true}};
  DirectoryBlock deep = block("/srv/www/app/cache", std::nullopt);
  deep.php_ini = {{"memory_limit", "8M", false}};
  DirectoryBlock app = block("/srv/www/app", std::nullopt);  // after the deeper one in the config
  app.php_ini = {{"memory_limit", "128M", false}, {"open_basedir", "/", false}};
  DirectoryBlock match = block("^/srv/www/app/c", std::nullopt);
  match.is_regex = true;
  match.php_ini = {{"engine", "0", true}};
  v.directories = {deep, app, match};
  auto text = [](const std::vector<PhpIniSetting>& list) {
    std::string out;
    for (const auto& s : list) out += s.name + "=" + s.value + ";";
    return out;
  };
  EXPECT_EQ(text(php_ini_for_directory(v, "/srv/www")), "memory_limit=64M;open_basedir=/srv;");
  // The php_value can't loosen the vhost's php_admin_value.
  EXPECT_EQ(text(php_ini_for_directory(v, "/srv/www/app")), "memory_limit=128M;open_basedir=/srv;");
  EXPECT_EQ(text(php_ini_for_directory(v, "/srv/www/app/cache")), "memory_limit=8M;open_basedir=/srv;engine=0;");
}

TEST(DirectorySettings, DirectoryIndexDisabled) {
  VirtualHost v;
  DirectoryBlock b = block("/srv", std::nullopt);
  b.directory_index = std::vector<std::string>{"disabled"};
  v.directories.push_back(b);
  EXPECT_TRUE(settings_for_directory(v, "/srv/x").directory_index.empty());
}

}  // namespace
}  // namespace itkd
