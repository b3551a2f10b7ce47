// The worker's last step into its sandbox: Landlock around the owner's paths
// (config/owner_paths.h), after the TLS keys are read and before any request.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/result.h"
#include "config/server_config.h"

namespace itkd {

struct OwnerConfinementOutcome {
  int abi = 0;           // 0: not confined (OwnerConfinement Off, or no Landlock in the kernel)
  size_t granted = 0;
  std::string missing;   // granted paths that don't exist, for a debug line
};

// Runs as the owner (uid `owner`): paths are resolved with its rights, and a home
// directory is granted only if `owner` owns it. An error means the worker must not serve.
Result<OwnerConfinementOutcome> confine_owner(const ServerConfig& config, const Pool& pool, uid_t owner);

}  // namespace itkd
