#include "worker/static/safe_open.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace itkd {

namespace {

constexpr const char* kSymlinkRefused =
    "Symbolic link not allowed or link target not accessible: ";

std::vector<std::string_view> split_components(std::string_view relative) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < relative.size()) {
    size_t end = relative.find('/', pos);
    if (end == std::string_view::npos) end = relative.size();
    if (end > pos) out.push_back(relative.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

void fail_errno(OpenedPath& out, int err, const std::string& path) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG:
      out.status = 404;
      out.log_reason = "File does not exist: " + path;
      break;
    case EACCES:
    case EPERM:
      out.status = 403;
      out.log_reason = "Permission denied by the filesystem: " + path;
      break;
    case ELOOP:
    case EXDEV:  // RESOLVE_BENEATH refused a link that leaves the base
      out.status = 403;
      out.log_reason = kSymlinkRefused + path;
      break;
    default:
      out.status = 500;
      out.log_reason = errno_message("cannot open " + path, err);
      break;
  }
}

long call_openat2(int dirfd, const std::string& path, uint64_t flags, uint64_t resolve) {
  struct open_how how;
  std::memset(&how, 0, sizeof how);
  how.flags = flags;
  how.resolve = resolve;
  return syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof how);
}

bool follows(unsigned options) { return (options & kOptFollowSymLinks) != 0; }
bool follows_if_owner(unsigned options) { return (options & kOptSymLinksIfOwnerMatch) != 0; }

}  // namespace

