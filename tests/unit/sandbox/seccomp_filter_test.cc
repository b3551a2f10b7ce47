#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "child_process.h"
#include "sandbox/privileges.h"

namespace itkd {
namespace {

using test::outcome_of;
using test::run_in_child;

// Runs body in a child under the profile's filter; a failed install is the report.
std::string under(SeccompProfile profile, const std::function<std::string()>& body) {
  return run_in_child([&] {
           auto r = install_seccomp(profile);
           if (!r) return "install failed: " + r.error().message;
           return body();
         })
      .output;
}

std::string under_worker(const std::function<std::string()>& body) {
  return under(SeccompProfile::Worker, body);
}
std::string under_front(const std::function<std::string()>& body) {
  return under(SeccompProfile::Front, body);
}

// fork() and wait; "ok" when the grandchild ran and exited 7.
std::string fork_and_wait() {
  pid_t pid = fork();
  if (pid < 0) return outcome_of(pid);
  if (pid == 0) _exit(7);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 7 ? "ok" : "bad status";
}

// Raw clone with the given flags; a child that does get created exits at once.
std::string raw_clone(unsigned long flags) {
  long rc = syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  if (rc == 0) _exit(0);
  if (rc > 0) waitpid(static_cast<pid_t>(rc), nullptr, 0);
  return outcome_of(rc);
}

std::string run_thread() {
  int value = 0;
  std::thread t([&] { value = 42; });
  t.join();
  return value == 42 ? "ok" : "thread did not run";
}

#define REQUIRE_ROOT() \
  if (geteuid() != 0) {            \
    GTEST_SKIP() << "needs root (as root these calls would succeed)"; \
  }

TEST(SeccompWorker, FilterModeInStatus) {
  EXPECT_EQ(under_worker([] { return proc_status_field(0, "Seccomp"); }), "2");
}

TEST(SeccompWorker, SetuidToSelfRefused) {
  EXPECT_EQ(under_worker([] { return outcome_of(setuid(getuid())); }), "EPERM");
}

TEST(SeccompWorker, SetIdFamilyRefused) {
  REQUIRE_ROOT();
  EXPECT_EQ(under_worker([] {
              return outcome_of(setresuid(61001, 61001, 61001)) + " " +
                     outcome_of(setresgid(61001, 61001, 61001)) + " " +
                     outcome_of(setgid(0)) + " " + outcome_of(setreuid(0, 0)) + " " +
                     outcome_of(syscall(SYS_setfsuid, 61001)) + " " +
                     outcome_of(getuid() == 0 && proc_status_field(0, "Uid") ==
                                                     "0\t0\t0\t0"
                                    ? 0
                                    : -1);
            }),
            "EPERM EPERM EPERM EPERM EPERM ok");
}

TEST(SeccompWorker, SetgroupsAndCapsetRefused) {
  EXPECT_EQ(under_worker([] {
              gid_t g = getgid();
              return outcome_of(setgroups(1, &g)) + " " +
                     outcome_of(syscall(SYS_capset, nullptr, nullptr));
            }),
            "EPERM EPERM");
}

TEST(SeccompWorker, PtraceRefused) {
  EXPECT_EQ(under_worker([] { return outcome_of(ptrace(PTRACE_TRACEME, 0, nullptr, nullptr)); }),
            "EPERM");
}

TEST(SeccompWorker, ProcessVmReadvRefused) {
  EXPECT_EQ(under_worker([] {
              return outcome_of(syscall(SYS_process_vm_readv, getppid(), nullptr, 0, nullptr, 0, 0));
            }),
            "EPERM");
}

TEST(SeccompWorker, UnshareRefused) {
  EXPECT_EQ(under_worker([] {
              return outcome_of(unshare(CLONE_NEWUSER)) + " " + outcome_of(unshare(CLONE_NEWNS));
            }),
            "EPERM EPERM");
}

TEST(SeccompWorker, MountAndChrootRefused) {
  REQUIRE_ROOT();
  EXPECT_EQ(under_worker([] {
              return outcome_of(mount("none", "/mnt", "tmpfs", 0, nullptr)) + " " +
                     outcome_of(chroot("/")) + " " + outcome_of(umount2("/mnt", 0));
            }),
            "EPERM EPERM EPERM");
}

TEST(SeccompWorker, KeyctlAndBpfRefused) {
  EXPECT_EQ(under_worker([] {
              return outcome_of(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID,
                                        KEY_SPEC_SESSION_KEYRING, 0)) +
                     " " + outcome_of(syscall(SYS_bpf, 0, nullptr, 0)) + " " +
                     outcome_of(syscall(SYS_add_key, "user", "k", "v", 1,
                                        KEY_SPEC_SESSION_KEYRING));
            }),
            "EPERM EPERM EPERM");
}

TEST(SeccompWorker, ModulesAndRebootRefused) {
  REQUIRE_ROOT();
  EXPECT_EQ(under_worker([] {
              return outcome_of(syscall(SYS_delete_module, "no_such_module", 0)) + " " +
                     outcome_of(syscall(SYS_reboot, 0, 0, 0, nullptr));
            }),
            "EPERM EPERM");
}

TEST(SeccompWorker, IoUringAndUserfaultfdRefused) {
  EXPECT_EQ(under_worker([] {
              return outcome_of(syscall(SYS_io_uring_setup, 1, nullptr)) + " " +
                     outcome_of(syscall(SYS_userfaultfd, 0)) + " " +
                     outcome_of(syscall(SYS_perf_event_open, nullptr, 0, -1, -1, 0));
            }),
            "EPERM EPERM EPERM");
}

TEST(SeccompWorker, CloneWithNamespaceFlagsRefused) {
  EXPECT_EQ(under_worker([] {
              return raw_clone(CLONE_NEWUSER) + " " + raw_clone(CLONE_NEWNET) + " " +
                     raw_clone(CLONE_NEWPID | CLONE_NEWNS);
            }),
            "EPERM EPERM EPERM");
}

TEST(SeccompWorker, Clone3AnswersEnosys) {
  EXPECT_EQ(under_worker([] { return outcome_of(syscall(SYS_clone3, nullptr, 0)); }), "ENOSYS");
}

TEST(SeccompWorker, ForkStillWorks) {
  EXPECT_EQ(under_worker([] { return fork_and_wait() + " " + raw_clone(0); }), "ok ok");
}

TEST(SeccompWorker, ThreadsStillWork) {
  EXPECT_EQ(under_worker(run_thread), "ok");
}

TEST(SeccompWorker, PersonalityQueryAllowedChangesRefused) {
  EXPECT_EQ(under_worker([] {
              return outcome_of(personality(0xffffffff)) + " " +
                     outcome_of(personality(PER_LINUX)) + " " +
                     outcome_of(personality(ADDR_NO_RANDOMIZE)) + " " +
                     outcome_of(personality(READ_IMPLIES_EXEC));
            }),
            "ok ok EPERM EPERM");
}

TEST(SeccompWorker, TiocstiRefused) {
  EXPECT_EQ(under_worker([] {
              char c = 'x';
              return outcome_of(ioctl(0, TIOCSTI, &c));
            }),
            "EPERM");
}

TEST(SeccompWorker, WritingFilesStillWorks) {
  EXPECT_EQ(under_worker([] {
              char path[] = "/tmp/itkd_seccomp_XXXXXX";
              int fd = mkstemp(path);
              std::string r = outcome_of(fd);
              if (fd >= 0) {
                r += " " + outcome_of(write(fd, "x", 1)) + " " + outcome_of(unlink(path));
                close(fd);
              }
              return r;
            }),
            "ok ok ok");
}

#if defined(__x86_64__)
TEST(SeccompWorker, X32SyscallsKillTheProcess) {
  auto child = run_in_child([] {
    auto r = install_seccomp(SeccompProfile::Worker);
    if (!r) return r.error().message;
    syscall(0x40000000 | SYS_getpid);
    return std::string("x32 syscall returned");
  });
  ASSERT_TRUE(WIFSIGNALED(child.status)) << child.output;
  EXPECT_EQ(WTERMSIG(child.status), SIGSYS);
}
#endif

// The zygote compiles the worker filter once; each worker it forks only loads it. The
// loaded program must refuse what the installed one does, in every process that loads it.
TEST(SeccompWorker, CompiledOnceLoadedInEachChild) {
  auto program = compile_seccomp(SeccompProfile::Worker);
  ASSERT_TRUE(program.ok()) << program.error().message;
  ASSERT_FALSE(program->code.empty());
  for (int i = 0; i < 2; ++i) {
    auto child = run_in_child([&] {
      auto r = load_seccomp(*program);
      if (!r) return "load failed: " + r.error().message;
      return outcome_of(syscall(SYS_setresuid, 0, 0, 0)) + " " + outcome_of(syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0)) +
             " " + outcome_of(getpid() > 0 ? 0 : -1) + " " + proc_status_field(0, "Seccomp");
    });
    EXPECT_EQ(child.output, "EPERM EPERM ok 2") << "child " << i;
  }
  // A front-profile program is a different, longer one (it adds execve, fork, opens).
  auto front = compile_seccomp(SeccompProfile::Front);
  ASSERT_TRUE(front.ok());
  EXPECT_GT(front->code.size(), program->code.size());
}

