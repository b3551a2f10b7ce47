#include "sandbox/filesystem_confinement.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "common/unique_fd.h"

namespace itkd {
namespace {

// The kernel's ABI (include/uapi/linux/landlock.h), spelled out here: Debian 12's
// headers stop at ABI 2 and lack the `scoped` field.
struct RulesetAttr {
  uint64_t handled_access_fs = 0;
  uint64_t handled_access_net = 0;
  uint64_t scoped = 0;
};
struct __attribute__((packed)) PathBeneathAttr {
  uint64_t allowed_access = 0;
  int32_t parent_fd = -1;
};
constexpr unsigned kCreateRulesetVersion = 1U << 0;
constexpr int kRulePathBeneath = 1;

constexpr uint64_t kExecute = 1ULL << 0;
constexpr uint64_t kWriteFile = 1ULL << 1;
constexpr uint64_t kReadFile = 1ULL << 2;
constexpr uint64_t kReadDir = 1ULL << 3;
constexpr uint64_t kAbi1All = (1ULL << 13) - 1;  // EXECUTE .. MAKE_SYM
constexpr uint64_t kRefer = 1ULL << 13;          // ABI 2
constexpr uint64_t kTruncate = 1ULL << 14;       // ABI 3
// IOCTL_DEV (ABI 5) is left unhandled: terminal ioctls on /dev/null would fail with
// EACCES instead of ENOTTY, and device ioctls don't cross tenants.
constexpr uint64_t kScopeAbstractUnixSocket = 1ULL << 0;  // ABI 6
constexpr uint64_t kScopeSignal = 1ULL << 1;              // ABI 6

// Rights the kernel accepts on a rule for a file that is not a directory.
constexpr uint64_t kFileRights = kExecute | kWriteFile | kReadFile | kTruncate;

uint64_t handled_rights(int abi) {
  uint64_t rights = kAbi1All;
  if (abi >= 2) rights |= kRefer;
  if (abi >= 3) rights |= kTruncate;
  return rights;
}

}  // namespace

int landlock_abi() {
  const long v = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, kCreateRulesetVersion);
  return v > 0 ? static_cast<int>(v) : 0;
}

Result<ConfinementReport> confine_filesystem(std::span<const PathGrant> grants) {
  ConfinementReport report;
  report.abi = landlock_abi();
  if (report.abi == 0) return report;
  const uint64_t handled = handled_rights(report.abi);
  RulesetAttr attr;
  attr.handled_access_fs = handled;
  if (report.abi >= 6) attr.scoped = kScopeAbstractUnixSocket | kScopeSignal;
  UniqueFd ruleset(static_cast<int>(::syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0)));
  if (!ruleset) return Error{errno_message("landlock_create_ruleset")};
  for (const PathGrant& g : grants) {
    UniqueFd fd(::open(g.path.c_str(), O_PATH | O_CLOEXEC));
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) != 0) {
      report.missing.push_back(g.path);
      continue;
    }
    PathBeneathAttr rule;
    rule.allowed_access = g.access == PathAccess::ReadWrite ? handled : (kExecute | kReadFile | kReadDir);
    if (!S_ISDIR(st.st_mode)) rule.allowed_access &= kFileRights;
    rule.parent_fd = fd.get();
    // A path Landlock won't take (a file on a pseudo filesystem) is left out, not fatal:
    // leaving it out grants less, and one odd path mustn't keep the whole pool down.
    if (::syscall(SYS_landlock_add_rule, ruleset.get(), kRulePathBeneath, &rule, 0) != 0) {
      report.missing.push_back(g.path + " (" + errno_message("landlock_add_rule") + ")");
      continue;
    }
    ++report.granted;
  }
  if (::syscall(SYS_landlock_restrict_self, ruleset.get(), 0) != 0)
    return Error{errno_message("landlock_restrict_self")};
  return report;
}

}  // namespace itkd
