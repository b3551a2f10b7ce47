// The socket side of the FastCGI client: non-blocking connects to "unix:/path" or
// "host:port" backends, and the worker's small pool of idle FCGI_KEEP_CONN connections,
// keyed by backend address, reused only after a clean END_REQUEST.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"
#include "config/server_config.h"

namespace itkd {

struct BackendConnect {
  UniqueFd fd;
  bool in_progress = false;  // wait for EPOLLOUT, then check finish_connect()
};

// Starts a non-blocking connect. Errors name the backend and the reason, e.g.
// "FastCGI backend unix:/run/php/x.sock: Connection refused".
Result<BackendConnect> connect_backend(const FcgiBackend& backend);
// After EPOLLOUT on an in-progress connect: the result (SO_ERROR).
Result<void> finish_connect(int fd, const FcgiBackend& backend);

// Idle keep-alive connections of one worker process (the worker is single-threaded).
class BackendPool {
 public:
  static constexpr uint64_t kMaxIdleMs = 30'000;

  // The worker's pool.
  static BackendPool& instance();

  // An idle connection still open on the other side, or an invalid fd.
  UniqueFd take(const std::string& key, uint64_t now_ms);
  // Keeps at most max_idle idle connections for the key (FcgiBackend::max_idle).
  void put(const std::string& key, UniqueFd fd, uint64_t now_ms, size_t max_idle);
  size_t idle_count(const std::string& key) const;
  void clear() { idle_.clear(); }

 private:
  struct Idle {
    UniqueFd fd;
    uint64_t since_ms = 0;
  };
  std::map<std::string, std::vector<Idle>> idle_;
};

}  // namespace itkd
