#include "ipc/process_layout.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>

#include "common/unique_fd.h"
#include "config/config_parser.h"

namespace itkd {

std::vector<std::string> pool_log_paths(const ServerConfig& config, size_t pool) {
  std::vector<std::string> paths;
  auto add = [&](const std::string& p) {
    if (!p.empty() && std::find(paths.begin(), paths.end(), p) == paths.end()) paths.push_back(p);
  };
  for (size_t v : config.pools.at(pool).vhosts) {
    const VirtualHost& vh = config.vhosts[v];
    add(vh.error_log);
    for (const auto& log : vh.custom_logs) add(log.path);
  }
  return paths;
}

std::vector<std::string> all_pool_log_paths(const ServerConfig& config) {
  std::vector<std::string> all;
  for (size_t p = 0; p < config.pools.size(); ++p)
    for (auto& path : pool_log_paths(config, p)) all.push_back(std::move(path));
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  return all;
}

std::vector<std::string> worker_command_line(unsigned pool, uint32_t worker_id, uint32_t uid, uint32_t gid,
                                             unsigned fronts) {
  return {"itkd",
          "--role=worker",
          "--pool=" + std::to_string(pool),
          "--worker-id=" + std::to_string(worker_id),
          "--uid=" + std::to_string(uid),
          "--gid=" + std::to_string(gid),
          "--fronts=" + std::to_string(fronts)};
}

Result<int> snapshot_to_memfd(const ConfigSnapshot& snapshot) {
  int fd = ::memfd_create("itkd-config", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return Error{errno_message("memfd_create")};
  UniqueFd owner(fd);
  std::string bytes = snapshot.serialize();
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) return Error{errno_message("write(config memfd)")};
    done += static_cast<size_t>(n);
  }
  // Sealed: a child (or a compromised one) can't change what its siblings will read.
  if (::fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) != 0)
    return Error{errno_message("fcntl(F_ADD_SEALS)")};
  return owner.release();
}

Result<ServerConfig> load_config_from_snapshot(int fd, std::optional<ParseOptions::Identity> full_vhosts_of) {
  std::string bytes;
  char buf[65536];
  off_t offset = 0;
  for (;;) {
    ssize_t n = ::pread(fd, buf, sizeof buf, offset);
    if (n < 0) return Error{errno_message("read(config snapshot)")};
    if (n == 0) break;
    bytes.append(buf, static_cast<size_t>(n));
    offset += n;
  }
  auto snapshot = ConfigSnapshot::deserialize(bytes);
  if (!snapshot) return Error{"bad config snapshot: " + snapshot.error().message};
  SnapshotSource source(*snapshot);
  ParseOptions options;
  options.defines = snapshot->defines;
  options.full_vhosts_of = full_vhosts_of;
  return parse_config(source, snapshot->main_file, options);
}

}  // namespace itkd
