// Picks the vhost for a connection exactly as Apache's name-based virtual hosting does:
// the vhosts whose <VirtualHost> address matches the connection's local address and port
// (an exact IP match beats "*"), then ServerName / ServerAlias (wildcards * and ?) against
// the normalized Host, first matching vhost in file order; if none matches the name, the
// first vhost for that address is the default; if no vhost has that address, the main server.
#pragma once

#include <sys/socket.h>

#include <string_view>
#include <vector>

#include "config/server_config.h"

namespace itkd {

class VhostRouter {
 public:
  explicit VhostRouter(const ServerConfig& config);

  // local: the connection's local address (getsockname). host: normalized Host
  // (lowercase, no port, no trailing dot; empty if none). Returns an index into config.vhosts.
  size_t route(const sockaddr_storage& local, std::string_view host) const;

  // Same, for a local address given as text ("127.0.0.1", "::1") and port.
  size_t route(std::string_view local_ip, uint16_t local_port, std::string_view host) const;

 private:
  const ServerConfig& config_;
};

// Case-insensitive wildcard match of an already-lowercased pattern (* and ?).
bool host_matches_pattern(std::string_view pattern, std::string_view host);

}  // namespace itkd
