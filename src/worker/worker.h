// A worker of one owner's pool: forked by the master as root, it drops to the owner's
// uid/gid for good before touching anything of the tenant's, then serves many
// connections handed to it by the fronts, until it has been idle for PoolIdleTimeout.
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace itkd {

struct WorkerOptions {
  unsigned pool = 0;
  uint32_t worker_id = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  unsigned fronts = 1;
};

int run_worker(const WorkerOptions& options);

}  // namespace itkd
