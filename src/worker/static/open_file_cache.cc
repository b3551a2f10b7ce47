#include "worker/static/open_file_cache.h"

namespace itkd {

namespace {

bool same_time(const timespec& a, const timespec& b) { return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec; }

bool unchanged(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_size == b.st_size &&
         a.st_mode == b.st_mode && same_time(a.st_mtim, b.st_mtim) && same_time(a.st_ctim, b.st_ctim);
}

}  // namespace

std::optional<OpenFileCache::Hit> OpenFileCache::find(const std::string& path, uint64_t now_ms) {
  auto it = entries_.find(path);
  if (it == entries_.end()) return std::nullopt;
  if (turn_ == 0 || it->second.checked_in != turn_) {
    struct stat now {};
    if (::stat(path.c_str(), &now) != 0 || !unchanged(now, it->second.st)) {
      entries_.erase(it);
      return std::nullopt;
    }
    it->second.checked_in = turn_;
  }
  it->second.used_ms = now_ms;
  return Hit{it->second.fd, it->second.st};
}

void OpenFileCache::insert(const std::string& path, const SharedFd& fd, const struct stat& st,
                           uint64_t now_ms) {
  if (!fd || !S_ISREG(st.st_mode)) return;
  if (entries_.size() >= kMaxEntries && !entries_.count(path)) entries_.clear();
  entries_[path] = Entry{fd, st, now_ms, turn_};
}

void OpenFileCache::expire(uint64_t now_ms) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (now_ms - it->second.used_ms >= kIdleMs) {
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace itkd
