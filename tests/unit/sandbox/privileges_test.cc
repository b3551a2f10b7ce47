#include "sandbox/privileges.h"

#include <grp.h>
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "child_process.h"

namespace itkd {
namespace {

using test::outcome_of;
using test::run_in_child;

constexpr std::string_view kNoCaps = "0000000000000000";

Identity tenant() { return Identity{61001, 61001, {61001, 61002}, "tenant", {}}; }

#define REQUIRE_ROOT() \
  if (geteuid() != 0) {            \
    GTEST_SKIP() << "needs root"; \
  }

// Runs body after dropping to the tenant in a child; a failed drop is the report.
std::string after_drop(const Identity& identity, const std::function<std::string()>& body) {
  return run_in_child([&] {
           auto r = drop_privileges(identity);
           if (!r) return "drop failed: " + r.error().message;
           return body();
         })
      .output;
}

TEST(ProcStatusField, ReadsOwnUid) {
  std::string uid = std::to_string(getuid());
  EXPECT_EQ(proc_status_field(getpid(), "Uid").substr(0, uid.size() + 1), uid + "\t");
}

TEST(ProcStatusField, ZeroMeansSelf) {
  EXPECT_EQ(proc_status_field(0, "Pid"), std::to_string(getpid()));
}

TEST(ProcStatusField, AbsentFieldIsEmpty) {
  EXPECT_EQ(proc_status_field(getpid(), "NoSuchField"), "");
  // A prefix of a real field name is not that field.
  EXPECT_EQ(proc_status_field(getpid(), "Ui"), "");
}

TEST(ProcStatusField, UnknownPidIsEmpty) {
  EXPECT_EQ(proc_status_field(0x3fffffff, "Uid"), "");
}

TEST(DropPrivileges, RefusesUidZero) {
  auto r = drop_privileges(Identity{0, 61001, {}, "root", {}});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("root"), std::string::npos) << r.error().message;
  // Nothing was changed in this (root) test process.
  if (geteuid() == 0) {
    EXPECT_NE(proc_status_field(0, "CapEff"), kNoCaps);
  }
}

TEST(DropPrivileges, RefusesGidZero) {
  auto r = drop_privileges(Identity{61001, 0, {}, "", {}});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("#61001"), std::string::npos) << r.error().message;
}

TEST(DropPrivileges, RequiresRoot) {
  REQUIRE_ROOT();
  EXPECT_EQ(after_drop(tenant(),
                       [] {
                         auto again = drop_privileges(Identity{61003, 61003, {}, "other", {}});
                         if (again) return std::string("second drop succeeded");
                         return again.error().message;
                       }),
            "cannot switch to user other: not running as root (euid 61001); start itkd as root");
}

TEST(DropPrivileges, SetsRealEffectiveSavedAndFsUid) {
  REQUIRE_ROOT();
  EXPECT_EQ(after_drop(tenant(), [] { return proc_status_field(0, "Uid"); }),
            "61001\t61001\t61001\t61001");
}

TEST(DropPrivileges, SetsAllGids) {
  REQUIRE_ROOT();
  EXPECT_EQ(after_drop(tenant(), [] { return proc_status_field(0, "Gid"); }),
            "61001\t61001\t61001\t61001");
}

TEST(DropPrivileges, SetsSupplementaryGroups) {
  REQUIRE_ROOT();
  EXPECT_EQ(after_drop(tenant(), [] { return proc_status_field(0, "Groups"); }),
            "61001 61002");
}

TEST(DropPrivileges, EmptyGroupsMeansPrimaryGroupOnly) {
  REQUIRE_ROOT();
  EXPECT_EQ(after_drop(Identity{61001, 61005, {}, "", {}},
                       [] { return proc_status_field(0, "Groups"); }),
            "61005");
}

TEST(DropPrivileges, ClearsEveryCapabilitySet) {
  REQUIRE_ROOT();
  EXPECT_EQ(after_drop(tenant(),
                       [] {
                         std::string all;
                         for (const char* f : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
                           all += f + std::string("=") + proc_status_field(0, f) + " ";
                         }
                         return all;
                       }),
            "CapInh=0000000000000000 CapPrm=0000000000000000 CapEff=0000000000000000 "
            "CapBnd=0000000000000000 CapAmb=0000000000000000 ");
}

TEST(DropPrivileges, RootCannotBeRegained) {
  REQUIRE_ROOT();
  EXPECT_EQ(after_drop(tenant(),
                       [] {
                         return outcome_of(setuid(0)) + " " + outcome_of(seteuid(0)) + " " +
                                outcome_of(setresuid(0, 0, 0)) + " " + outcome_of(setgid(0)) +
                                " " + outcome_of(setgroups(0, nullptr));
                       }),
            "EPERM EPERM EPERM EPERM EPERM");
}

TEST(DropPrivileges, KeepCapsIsOff) {
  REQUIRE_ROOT();
  EXPECT_EQ(after_drop(tenant(), [] { return std::to_string(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0)); }),
            "0");
}

TEST(DropPrivileges, CannotReadRootOnlyFiles) {
  REQUIRE_ROOT();
  EXPECT_EQ(after_drop(tenant(), [] { return outcome_of(access("/etc/shadow", R_OK)); }),
            "EACCES");
}

TEST(HardenProcess, SetsNoNewPrivsAndNotDumpable) {
  auto child = run_in_child([] {
    auto r = harden_process();
    if (!r) return r.error().message;
    return proc_status_field(0, "NoNewPrivs") + " " +
           std::to_string(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
  });
  EXPECT_EQ(child.output, "1 0");
}

TEST(HardenProcess, WorksAfterDrop) {
  REQUIRE_ROOT();
  EXPECT_EQ(after_drop(tenant(),
                       [] {
                         auto r = harden_process();
                         return r ? proc_status_field(0, "NoNewPrivs") : r.error().message;
                       }),
            "1");
}

}  // namespace
}  // namespace itkd
