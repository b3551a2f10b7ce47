// A worker of one owner's pool: started by the master as root (forked by the zygote, or
// exec'd on its own), it drops to the owner's uid/gid for good before touching anything
// of the tenant's, then serves many connections handed to it by the fronts, until it has
// been idle for PoolIdleTimeout.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>

#include <memory>

#include "config/server_config.h"
#include "config/vhost_router.h"
#include "sandbox/privileges.h"
#include "worker/static/mime_types.h"

namespace itkd {

struct WorkerOptions {
  unsigned pool = 0;
  uint32_t worker_id = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  unsigned fronts = 1;
};

// The configuration as a worker uses it: parsed, with its router built. The router
// points into the config, so both live at one heap address for the worker's lifetime.
struct WorkerConfig {
  explicit WorkerConfig(ServerConfig parsed) : config(std::move(parsed)), router(config) {}
  WorkerConfig(const WorkerConfig&) = delete;
  WorkerConfig& operator=(const WorkerConfig&) = delete;
  ServerConfig config;
  VhostRouter router;
};

// An exec'd worker: parses its snapshot (other owners' vhosts only as far as routing
// needs), loads MIME types, then serves.
int run_worker(const WorkerOptions& options);
// What the zygote prepares once, before forking, for every worker: the configuration and
// its router, MIME types and the compiled seccomp filter, shared copy-on-write instead of
// built again in each worker.
struct WorkerPreload {
  std::unique_ptr<const WorkerConfig> config;
  std::optional<MimeTypes> mime;
  std::optional<SeccompProgram> seccomp;
};
// A worker the zygote forked.
int run_worker(WorkerPreload preload, const WorkerOptions& options);

}  // namespace itkd
