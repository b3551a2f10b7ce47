// <Directory> merging as Apache 2.4 does it: non-regex blocks that cover the directory,
// fewest path components first (so the deepest wins), ties in config order; then
// <DirectoryMatch> blocks in config order.
#include <fnmatch.h>
#include <regex.h>

#include <algorithm>
#include <memory>
#include <unordered_map>

#include "worker/static/static_handler.h"

namespace itkd {

namespace {

size_t component_count(std::string_view path) {
  size_t n = 0;
  bool in_segment = false;
  for (char c : path) {
    if (c == '/') {
      in_segment = false;
    } else if (!in_segment) {
      in_segment = true;
      ++n;
    }
  }
  return n;
}

bool has_wildcard(std::string_view path) {
  return path.find_first_of("*?[") != std::string_view::npos;
}

// `dir` truncated to its first `count` components ("/a/b/c", 2 -> "/a/b").
std::string_view leading_components(std::string_view dir, size_t count) {
  size_t seen = 0;
  size_t i = 0;
  while (i < dir.size()) {
    while (i < dir.size() && dir[i] == '/') ++i;
    if (i == dir.size()) break;
    if (seen == count) return dir.substr(0, i - 1);
    while (i < dir.size() && dir[i] != '/') ++i;
    ++seen;
  }
  return seen == count ? dir : std::string_view();
}

struct CompiledRegex {
  regex_t re{};
  bool ok = false;
  ~CompiledRegex() {
    if (ok) regfree(&re);
  }
};

}  // namespace

bool directory_block_covers(const DirectoryBlock& block, std::string_view dir) {
  const std::string& p = block.path;
  if (p == "/") return true;
  if (!block.from_htaccess && has_wildcard(p)) {
    // "<Directory /home/*/public_html>": wildcards never cross a '/'.
    std::string_view head = leading_components(dir, component_count(p));
    if (head.empty()) return false;
    return fnmatch(p.c_str(), std::string(head).c_str(), FNM_PATHNAME) == 0;
  }
  if (dir.size() < p.size() || dir.compare(0, p.size(), p) != 0) return false;
  return dir.size() == p.size() || dir[p.size()] == '/';
}

// The worker is single-threaded and its config is fixed, so each pattern is compiled once.
// .htaccess files bring patterns of their own as they are edited: past a bound the cache
// starts over. A pattern that does not compile (the parser should have refused it) never
// matches.
bool regex_matches(const std::string& pattern, const std::string& dir) {
  thread_local std::unordered_map<std::string, std::unique_ptr<CompiledRegex>> cache;
  auto it = cache.find(pattern);
  if (it == cache.end()) {
    if (cache.size() >= 4096) cache.clear();
    auto compiled = std::make_unique<CompiledRegex>();
    compiled->ok = regcomp(&compiled->re, pattern.c_str(), REG_EXTENDED | REG_NOSUB) == 0;
    it = cache.emplace(pattern, std::move(compiled)).first;
  }
  return it->second->ok && regexec(&it->second->re, dir.c_str(), 0, nullptr, 0) == 0;
}

namespace {

void apply(const DirectoryBlock& block, DirectorySettings& s) {
  if (block.options) s.options = *block.options;
  s.options |= block.options_add;
  s.options &= ~block.options_remove;
  if (block.directory_index) {
    s.directory_index = *block.directory_index;
    // "DirectoryIndex disabled" turns index files off.
    if (s.directory_index.size() == 1 && s.directory_index[0] == "disabled") {
      s.directory_index.clear();
    }
  }
  s.access.apply(block.access);
  if (block.cgi_pass_auth) s.cgi_pass_auth = *block.cgi_pass_auth;
  s.file_etag = block.file_etag.apply(s.file_etag);
}

}  // namespace

std::vector<const DirectoryBlock*> directory_blocks_for(const VirtualHost& vhost, const std::string& dir) {
  std::vector<const DirectoryBlock*> all;
  for (const DirectoryBlock& block : vhost.directories) {
    if (!block.is_regex && directory_block_covers(block, dir)) all.push_back(&block);
  }
  std::stable_sort(all.begin(), all.end(), [](const DirectoryBlock* a, const DirectoryBlock* b) {
    return component_count(a->path) < component_count(b->path);
  });
  for (const DirectoryBlock& block : vhost.directories) {
    if (block.is_regex && regex_matches(block.path, dir)) all.push_back(&block);
  }
  return all;
}

DirectorySettings settings_for_directory(const VirtualHost& vhost, const std::string& dir) {
  DirectorySettings s;
  s.file_etag = vhost.file_etag.apply(kDefaultFileETag);
  s.directory_index = vhost.directory_index;
  if (s.directory_index.size() == 1 && s.directory_index[0] == "disabled") {
    s.directory_index.clear();
  }
  for (const DirectoryBlock* block : directory_blocks_for(vhost, dir)) apply(*block, s);
  return s;
}

std::vector<PhpIniSetting> php_ini_for_directory(const VirtualHost& vhost, const std::string& dir) {
  // The vhost's own settings are the defaults its <Directory> blocks override.
  std::vector<PhpIniSetting> out = vhost.php_ini;
  bool any = std::any_of(vhost.directories.begin(), vhost.directories.end(),
                         [](const DirectoryBlock& b) { return !b.php_ini.empty(); });
  if (!any) return out;
  for (const DirectoryBlock* block : directory_blocks_for(vhost, dir)) merge_php_ini(out, block->php_ini);
  return out;
}

std::string fallback_resource_for(const VirtualHost& vhost, const std::string& dir) {
  std::string out = vhost.fallback_resource;
  bool any = std::any_of(vhost.directories.begin(), vhost.directories.end(),
                         [](const DirectoryBlock& b) { return b.fallback_resource.has_value(); });
  if (!any) return out;
  for (const DirectoryBlock* block : directory_blocks_for(vhost, dir))
    if (block->fallback_resource) out = *block->fallback_resource;
  return out;
}

std::optional<std::string> fallback_path(const VirtualHost& vhost, const std::string& missing_fs_path,
                                         std::string_view url_path) {
  size_t slash = missing_fs_path.rfind('/');
  std::string dir = slash == std::string::npos || slash == 0 ? "/" : missing_fs_path.substr(0, slash);
  std::string url = fallback_resource_for(vhost, dir);
  if (url.empty()) return std::nullopt;
  // A relative one is relative to the request's directory, as a subrequest's URI is.
  if (url[0] != '/') {
    size_t last = url_path.rfind('/');
    url = std::string(url_path.substr(0, last == std::string_view::npos ? 0 : last + 1)) + url;
    if (url.empty() || url[0] != '/') url.insert(0, "/");
  }
  std::string decoded;
  std::string path;
  if (!percent_decode_path(url, decoded) || !remove_dot_segments(decoded, path)) return std::nullopt;
  return path;
}

bool files_block_matches(const FilesBlock& block, std::string_view dir, std::string_view base) {
  if (!block.directory.empty() && block.directory != "/") {
    const std::string& d = block.directory;
    if (dir.size() < d.size() || dir.compare(0, d.size(), d) != 0 || (dir.size() > d.size() && dir[d.size()] != '/'))
      return false;
  }
  std::string name(base);
  return block.is_regex ? regex_matches(block.pattern, name) : fnmatch(block.pattern.c_str(), name.c_str(), 0) == 0;
}

}  // namespace itkd
