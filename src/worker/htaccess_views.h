// .htaccess files, read by the owner's worker (so as the owner, sandboxed) where a
// <Directory> block's AllowOverride lets them say something, and the vhost as they make
// it: a copy of the config's VirtualHost with each file's settings added as a <Directory>
// block of its directory (after the config's own for that directory) and its <Files>
// blocks after the config's. Every part of the worker that merges <Directory> blocks then
// sees them in Apache's order: shallow to deep, a directory's .htaccess over its
// <Directory>, <DirectoryMatch> last.
//
// Each request stats the access file of each directory on its path where AllowOverride
// isn't None (as Apache opens them), so an edit applies to the next request; a parsed file
// and a view are reused while the files they came from are unchanged.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "config/htaccess_parser.h"
#include "config/server_config.h"

namespace itkd {

struct DirectoryView {
  // The vhost with the .htaccess files of this path; null when none applies (use the
  // config's vhost as it is).
  std::shared_ptr<const VirtualHost> vhost;
  bool has_dynamic = false;  // a handler may run in `vhost` (vhost_has_dynamic_handlers)
  // A file that can't be read (403) or parsed (500): answer that, log the reason.
  int error_status = 0;
  std::string error_reason;
  // Warnings of files parsed by this call ("file:line: ..."): logged once, not per request.
  std::vector<std::string> warnings;
};

class HtaccessViews {
 public:
  // The FastCGI backends the configuration gives to this owner's sites (SetHandler,
  // AddHandler, ProxyPassMatch): the only ones a .htaccess file may name. Another
  // tenant's php-fpm pool on a TCP port has no file permissions to keep a file that
  // names it from running code as that tenant.
  void allow_backends_of(const std::vector<const VirtualHost*>& vhosts);

  // `fs_path`: the file (or directory) a URL maps to, absolute and normalized. Reads the
  // access files of "/" and each directory below it on the way to `fs_path`.
  DirectoryView view_for(size_t vhost_index, const VirtualHost& vhost, std::string_view fs_path,
                         const std::string& server_root);

  // Bounds on memory whatever a tenant does with its files: past them the caches start over.
  static constexpr size_t kMaxFiles = 1024;
  static constexpr size_t kMaxViews = 256;
  // Larger .htaccess files are refused (500) rather than read.
  static constexpr size_t kMaxFileBytes = 1 << 20;

 private:
  struct FileIdentity {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    int64_t mtime_ns = 0;
    int64_t ctime_ns = 0;
    bool operator==(const FileIdentity&) const = default;
  };
  struct ParsedFile {
    FileIdentity identity;
    uint64_t serial = 0;  // never reused: views are keyed by their files' serials
    std::shared_ptr<const HtaccessBlocks> blocks;
    int error_status = 0;  // 403: can't be read; 500: can't be parsed
    std::string error;     // why, for the error log
  };
  struct View {
    std::shared_ptr<const VirtualHost> vhost;
    bool has_dynamic = false;
  };
  // The <Directory> blocks of a vhost that set AllowOverride or AllowOverrideList,
  // shallowest first (config order among equals): later ones override.
  const std::vector<const DirectoryBlock*>& override_blocks(size_t vhost_index, const VirtualHost& vhost);
  HtaccessPermissions permissions_at(const std::vector<const DirectoryBlock*>& blocks, std::string_view dir) const;
  const ParsedFile& parse(const std::string& path, const std::string& key, const FileIdentity& seen,
                          const std::string& dir, const HtaccessPermissions& allowed, const std::string& server_root,
                          DirectoryView& out);

  // Empty when the parsed blocks name only allowed backends, else why not.
  std::string check_backends(const HtaccessBlocks& blocks) const;

  std::unordered_set<std::string> allowed_backends_;  // FcgiBackend::describe()
  std::unordered_map<size_t, std::vector<const DirectoryBlock*>> override_blocks_;
  std::unordered_map<std::string, ParsedFile> files_;  // path + '\0' + permissions
  std::unordered_map<std::string, View> views_;        // vhost index + file serials
  uint64_t next_serial_ = 1;
};

}  // namespace itkd