OpenedPath open_beneath(const VirtualHost& vhost, const std::string& base, int base_fd,
                        std::string_view relative, OpenFileCache* cache, uint64_t now_ms) {
  OpenedPath out;
  std::vector<std::string_view> components = split_components(relative);
  out.fs_path = base;
  for (std::string_view c : components) {
    if (out.fs_path != "/") out.fs_path += '/';
    out.fs_path.append(c);
  }

  // Options of every directory that contains a component: base, base/c0, ...
  std::vector<DirectorySettings> dirs;
  dirs.reserve(components.size() + 1);
  std::string dir = base;
  bool all_follow = true;
  bool any_symlink_option = false;
  for (size_t i = 0; i < components.size(); ++i) {
    dirs.push_back(settings_for_directory(vhost, dir));
    all_follow = all_follow && follows(dirs.back().options);
    any_symlink_option = any_symlink_option || follows(dirs.back().options) ||
                         follows_if_owner(dirs.back().options);
    if (dir != "/") dir += '/';
    dir.append(components[i]);
  }
  if (components.empty()) {
    // The base itself (DocumentRoot, or an Alias naming a file or directory): the admin
    // wrote this path, so it is opened as written. A directory is governed by its own
    // <Directory> settings, a file by its parent's.
    std::string parent = base.substr(0, base.rfind('/'));
    if (parent.empty()) parent = "/";
    int fd = base_fd >= 0 ? openat(base_fd, ".", O_PATH | O_CLOEXEC)
                          : open(base.c_str(), O_PATH | O_CLOEXEC);
    if (fd < 0) {
      fail_errno(out, errno, out.fs_path);
      out.containing = settings_for_directory(vhost, parent);
      return out;
    }
    out.fd.reset(fd);
    if (fstat(fd, &out.st) != 0) {
      fail_errno(out, errno, out.fs_path);
      return out;
    }
    out.containing = settings_for_directory(vhost, S_ISDIR(out.st.st_mode) ? base : parent);
    out.reopen_name = base;
    return out;
  }
  out.containing = dirs.back();

  // Fast path, the usual case: FollowSymLinks everywhere lets a link point anywhere
  // (kernel permissions decide), and the relative path has no "..", so one plain
  // openat of the whole path is exactly Apache's semantics.
  if (all_follow) {
    int fd;
    if (base_fd >= 0) {
      out.reopen_name = std::string(relative);
      fd = openat(base_fd, out.reopen_name.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
      if (fd >= 0) {
        out.readable = true;
      } else if (errno == EACCES) {
        fd = openat(base_fd, out.reopen_name.c_str(), O_PATH | O_CLOEXEC);
        if (fd >= 0) out.parent.reset(dup(base_fd));
      }
    } else {
      // The usual request: open it for reading right away, as nginx does (non-blocking,
      // so a FIFO can't stall us; fstat below refuses anything but files and
      // directories), saving the O_PATH open, its fstat and the reopen. The same plain
      // open is what the open-file cache stands in for.
      out.reopen_name = out.fs_path;
      if (cache) {
        if (auto hit = cache->find(out.fs_path, now_ms)) {
          out.cached = std::move(hit->fd);
          out.st = hit->st;
          return out;
        }
      }
      fd = open(out.fs_path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
      if (fd >= 0) {
        out.readable = true;
        out.cacheable = cache != nullptr;
      } else if (errno == EACCES) {
        // A directory may be searchable (index.html inside) but not readable.
        fd = open(out.fs_path.c_str(), O_PATH | O_CLOEXEC);
      }
    }
    if (fd < 0 || (base_fd >= 0 && !out.readable && !out.parent)) {
      int err = errno;
      if (fd >= 0) close(fd);
      fail_errno(out, err, out.fs_path);
      return out;
    }
    out.fd.reset(fd);
    if (fstat(fd, &out.st) != 0) fail_errno(out, errno, out.fs_path);
    return out;
  }

  UniqueFd owned_base;
  int cur = base_fd;
  if (cur < 0) {
    owned_base.reset(open(base.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!owned_base) {
      fail_errno(out, errno, base);
      return out;
    }
    cur = owned_base.get();
  }

  // Second fastest: no symlink at all on the path, checked by the kernel in one call.
  std::string rel(relative);
  long fast = call_openat2(cur, rel, O_PATH | O_CLOEXEC,
                           RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
  if (fast >= 0) {
    out.fd.reset(static_cast<int>(fast));
    if (fstat(out.fd.get(), &out.st) != 0) {
      fail_errno(out, errno, out.fs_path);
      return out;
    }
    out.parent = owned_base ? std::move(owned_base) : UniqueFd(dup(cur));
    out.reopen_name = std::move(rel);
    out.reopen_follow = false;
    return out;
  }
  int err = errno;
  if (err == ELOOP && !any_symlink_option) {
    fail_errno(out, ELOOP, out.fs_path);
    return out;
  }
  if (err != ELOOP && err != ENOSYS && err != EINVAL && err != EPERM && err != EAGAIN) {
    fail_errno(out, err, out.fs_path);
    return out;
  }

  // A symlink is on the path and some directory allows one: walk component by
  // component, deciding each link by the options of the directory that holds it.
  UniqueFd parent_owned;  // keeps `cur` alive when it is not the base
  std::string walked = base;
  for (size_t i = 0; i < components.size(); ++i) {
    std::string name(components[i]);
    if (walked != "/") walked += '/';
    walked += name;
    bool last = i + 1 == components.size();
    UniqueFd fd(openat(cur, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    struct stat st {};
    if (!fd || fstat(fd.get(), &st) != 0) {
      fail_errno(out, errno, walked);
      return out;
    }
    bool followed = false;
    if (S_ISLNK(st.st_mode)) {
      unsigned options = dirs[i].options;
      if (!follows(options) && !follows_if_owner(options)) {
        fail_errno(out, ELOOP, walked);
        return out;
      }
      uid_t link_owner = st.st_uid;
      UniqueFd target(openat(cur, name.c_str(), O_PATH | O_CLOEXEC));
      if (!target || fstat(target.get(), &st) != 0) {
        // Apache reports a dangling or unreachable link target as the same refusal.
        int e = errno;
        fail_errno(out, e == ENOENT ? ELOOP : e, walked);
        return out;
      }
      if (!follows(options) && st.st_uid != link_owner) {
        out.status = 403;
        out.log_reason = std::string(kSymlinkRefused) + walked +
                         " (SymLinksIfOwnerMatch: link owner " + std::to_string(link_owner) +
                         ", target owner " + std::to_string(st.st_uid) + ")";
        return out;
      }
      fd = std::move(target);
      followed = true;
    }
    if (last) {
      out.fd = std::move(fd);
      out.st = st;
      out.reopen_name = std::move(name);
      out.reopen_follow = followed;
      if (parent_owned) {
        out.parent = std::move(parent_owned);
      } else if (owned_base) {
        out.parent = std::move(owned_base);
      } else {
        out.parent.reset(dup(cur));
      }
      return out;
    }
    if (!S_ISDIR(st.st_mode)) {
      fail_errno(out, ENOTDIR, walked);
      return out;
    }
    parent_owned = std::move(fd);
    cur = parent_owned.get();
  }
  return out;
}

UniqueFd open_for_reading(OpenedPath& opened, struct stat* fresh) {
  if (opened.readable) {
    opened.readable = false;
    if (fresh) *fresh = opened.st;
    return std::move(opened.fd);
  }
  int flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
  if (S_ISDIR(opened.st.st_mode)) {
    // An O_PATH directory fd reopens itself through ".".
    return UniqueFd(openat(opened.fd.get(), ".", flags | O_DIRECTORY));
  }
  if (!opened.reopen_follow) flags |= O_NOFOLLOW;
  int dirfd = opened.parent ? opened.parent.get() : AT_FDCWD;
  UniqueFd fd(openat(dirfd, opened.reopen_name.c_str(), flags));
  if (!fd) return fd;
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) return UniqueFd();
  if (st.st_dev != opened.st.st_dev || st.st_ino != opened.st.st_ino) {
    errno = ESTALE;
    return UniqueFd();
  }
  if (fresh) *fresh = st;
  return fd;
}

}  // namespace itkd
