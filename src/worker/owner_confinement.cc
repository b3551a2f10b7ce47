#include "worker/owner_confinement.h"

#include <sys/stat.h>

#include <vector>

#include "config/owner_paths.h"
#include "sandbox/filesystem_confinement.h"

namespace itkd {

Result<OwnerConfinementOutcome> confine_owner(const ServerConfig& config, const Pool& pool, uid_t owner) {
  OwnerConfinementOutcome outcome;
  if (!pool.confined) return outcome;
  std::vector<PathGrant> grants;
  for (const OwnerPathGrant& g : owner_path_grants(config, pool)) {
    if (g.only_if_owned) {
      // www-data's home is /var/www, where every site may live: a home counts only if
      // it is the owner's own.
      struct stat st {};
      if (::stat(g.path.c_str(), &st) != 0 || st.st_uid != owner) continue;
    }
    grants.push_back(PathGrant{g.path, g.writable ? PathAccess::ReadWrite : PathAccess::ReadOnly});
  }
  auto report = confine_filesystem(grants);
  if (!report) return Error{"OwnerConfinement: " + report.error().message};
  outcome.abi = report->abi;
  outcome.granted = report->granted;
  for (const std::string& m : report->missing) outcome.missing += (outcome.missing.empty() ? "" : " ") + m;
  return outcome;
}

}  // namespace itkd
