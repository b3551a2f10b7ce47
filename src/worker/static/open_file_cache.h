// Files the static handler opened on its common path (FollowSymLinks everywhere, so one
// open(2) of the whole path is Apache's semantics), kept open for the next request of
// the same path. A hit is checked with one stat(2), which must show the path still names
// the same unchanged file (device, inode, size, mode, mtime, ctime), instead of open +
// fstat + close. Only files opened through the normal checks get in and a hit serves
// exactly that inode, so the cache can't widen what a request may read. One cache per
// worker (one owner).
// The check is made once per turn of the worker's event loop, like h2o's file cache:
// every request handled in a turn had arrived before the turn began, and the stat comes
// after that, so a request that arrives after an edit, a chmod or a rename is always
// checked against it. (That stat was 11% of a keep-alive 1 KiB request's CPU.)
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
  // A new turn of the event loop starts: stats made before it are no longer trusted.
  void begin_turn() { ++turn_; }
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
    uint64_t checked_in;  // the turn whose stat(2) last showed it unchanged
  };
  std::unordered_map<std::string, Entry> entries_;
  uint64_t turn_ = 0;  // 0: no turn started, nothing trusted
};

}  // namespace itkd
