// A worker of one owner's pool: started by the master as root (forked by the zygote, or
// exec'd on its own), it drops to the owner's uid/gid for good before touching anything
// of the tenant's, then serves many connections handed to it by the fronts, until it has
// been idle for PoolIdleTimeout.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>

#include "config/server_config.h"
#include "worker/static/mime_types.h"

namespace itkd {

struct WorkerOptions {
  unsigned pool = 0;
  uint32_t worker_id = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  unsigned fronts = 1;
};

// An exec'd worker: parses its snapshot (other owners' vhosts only as far as routing
// needs), loads MIME types, then serves.
int run_worker(const WorkerOptions& options);
// A worker the zygote forked: configuration and MIME types were loaded before the fork.
int run_worker(ServerConfig config, std::optional<MimeTypes> mime, const WorkerOptions& options);

}  // namespace itkd
