#include "worker/htaccess_views.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/read_fd.h"
#include "common/unique_fd.h"
#include "config/config_parser.h"
#include "worker/dynamic_target.h"
#include "worker/static/static_handler.h"

namespace itkd {

namespace {

size_t depth(std::string_view path) {
  return path == "/" ? 0 : static_cast<size_t>(std::count(path.begin(), path.end(), '/'));
}

int64_t nanoseconds(const struct timespec& t) { return int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec; }

std::string fingerprint(const HtaccessPermissions& p) {
  std::string out = std::to_string(p.rules.classes) + "," + std::to_string(p.rules.options) + "," +
                    (p.rules.nonfatal_override ? "o" : "") + (p.rules.nonfatal_unknown ? "u" : "");
  for (const std::string& n : p.list) out += "," + n;
  return out;
}

}  // namespace

void HtaccessViews::allow_backends_of(const std::vector<const VirtualHost*>& vhosts) {
  auto allow = [this](const std::optional<HandlerSpec>& h) {
    if (h && h->kind == HandlerSpec::Kind::ProxyFcgi) allowed_backends_.insert(h->backend.describe());
  };
  auto allow_all = [&](const std::map<std::string, HandlerSpec>& handlers) {
    for (const auto& [ext, h] : handlers) allow(h);
  };
  for (const VirtualHost* v : vhosts) {
    allow(v->set_handler);
    allow_all(v->add_handlers);
    for (const DirectoryBlock& d : v->directories) {
      allow(d.set_handler);
      allow_all(d.add_handlers);
    }
    for (const FilesBlock& f : v->files_blocks) allow(f.set_handler);
    for (const ProxyPassMatchRule& r : v->proxy_pass_matches) allowed_backends_.insert(r.backend.describe());
  }
}

std::string HtaccessViews::check_backends(const HtaccessBlocks& blocks) const {
  auto check = [this](const std::optional<HandlerSpec>& h) -> std::string {
    if (!h || h->kind != HandlerSpec::Kind::ProxyFcgi || allowed_backends_.count(h->backend.describe())) return {};
    return "names the FastCGI backend " + h->backend.describe() +
           ", which the configuration gives to no site of this owner (a .htaccess file may only choose among "
           "its owner's backends)";
  };
  std::string why = check(blocks.directory.set_handler);
  for (const auto& [ext, h] : blocks.directory.add_handlers)
    if (why.empty()) why = check(h);
  for (const FilesBlock& f : blocks.files_blocks)
    if (why.empty()) why = check(f.set_handler);
  return why;
}

const std::vector<const DirectoryBlock*>& HtaccessViews::override_blocks(size_t vhost_index, const VirtualHost& vhost) {
  auto it = override_blocks_.find(vhost_index);
  if (it != override_blocks_.end()) return it->second;
  std::vector<const DirectoryBlock*> blocks;
  for (const DirectoryBlock& d : vhost.directories)
    if (!d.is_regex && (d.allow_override || d.allow_override_list)) blocks.push_back(&d);
  std::stable_sort(blocks.begin(), blocks.end(),
                   [](const DirectoryBlock* a, const DirectoryBlock* b) { return depth(a->path) < depth(b->path); });
  return override_blocks_.emplace(vhost_index, std::move(blocks)).first->second;
}

HtaccessPermissions HtaccessViews::permissions_at(const std::vector<const DirectoryBlock*>& blocks,
                                                  std::string_view dir) const {
  HtaccessPermissions p;  // Apache 2.4's default: AllowOverride None
  for (const DirectoryBlock* b : blocks) {
    if (!directory_block_covers(*b, dir)) continue;
    if (b->allow_override) p.rules = *b->allow_override;
    if (b->allow_override_list) p.list = *b->allow_override_list;
  }
  return p;
}

const HtaccessViews::ParsedFile& HtaccessViews::parse(const std::string& path, const std::string& key,
                                                      const FileIdentity& seen, const std::string& dir,
                                                      const HtaccessPermissions& allowed,
                                                      const std::string& server_root, DirectoryView& out) {
  if (files_.size() >= kMaxFiles) {
    files_.clear();
    views_.clear();
  }
  ParsedFile parsed;
  parsed.identity = seen;
  parsed.serial = next_serial_++;
  // Opened by this worker, so as the owner: the kernel decides what it may read.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  struct stat st {};
  std::string text;
  if (!fd || ::fstat(fd.get(), &st) != 0) {
    // As Apache: a file that exists but can't be read denies access, to be safe.
    parsed.error_status = 403;
    parsed.error = path + ": can't read the access file (" + std::strerror(errno) +
                   "); make it readable by the site's owner";
  } else if (!S_ISREG(st.st_mode)) {
    parsed.error_status = 403;
    parsed.error = path + ": the access file is not a regular file";
  } else if (static_cast<uint64_t>(st.st_size) > kMaxFileBytes) {
    parsed.error_status = 500;
    parsed.error = path + ": the access file is larger than " + std::to_string(kMaxFileBytes) + " bytes";
  } else {
    // What was read is what the cache remembers it by.
    parsed.identity = FileIdentity{st.st_dev, st.st_ino, st.st_size, nanoseconds(st.st_mtim), nanoseconds(st.st_ctim)};
    text = read_up_to(fd.get(), static_cast<size_t>(st.st_size));
    auto blocks = parse_htaccess(text, path, dir, allowed, server_root);
    if (!blocks) {
      parsed.error_status = 500;
      // One log line: "file:line: reason; file:line: reason".
      parsed.error = blocks.error().message;
      for (size_t at = 0; (at = parsed.error.find('\n', at)) != std::string::npos;) parsed.error.replace(at, 1, "; ");
    } else if (std::string why = check_backends(*blocks); !why.empty()) {
      parsed.error_status = 500;
      parsed.error = path + ": " + why;
    } else {
      out.warnings.insert(out.warnings.end(), blocks->warnings.begin(), blocks->warnings.end());
      parsed.blocks = std::make_shared<const HtaccessBlocks>(std::move(*blocks));
    }
  }
  ParsedFile& slot = files_[key];
  slot = std::move(parsed);
  return slot;
}

DirectoryView HtaccessViews::view_for(size_t vhost_index, const VirtualHost& vhost, std::string_view fs_path,
                                      const std::string& server_root) {
  DirectoryView out;
  const auto& blocks = override_blocks(vhost_index, vhost);
  if (blocks.empty() || fs_path.empty() || fs_path[0] != '/') return out;
  // "/" first, then each directory on the way down, then fs_path itself: when it is a
  // directory its own file applies; when it is a file, ENOTDIR ends the walk.
  std::string_view target = fs_path;
  while (target.size() > 1 && target.back() == '/') target.remove_suffix(1);
  std::vector<std::string_view> levels{"/"};
  for (size_t i = 1; i < target.size(); ++i)
    if (target[i] == '/') levels.push_back(target.substr(0, i));
  if (target != "/") levels.push_back(target);
  // By value: parsing a file may start the cache over, and with it the entries of the
  // files read before it on this path.
  std::vector<std::pair<uint64_t, std::shared_ptr<const HtaccessBlocks>>> used;
  for (std::string_view level : levels) {
    HtaccessPermissions allowed = permissions_at(blocks, level);
    if (allowed.none()) continue;
    std::string dir(level);
    bool not_a_directory = false;
    for (const std::string& name : vhost.access_file_names) {
      std::string path = dir == "/" ? "/" + name : dir + "/" + name;
      struct stat st {};
      if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) continue;
        if (errno == ENOTDIR) {
          not_a_directory = true;
          break;
        }
        // As Apache: a file that may exist but can't be checked denies access, to be safe.
        out.error_status = 403;
        out.error_reason = path + ": can't check the access file (" + std::strerror(errno) +
                           "); make its directory searchable by the site's owner";
        return out;
      }
      FileIdentity seen{st.st_dev, st.st_ino, st.st_size, nanoseconds(st.st_mtim), nanoseconds(st.st_ctim)};
      std::string key = path + '\0' + fingerprint(allowed);
      auto it = files_.find(key);
      const ParsedFile* file = it != files_.end() && it->second.identity == seen
                                   ? &it->second
                                   : &parse(path, key, seen, dir, allowed, server_root, out);
      if (file->error_status) {
        out.error_status = file->error_status;
        out.error_reason = file->error;
        return out;
      }
      used.emplace_back(file->serial, file->blocks);
      break;  // the first name that exists is the one read
    }
    if (not_a_directory) break;
  }
  if (used.empty()) return out;
  std::string key = std::to_string(vhost_index);
  for (const auto& file : used) key += "," + std::to_string(file.first);
  auto it = views_.find(key);
  if (it == views_.end()) {
    if (views_.size() >= kMaxViews) views_.clear();
    auto copy = std::make_shared<VirtualHost>(vhost);
    for (const auto& file : used) {
      copy->directories.push_back(file.second->directory);
      copy->files_blocks.insert(copy->files_blocks.end(), file.second->files_blocks.begin(),
                                file.second->files_blocks.end());
    }
    derive_section_flags(*copy);
    copy->view_serial = next_serial_++;
    View view{copy, vhost_has_dynamic_handlers(*copy)};
    it = views_.emplace(std::move(key), std::move(view)).first;
  }
  out.vhost = it->second.vhost;
  out.has_dynamic = it->second.has_dynamic;
  return out;
}

}  // namespace itkd
