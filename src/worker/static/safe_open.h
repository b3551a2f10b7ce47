// Opening a URL's file beneath its base directory without check-then-open races, with
// Apache's symlink rules (Options FollowSymLinks / SymLinksIfOwnerMatch) decided per
// containing directory. Everything is opened O_PATH first and inspected with fstat, so a
// FIFO or device is never opened for reading. Internal to itkd_static.
#pragma once

#include <sys/stat.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/unique_fd.h"
#include "config/server_config.h"
#include "common/shared_fd.h"
#include "worker/static/open_file_cache.h"
#include "worker/static/static_handler.h"

namespace itkd {

struct OpenedPath {
  int status = 0;              // 0 on success, else 403 / 404 / 500
  std::string log_reason;      // on failure, Apache-style ("File does not exist: /srv/a/x")
  std::string fs_path;         // logical filesystem path (base + "/" + relative)
  UniqueFd fd;                 // O_PATH fd of the object (symlinks already followed),
                               // or already open for reading when `readable`
  bool readable = false;
  struct stat st {};
  // How to reopen the same object for reading: openat(parent or AT_FDCWD, name).
  UniqueFd parent;
  std::string reopen_name;
  bool reopen_follow = true;
  // Effective settings of the directory that contains the object.
  DirectorySettings containing;
  // From the open-file cache: `fd` is unused and this is the file to send from.
  SharedFd cached;
  // Opened by the plain-open path for reading: may go into the open-file cache.
  bool cacheable = false;
};

// Opens `relative` ("a/b/c", no leading or trailing '/'; empty = the base itself) beneath
// the directory `base` (or, when base_fd >= 0, beneath that already-open O_PATH directory
// whose path is `base`).
OpenedPath open_beneath(const VirtualHost& vhost, const std::string& base, int base_fd,
                        std::string_view relative, OpenFileCache* cache = nullptr,
                        uint64_t now_ms = 0);

// Opens the object for reading (O_RDONLY, non-blocking so a swapped-in FIFO can't stall
// us) and checks it is still the inode that was inspected. Returns an invalid fd and sets
// errno on failure (ESTALE if the object changed in between). `fresh`, if given, gets
// the stat of the opened fd: size and mtime as of the open, matching what will be sent.
// When the object was opened for reading already (`readable`), hands that fd over.
UniqueFd open_for_reading(OpenedPath& opened, struct stat* fresh = nullptr);

}  // namespace itkd
