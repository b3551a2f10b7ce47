// The fixed fd numbers every child is exec'd with (OpenSSH re-exec style): nothing else
// is open in a child, and both sides agree on what each number means.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/config_parser.h"
#include "config/config_source.h"
#include "config/server_config.h"

namespace itkd {

inline constexpr int kSnapshotFd = 3;   // sealed memfd: the ConfigSnapshot
inline constexpr int kControlFd = 4;    // channel to the master
inline constexpr int kErrorLogFd = 5;   // the global ErrorLog (or /dev/null... stderr copy)
inline constexpr int kFirstExtraFd = 6; // front: listeners; worker: pool_log_paths()

// The log files a pool's worker gets, in fd order from kFirstExtraFd: each distinct
// vhost ErrorLog and CustomLog path of the pool's vhosts, in vhost order.
std::vector<std::string> pool_log_paths(const ServerConfig& config, size_t pool);
// Every pool's log paths, sorted and unique: the zygote's fds from kFirstExtraFd, from
// which each worker it forks keeps only its own pool's.
std::vector<std::string> all_pool_log_paths(const ServerConfig& config);

// A worker's command line (`itkd --role=worker --pool=N ...`): what the master execs, and
// what the zygote writes over a forked worker's, so both kinds look the same in ps.
std::vector<std::string> worker_command_line(unsigned pool, uint32_t worker_id, uint32_t uid, uint32_t gid,
                                             unsigned fronts);

// Writes the snapshot to a sealed memfd for the children.
Result<int> snapshot_to_memfd(const ConfigSnapshot& snapshot);
// Reads and parses the configuration a child was given at kSnapshotFd. A worker passes
// its identity: other owners' vhosts are then parsed only as far as routing needs.
Result<ServerConfig> load_config_from_snapshot(int fd,
                                               std::optional<ParseOptions::Identity> full_vhosts_of = {});

}  // namespace itkd
