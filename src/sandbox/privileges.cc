// Dropping root for good and proving it; see privileges.h for the contract.
#include "sandbox/privileges.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <string_view>

#include "common/unique_fd.h"

namespace itkd {
namespace {


// Reads a whole small file (procfs files report size 0, so read until EOF).
std::string read_small_file(const std::string& path) {
  std::string text;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return text;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  return text;
}

// The kernel may know more capabilities than the headers we were built with; probe it
// (no /proc: the front calls this inside an empty chroot).
int last_capability() {
  int cap = 0;
  while (cap < 63 && prctl(PR_CAPBSET_READ, cap + 1, 0, 0, 0) >= 0) ++cap;
  return cap;
}

std::string id_text(unsigned long id) { return std::to_string(id); }

std::vector<gid_t> sorted_unique(std::vector<gid_t> groups) {
  std::sort(groups.begin(), groups.end());
  groups.erase(std::unique(groups.begin(), groups.end()), groups.end());
  return groups;
}

// Getting root back after the drop is an impossible state: crash loudly rather than
// serve tenant code with root.
void abort_if_succeeds(int rc) {
  if (rc == 0) std::abort();
}

Result<void> verify_dropped(const Identity& identity) {
  uid_t ruid = 0, euid = 0, suid = 0;
  gid_t rgid = 0, egid = 0, sgid = 0;
  if (getresuid(&ruid, &euid, &suid) != 0) return Error{errno_message("getresuid")};
  if (getresgid(&rgid, &egid, &sgid) != 0) return Error{errno_message("getresgid")};
  if (ruid != identity.uid || euid != identity.uid || suid != identity.uid) {
    return Error{"privilege drop did not stick: uids are " + id_text(ruid) + "/" +
                 id_text(euid) + "/" + id_text(suid) + ", expected " + id_text(identity.uid)};
  }
  if (rgid != identity.gid || egid != identity.gid || sgid != identity.gid) {
    return Error{"privilege drop did not stick: gids are " + id_text(rgid) + "/" +
                 id_text(egid) + "/" + id_text(sgid) + ", expected " + id_text(identity.gid)};
  }

  abort_if_succeeds(setuid(0));
  abort_if_succeeds(seteuid(0));
  abort_if_succeeds(setgid(0));
  abort_if_succeeds(setegid(0));

  int count = getgroups(0, nullptr);
  if (count < 0) return Error{errno_message("getgroups")};
  std::vector<gid_t> have(static_cast<size_t>(count));
  if (count > 0 && getgroups(count, have.data()) < 0) return Error{errno_message("getgroups")};
  std::vector<gid_t> want = identity.groups.empty() ? std::vector<gid_t>{identity.gid}
                                                    : identity.groups;
  if (sorted_unique(have) != sorted_unique(want)) {
    return Error{"privilege drop did not stick: supplementary groups differ from the " +
                 std::to_string(want.size()) + " requested"};
  }

  // Asked of the kernel directly, not /proc: a front runs this inside an empty chroot.
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (syscall(SYS_capget, &header, data) != 0) return Error{errno_message("capget")};
  for (const auto& d : data) {
    if (d.effective || d.permitted || d.inheritable)
      return Error{"privilege drop did not stick: capabilities remain (effective, permitted or inheritable)"};
  }
  for (int cap = 0; cap <= 63; ++cap) {
    int in_bounding = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
    if (in_bounding < 0) break;  // past the kernel's last capability
    if (in_bounding > 0)
      return Error{"privilege drop did not stick: capability " + std::to_string(cap) + " is still in the bounding set"};
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) > 0)
      return Error{"privilege drop did not stick: ambient capability " + std::to_string(cap) + " is set"};
  }
  return ok();
}

}  // namespace

std::string proc_status_field(pid_t pid, const std::string& field) {
  std::string path = pid > 0 ? "/proc/" + std::to_string(pid) + "/status" : "/proc/self/status";
  std::string text = read_small_file(path);
  std::string_view rest(text);
  while (!rest.empty()) {
    size_t eol = rest.find('\n');
    std::string_view line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
    if (line.size() > field.size() && line.compare(0, field.size(), field) == 0 &&
        line[field.size()] == ':') {
      std::string_view value = line.substr(field.size() + 1);
      size_t begin = value.find_first_not_of(" \t");
      if (begin == std::string_view::npos) return {};
      size_t end = value.find_last_not_of(" \t\r");
      return std::string(value.substr(begin, end - begin + 1));
    }
  }
  return {};
}

Result<void> drop_privileges(const Identity& identity) {
  const std::string who = identity.user_name.empty() ? "#" + id_text(identity.uid)
                                                     : identity.user_name;
  if (geteuid() != 0) {
    return Error{"cannot switch to user " + who + ": not running as root (euid " +
                 id_text(geteuid()) + "); start itkd as root"};
  }
  if (identity.uid == 0 || identity.gid == 0) {
    return Error{"refusing to run as user " + who + " with uid " + id_text(identity.uid) +
                 " / gid " + id_text(identity.gid) +
                 ": tenants must not be root; pick an unprivileged user and group"};
  }

  // Capabilities must not survive the uid change, nor be regainable through execve.
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) {
    return Error{errno_message("prctl(PR_SET_KEEPCAPS, 0)")};
  }
  const int last = last_capability();
  for (int cap = 0; cap <= last; ++cap) {
    if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) <= 0) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      return Error{errno_message("prctl(PR_CAPBSET_DROP, " + std::to_string(cap) + ")")};
    }
  }
  // Kernels before 4.3 have no ambient set, so nothing to clear there.
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    return Error{errno_message("prctl(PR_CAP_AMBIENT_CLEAR_ALL)")};
  }

  // Groups first, then gid, then uid: each step needs the root the next one gives up.
  if (identity.groups.empty()) {
    if (setgroups(1, &identity.gid) != 0) {
      return Error{errno_message("setgroups(" + id_text(identity.gid) + ")")};
    }
  } else if (setgroups(identity.groups.size(), identity.groups.data()) != 0) {
    return Error{errno_message("setgroups(" + std::to_string(identity.groups.size()) +
                               " groups of " + who + ")")};
  }
  if (setresgid(identity.gid, identity.gid, identity.gid) != 0) {
    return Error{errno_message("setresgid(" + id_text(identity.gid) + ")")};
  }
  if (setresuid(identity.uid, identity.uid, identity.uid) != 0) {
    return Error{errno_message("setresuid(" + id_text(identity.uid) + ")")};
  }
  return verify_dropped(identity);
}

Result<void> harden_process() {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return Error{errno_message("prctl(PR_SET_NO_NEW_PRIVS, 1)")};
  }
  // Not dumpable: no core files with tenant data, and no ptrace/proc access by peers.
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    return Error{errno_message("prctl(PR_SET_DUMPABLE, 0)")};
  }
  if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
    return Error{"prctl(PR_SET_NO_NEW_PRIVS) did not take effect"};
  }
  if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0) {
    return Error{"prctl(PR_SET_DUMPABLE, 0) did not take effect"};
  }
  return ok();
}

}  // namespace itkd
