// Picks the vhost for a connection exactly as Apache's name-based virtual hosting does:
// the vhosts whose <VirtualHost> address matches the connection's local address and port
// (an exact IP match beats "*"), then ServerName / ServerAlias (wildcards * and ?) against
// the normalized Host, first matching vhost in file order; if none matches the name, the
// first vhost for that address is the default; if no vhost has that address, the main server.
#pragma once

#include <sys/socket.h>

#include <string>
#include <string_view>
#include <unordered_map>
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
  // The vhosts sharing one (address, port), in file order, with their names indexed:
  // exact names map to the first position that has them; wildcard aliases are scanned
  // in order only up to that position, which keeps Apache's first-match-in-file-order.
  struct Group {
    std::vector<size_t> vhosts;
    std::unordered_map<std::string, size_t> exact;           // name -> position
    std::vector<std::pair<size_t, std::string>> wildcards;   // (position, pattern)
  };
  const Group* find_group(const std::string& ip, uint16_t port) const;
  size_t route_canonical(const std::string& ip, uint16_t port, std::string_view host) const;

  const ServerConfig& config_;
  std::vector<Group> groups_;
  std::unordered_map<std::string, size_t> group_index_;  // "ip|port" -> groups_ index
};

// Case-insensitive wildcard match of an already-lowercased pattern (* and ?).
bool host_matches_pattern(std::string_view pattern, std::string_view host);

}  // namespace itkd