TEST(SeccompFront, ForkRefused) {
  EXPECT_EQ(under_front([] { return fork_and_wait() + " " + raw_clone(0); }), "EPERM EPERM");
}

TEST(SeccompFront, ExecRefused) {
  EXPECT_EQ(under_front([] {
              char* const argv[] = {const_cast<char*>("/bin/true"), nullptr};
              return outcome_of(execve("/bin/true", argv, nullptr));
            }),
            "EPERM");
}

TEST(SeccompFront, OpenForWritingRefused) {
  EXPECT_EQ(under_front([] {
              return outcome_of(open("/tmp/itkd_front_x", O_WRONLY | O_CREAT, 0600)) + " " +
                     outcome_of(open("/tmp", O_RDWR)) + " " +
                     outcome_of(openat(AT_FDCWD, "/tmp/itkd_front_x", O_CREAT | O_RDONLY, 0600)) +
                     " " + outcome_of(open("/dev/null", O_WRONLY | O_APPEND)) + " " +
                     outcome_of(syscall(SYS_open, "/etc/hostname", O_TRUNC)) + " " +
                     outcome_of(creat("/tmp/itkd_front_x", 0600));
            }),
            "EPERM EPERM EPERM EPERM EPERM EPERM");
  EXPECT_NE(access("/tmp/itkd_front_x", F_OK), 0);
}

