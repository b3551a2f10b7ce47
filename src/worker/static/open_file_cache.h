// Files the static handler opened on its common path (FollowSymLinks everywhere, so one
// open(2) of the whole path is Apache's semantics), kept open for the next request of
// the same path. A hit costs one stat(2), which must show the path still names the same
// unchanged file (device, inode, size, mode, mtime, ctime), instead of open + fstat +
// close. Only files opened through the normal checks get in and a hit serves exactly
// that inode, so the cache can't widen what a request may read; a chmod or an edit
// changes ctime and is seen by the very next request. One cache per worker (one owner).
// Within one request an entry's stat is trusted: a request that asks twice (is it a
// script? then serve it) pays for one stat, not two.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/shared_fd.h"

namespace itkd {

class OpenFileCache {
 public:
  struct Hit {
    SharedFd fd;
    struct stat st;
  };
  std::optional<Hit> find(const std::string& path, uint64_t now_ms);
  // A new request starts: stats made before it are no longer trusted.
  void begin_request() { ++request_; }
  void insert(const std::string& path, const SharedFd& fd, const struct stat& st, uint64_t now_ms);
  // Closes files not used for a while, so a deleted file's space is not held forever.
  void expire(uint64_t now_ms);
  size_t size() const { return entries_.size(); }

  static constexpr size_t kMaxEntries = 256;
  static constexpr uint64_t kIdleMs = 10000;

 private:
  struct Entry {
    SharedFd fd;
    struct stat st;
    uint64_t used_ms;
    uint64_t checked_in;  // the request whose stat(2) last showed it unchanged
  };
  std::unordered_map<std::string, Entry> entries_;
  uint64_t request_ = 0;  // 0: no request started, nothing trusted
};

}  // namespace itkd
