#include "sandbox/private_tmp.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/unique_fd.h"

namespace itkd {
namespace {

Result<void> check_base(int fd, const std::string& base) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Error{errno_message("OwnerTmpDirectory " + base)};
  if (!S_ISDIR(st.st_mode)) return Error{"OwnerTmpDirectory " + base + " is not a directory"};
  if (st.st_uid != 0 || (st.st_mode & 022) != 0)
    return Error{"OwnerTmpDirectory " + base + " must be owned by root and writable by nobody else"};
  return ok();
}

}  // namespace

Result<void> prepare_private_tmp_base(const std::string& base) {
  for (size_t slash = base.find('/', 1); slash != std::string::npos; slash = base.find('/', slash + 1)) {
    const std::string parent = base.substr(0, slash);
    if (::mkdir(parent.c_str(), 0755) != 0 && errno != EEXIST)
      return Error{errno_message("could not create " + parent + " for OwnerTmpDirectory")};
  }
  if (::mkdir(base.c_str(), 0711) != 0 && errno != EEXIST)
    return Error{errno_message("could not create OwnerTmpDirectory " + base)};
  UniqueFd fd(::open(base.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return Error{errno_message("OwnerTmpDirectory " + base)};
  return check_base(fd.get(), base);
}

Result<void> enter_private_tmp(const std::string& base, uid_t uid, gid_t gid) {
  UniqueFd dir(::open(base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir) return Error{errno_message("OwnerTmpDirectory " + base)};
  if (auto r = check_base(dir.get(), base); !r) return r;
  const std::string name = std::to_string(uid);
  const std::string path = base + "/" + name;
  if (::mkdirat(dir.get(), name.c_str(), 0700) == 0) {
    if (::fchownat(dir.get(), name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) != 0)
      return Error{errno_message("chown " + path)};
  } else if (errno != EEXIST) {
    return Error{errno_message("mkdir " + path)};
  }
  UniqueFd own(::openat(dir.get(), name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  struct stat st {};
  if (!own || ::fstat(own.get(), &st) != 0) return Error{errno_message(path)};
  if (st.st_uid != uid) return Error{path + " is not owned by uid " + name + "; not using it as its /tmp"};
  if (::unshare(CLONE_NEWNS) != 0) return Error{errno_message("unshare(CLONE_NEWNS) for OwnerPrivateTmp")};
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0)
    return Error{errno_message("making / a slave mount for OwnerPrivateTmp")};
  // A bind mount's source must be in this namespace: the directory again, by path (only
  // root can change it: the base is root's and not writable by others), and the same one.
  UniqueFd again(::open(path.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  struct stat st2 {};
  if (!again || ::fstat(again.get(), &st2) != 0 || st2.st_dev != st.st_dev || st2.st_ino != st.st_ino)
    return Error{path + " changed while it was being mounted on /tmp"};
  const std::string source = "/proc/self/fd/" + std::to_string(again.get());
  if (::mount(source.c_str(), "/tmp", nullptr, MS_BIND, nullptr) != 0)
    return Error{errno_message("bind-mounting " + path + " on /tmp")};
  if (::mount(nullptr, "/tmp", nullptr, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV, nullptr) != 0)
    return Error{errno_message("remounting /tmp nosuid,nodev")};
  return ok();
}

}  // namespace itkd
