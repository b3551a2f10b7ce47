// Seccomp filters for fronts and tenant workers, built with libseccomp.
//
// Default action is ALLOW and the listed syscalls fail with EPERM: the filter is a second
// wall behind the uid drop (a kernel bug in one of these paths must not become root), not
// an allowlist that would break PHP, CGI or glibc updates.
//
// Architectures: the filter contains only the native ABI, and SCMP_FLTATR_ACT_BADARCH
// kills the process for any other (i386 via int 0x80 on x86_64, arm32 on arm64). On
// x86_64 libseccomp also emits a check that sends x32 syscall numbers (bit 0x40000000)
// to the bad-arch action, so x32 calls are killed too (tested).
//
// Argument filters assume clone's flags are argument 0, true on x86_64 and arm64 (on
// s390 they are argument 1; itkd is not built there).
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "common/unique_fd.h"
#include "sandbox/privileges.h"

namespace itkd {
namespace {

struct FilterDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Filter = std::unique_ptr<void, FilterDeleter>;

// Syscalls no tenant worker needs, each a known privilege-escalation or kernel-attack path.
constexpr const char* kWorkerDenied[] = {
    // identity changes: a worker stays the tenant it was started as
    "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setfsuid",
    "setfsgid", "setgroups", "capset",
    // other processes' memory
    "ptrace", "process_vm_readv", "process_vm_writev",
    // filesystem namespaces and roots
    "mount", "umount2", "umount", "pivot_root", "chroot", "unshare", "setns",
    "fsopen", "fsmount", "fsconfig", "fspick", "move_mount", "open_tree", "mount_setattr",
    // kernel keyring, eBPF, modules, kexec, power
    "keyctl", "add_key", "request_key", "bpf", "init_module", "finit_module",
    "delete_module", "kexec_load", "kexec_file_load", "reboot",
    // swap, profiling, fault handling, accounting, quotas
    "swapon", "swapoff", "perf_event_open", "userfaultfd", "acct", "quotactl",
    "quotactl_fd",
    // file handles bypass path permission checks
    "open_by_handle_at", "name_to_handle_at",
    // io_uring executes syscalls the filter never sees
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    // raw I/O ports and legacy interfaces
    "iopl", "ioperm", "vm86", "vm86old", "lookup_dcookie", "uselib", "_sysctl",
    "nfsservctl",
};

// The front serves requests only: it never starts programs or changes files.
constexpr const char* kFrontDenied[] = {
    "execve", "execveat", "fork", "vfork", "creat",
    "link", "linkat", "symlink", "symlinkat", "unlink", "unlinkat",
    "rename", "renameat", "renameat2", "mkdir", "mkdirat", "rmdir", "mknod", "mknodat",
    "chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "lchown", "fchownat",
    "truncate",
};

constexpr uint64_t kNamespaceFlags[] = {
    CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWNET,
    CLONE_NEWUTS,  CLONE_NEWIPC, CLONE_NEWCGROUP,
};

constexpr uint64_t kWriteOpenFlags[] = {O_WRONLY, O_RDWR, O_CREAT, O_TRUNC};

// Syscall number for this architecture, or -1 for names libseccomp does not know.
int resolve(const char* name) {
  int nr = seccomp_syscall_resolve_name(name);
  return nr == __NR_SCMP_ERROR ? -1 : nr;
}

Result<void> rule_failed(const char* name, int rc) {
  return Error{errno_message(std::string("seccomp_rule_add(") + name + ")", -rc)};
}

Result<void> deny(const Filter& filter, const char* name, int err) {
  int nr = resolve(name);
  if (nr < 0) return ok();  // unknown to libseccomp: nothing to filter
  int rc = seccomp_rule_add(filter.get(), SCMP_ACT_ERRNO(err), nr, 0);
  return rc == 0 ? ok() : rule_failed(name, rc);
}

// Denies the syscall when (argument & flag) == flag; one rule per flag ORs them.
Result<void> deny_if_any_flag(const Filter& filter, const char* name, unsigned arg,
                              std::span<const uint64_t> flags) {
  int nr = resolve(name);
  if (nr < 0) return ok();
  for (uint64_t flag : flags) {
    scmp_arg_cmp cmp{arg, SCMP_CMP_MASKED_EQ, flag, flag};
    int rc = seccomp_rule_add_array(filter.get(), SCMP_ACT_ERRNO(EPERM), nr, 1, &cmp);
    if (rc != 0) return rule_failed(name, rc);
  }
  return ok();
}

Result<void> add_worker_rules(const Filter& filter) {
  for (const char* name : kWorkerDenied) {
    if (auto r = deny(filter, name, EPERM); !r) return r;
  }

  // clone3 passes its flags in memory seccomp cannot read: answer ENOSYS so glibc falls
  // back to clone, whose flags we can inspect (what container runtimes do).
  if (auto r = deny(filter, "clone3", ENOSYS); !r) return r;
  if (auto r = deny_if_any_flag(filter, "clone", 0, kNamespaceFlags); !r) return r;

  // personality: glibc and PHP query it (0xffffffff) or set PER_LINUX (0); every other
  // persona (READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE, ...) weakens the process. libseccomp
  // cannot AND two tests on one argument, so use this: a 32-bit value other than all-zeros
  // and all-ones has, somewhere around the ring of its bits, a set bit followed by a clear
  // one; one masked test per bit pair catches exactly those values. Only the low 32 bits
  // are tested because the kernel reads an unsigned int.
  if (int nr = resolve("personality"); nr >= 0) {
    for (unsigned bit = 0; bit < 32; ++bit) {
      const uint64_t set = uint64_t{1} << bit;
      const uint64_t next = uint64_t{1} << ((bit + 1) % 32);
      scmp_arg_cmp cmp{0, SCMP_CMP_MASKED_EQ, set | next, set};
      int rc = seccomp_rule_add_array(filter.get(), SCMP_ACT_ERRNO(EPERM), nr, 1, &cmp);
      if (rc != 0) return rule_failed("personality", rc);
    }
  }

  // TIOCSTI / TIOCLINUX push input into a terminal another user may read from. The kernel
  // reads the request as an unsigned int, so high bits must not hide it.
  if (int nr = resolve("ioctl"); nr >= 0) {
    for (unsigned long request : {static_cast<unsigned long>(TIOCSTI),
                                  static_cast<unsigned long>(TIOCLINUX)}) {
      scmp_arg_cmp cmp{1, SCMP_CMP_MASKED_EQ, 0xffffffffu, request};
      int rc = seccomp_rule_add_array(filter.get(), SCMP_ACT_ERRNO(EPERM), nr, 1, &cmp);
      if (rc != 0) return rule_failed("ioctl", rc);
    }
  }
  return ok();
}

Result<void> add_front_rules(const Filter& filter) {
  for (const char* name : kFrontDenied) {
    if (auto r = deny(filter, name, EPERM); !r) return r;
  }
  // Threads are fine, new processes are not: clone without CLONE_THREAD is a fork.
  if (int nr = resolve("clone"); nr >= 0) {
    scmp_arg_cmp cmp{0, SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0};
    int rc = seccomp_rule_add_array(filter.get(), SCMP_ACT_ERRNO(EPERM), nr, 1, &cmp);
    if (rc != 0) return rule_failed("clone", rc);
  }
  // Opening for writing, by flag. openat2 keeps its flags in a struct: ENOSYS makes glibc
  // use openat instead.
  if (auto r = deny(filter, "openat2", ENOSYS); !r) return r;
  if (auto r = deny_if_any_flag(filter, "open", 1, kWriteOpenFlags); !r) return r;
  return deny_if_any_flag(filter, "openat", 2, kWriteOpenFlags);
}

}  // namespace

Result<SeccompProgram> compile_seccomp(SeccompProfile profile) {
  Filter filter(seccomp_init(SCMP_ACT_ALLOW));
  if (!filter) return Error{"seccomp_init failed: out of memory or libseccomp unusable"};

  // Foreign ABIs can reach syscalls through numbers the filter does not check.
  if (int rc = seccomp_attr_set(filter.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
      rc != 0) {
    return Error{errno_message("seccomp_attr_set(SCMP_FLTATR_ACT_BADARCH)", -rc)};
  }

  if (auto r = add_worker_rules(filter); !r) return r.error();
  if (profile == SeccompProfile::Front) {
    if (auto r = add_front_rules(filter); !r) return r.error();
  }

  // libseccomp 2.5 exports to an fd only.
  UniqueFd out(::memfd_create("itkd-seccomp", MFD_CLOEXEC));
  if (!out) return Error{errno_message("memfd_create(seccomp)")};
  if (int rc = seccomp_export_bpf(filter.get(), out.get()); rc != 0) {
    return Error{errno_message("seccomp_export_bpf", -rc)};
  }
  struct stat st {};
  if (::fstat(out.get(), &st) != 0) return Error{errno_message("fstat(seccomp program)")};
  const auto size = static_cast<size_t>(st.st_size);
  if (size == 0 || size % sizeof(sock_filter) != 0) return Error{"seccomp_export_bpf wrote a partial program"};
  SeccompProgram program;
  program.code.resize(size / sizeof(sock_filter));
  if (::pread(out.get(), program.code.data(), size, 0) != static_cast<ssize_t>(size)) {
    return Error{errno_message("read(seccomp program)")};
  }
  return program;
}

Result<void> load_seccomp(const SeccompProgram& program) {
  sock_fprog prog{};
  prog.len = static_cast<unsigned short>(program.code.size());
  prog.filter = const_cast<sock_filter*>(program.code.data());
  // The kernel requires it of an unprivileged caller; set here too so no caller can forget.
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return Error{errno_message("prctl(PR_SET_NO_NEW_PRIVS)")};
  // Every thread of the process gets the filter, not only the caller.
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) != 0) {
    return Error{errno_message("seccomp(SECCOMP_SET_MODE_FILTER) (is the kernel built with CONFIG_SECCOMP_FILTER?)")};
  }
  return ok();
}

Result<void> install_seccomp(SeccompProfile profile) {
  auto program = compile_seccomp(profile);
  if (!program) return program.error();
  return load_seccomp(*program);
}

}  // namespace itkd