TEST(SeccompFront, OpenForReadingWorks) {
  EXPECT_EQ(under_front([] {
              int fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
              std::string r = outcome_of(fd);
              if (fd >= 0) close(fd);
              int fd2 = static_cast<int>(syscall(SYS_open, "/etc/hostname", O_RDONLY));
              r += " " + outcome_of(fd2);
              if (fd2 >= 0) close(fd2);
              return r;
            }),
            "ok ok");
}

TEST(SeccompFront, Openat2AnswersEnosys) {
  EXPECT_EQ(under_front([] { return outcome_of(syscall(SYS_openat2, AT_FDCWD, "/", nullptr, 0)); }),
            "ENOSYS");
}

TEST(SeccompFront, FileChangesRefused) {
  EXPECT_EQ(under_front([] {
              return outcome_of(mkdir("/tmp/itkd_front_dir", 0700)) + " " +
                     outcome_of(unlink("/tmp/itkd_no_such")) + " " +
                     outcome_of(rename("/tmp/a", "/tmp/b")) + " " +
                     outcome_of(chmod("/tmp", 0777)) + " " +
                     outcome_of(symlink("/", "/tmp/itkd_link")) + " " +
                     outcome_of(truncate("/etc/hostname", 0));
            }),
            "EPERM EPERM EPERM EPERM EPERM EPERM");
}

TEST(SeccompFront, ThreadsStillWork) {
  EXPECT_EQ(under_front(run_thread), "ok");
}

TEST(SeccompFront, InheritsWorkerRules) {
  EXPECT_EQ(under_front([] {
              return outcome_of(setuid(getuid())) + " " +
                     outcome_of(ptrace(PTRACE_TRACEME, 0, nullptr, nullptr));
            }),
            "EPERM EPERM");
}

}  // namespace
}  // namespace itkd
