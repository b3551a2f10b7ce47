// Dropping root for good, in one fixed order, then proving it (OpenSSH's
// permanently_set_uid, OpenBSD httpd's proc_run): bounding set cleared, setgroups,
// setresgid, setresuid, then *try* to get root back and fail hard if that works.
#pragma once

#include <linux/filter.h>

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/result.h"

namespace itkd {

struct Identity {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups (the user's own, or just gid)
  std::string user_name;      // for messages; empty for #uid
  std::string home;           // the passwd entry's home directory; empty for #uid
};

// "alice" / "#61001" and "alice" / "#61001" -> ids and the user's own supplementary groups
// (getgrouplist for a named user, only the primary gid for a numeric one).
Result<Identity> resolve_identity(const std::string& user, const std::string& group);

// Must run as root. Clears the capability bounding set, sets groups/gid/uid (real,
// effective, saved), clears ambient caps and keep-caps, then verifies that setuid(0),
// setgid(0) and seteuid(0) all fail and that CapEff/CapPrm are empty.
Result<void> drop_privileges(const Identity& identity);

// PR_SET_NO_NEW_PRIVS and PR_SET_DUMPABLE 0.
Result<void> harden_process();

enum class SeccompProfile {
  // Tenant workers: refuse (EPERM) the set*id family, setgroups, capset, ptrace,
  // process_vm_readv/writev, mount/umount, pivot_root, chroot, unshare, setns, keyctl,
  // add_key, request_key, bpf, init_module/finit_module/delete_module, kexec_*, reboot,
  // swapon/off, perf_event_open, userfaultfd, personality, acct, quotactl, open_by_handle_at.
  Worker,
  // The front additionally may not execve/execveat, fork (clone without CLONE_THREAD) or
  // open files for writing.
  Front,
};

// A profile's filter as the kernel takes it (BPF). Compiling costs ~0.65 ms of libseccomp
// work; the zygote compiles once and every worker it forks only loads.
struct SeccompProgram {
  std::vector<sock_filter> code;
};
Result<SeccompProgram> compile_seccomp(SeccompProfile profile);
// Loads a compiled filter into this process (all its threads); no_new_privs must be set.
Result<void> load_seccomp(const SeccompProgram& program);
// compile_seccomp + load_seccomp. Non-native syscall ABIs (x32, i386) are killed.
Result<void> install_seccomp(SeccompProfile profile);

// Reads /proc/self/status fields ("Uid", "CapEff", "NoNewPrivs", "Seccomp", ...) for
// verification and for tests.
std::string proc_status_field(pid_t pid, const std::string& field);

}  // namespace itkd
