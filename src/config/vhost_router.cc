#include "config/vhost_router.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "common/socket_address.h"

namespace itkd {

namespace {

std::string group_key(const std::string& ip, uint16_t port) {
  return ip + "|" + std::to_string(port);
}

// "_default_" and "*" are the same in Apache 2.4: used when no IP-specific vhost matches.
std::string address_host(const VhostAddress& a) { return a.host == "_default_" ? "*" : a.host; }

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

// IPv4-mapped IPv6 addresses are their IPv4 address: a dual-stack socket reports
// 127.0.0.1 as ::ffff:127.0.0.1, and the vhost says 127.0.0.1.
std::string canonical_from_v6(const in6_addr& a) {
  char buf[INET6_ADDRSTRLEN];
  if (IN6_IS_ADDR_V4MAPPED(&a)) return inet_ntop(AF_INET, &a.s6_addr[12], buf, sizeof buf);
  return inet_ntop(AF_INET6, &a, buf, sizeof buf);
}

}  // namespace

bool host_matches_pattern(std::string_view pattern, std::string_view host) {
  // Greedy wildcard match with one backtrack point: linear for the patterns hosts use.
  size_t p = 0, h = 0, star = std::string_view::npos, mark = 0;
  while (h < host.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || lower(pattern[p]) == lower(host[h]))) {
      ++p;
      ++h;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = h;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      h = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

VhostRouter::VhostRouter(const ServerConfig& config) : config_(config) {
  std::set<uint16_t> ports{0};
  for (const auto& l : config.listeners) ports.insert(l.port);
  for (size_t i = 1; i < config.vhosts.size(); ++i)
    for (const auto& a : config.vhosts[i].addresses) ports.insert(a.port);

  auto add = [&](const std::string& ip, uint16_t port, size_t vhost) {
    auto [it, fresh] = group_index_.try_emplace(group_key(ip, port), groups_.size());
    if (fresh) groups_.emplace_back();
    Group& g = groups_[it->second];
    if (!g.vhosts.empty() && g.vhosts.back() == vhost) return;  // two addresses, same group
    size_t pos = g.vhosts.size();
    g.vhosts.push_back(vhost);
    const VirtualHost& v = config_.vhosts[vhost];
    // ServerName is compared literally; only ServerAlias takes wildcards (Apache).
    if (!v.server_name.empty()) g.exact.try_emplace(v.server_name, pos);
    for (const auto& alias : v.server_aliases) {
      if (alias.find_first_of("*?") != std::string::npos) g.wildcards.emplace_back(pos, alias);
      else g.exact.try_emplace(alias, pos);
    }
  };
  for (size_t i = 1; i < config.vhosts.size(); ++i) {
    for (const auto& a : config.vhosts[i].addresses) {
      if (a.port != 0) {
        add(address_host(a), a.port, i);
      } else {
        // An any-port vhost belongs to every port's group, and to the "other ports" one (0).
        for (uint16_t p : ports) add(address_host(a), p, i);
      }
    }
  }
}

const VhostRouter::Group* VhostRouter::find_group(const std::string& ip, uint16_t port) const {
  auto it = group_index_.find(group_key(ip, port));
  if (it == group_index_.end()) it = group_index_.find(group_key(ip, 0));
  return it == group_index_.end() ? nullptr : &groups_[it->second];
}

size_t VhostRouter::route_canonical(const std::string& ip, uint16_t port,
                                    std::string_view host) const {
  const Group* g = ip.empty() ? nullptr : find_group(ip, port);
  if (!g) g = find_group("*", port);
  if (!g) return 0;  // no vhost for this address: the main server
  if (host.empty()) return g->vhosts.front();
  std::string name(host);
  for (char& c : name) c = lower(c);
  if (!name.empty() && name.back() == '.') name.pop_back();
  auto exact = g->exact.find(name);
  size_t best = exact == g->exact.end() ? SIZE_MAX : exact->second;
  for (const auto& [pos, pattern] : g->wildcards) {
    if (pos >= best) break;
    if (host_matches_pattern(pattern, name)) return g->vhosts[pos];
  }
  return best != SIZE_MAX ? g->vhosts[best] : g->vhosts.front();
}

size_t VhostRouter::route(const sockaddr_storage& local, std::string_view host) const {
  if (local.ss_family == AF_INET) {
    // address_ip, not inet_ntop: glibc prints IPv4 with sprintf, once per connection here.
    const auto& sin = reinterpret_cast<const sockaddr_in&>(local);
    return route_canonical(address_ip(local), ntohs(sin.sin_port), host);
  }
  if (local.ss_family == AF_INET6) {
    const auto& sin6 = reinterpret_cast<const sockaddr_in6&>(local);
    return route_canonical(canonical_from_v6(sin6.sin6_addr), ntohs(sin6.sin6_port), host);
  }
  return route_canonical("", 0, host);
}

size_t VhostRouter::route(std::string_view local_ip, uint16_t local_port,
                          std::string_view host) const {
  std::string ip(local_ip);
  char buf[INET6_ADDRSTRLEN];
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, ip.c_str(), &v4) == 1) ip = inet_ntop(AF_INET, &v4, buf, sizeof buf);
  else if (inet_pton(AF_INET6, ip.c_str(), &v6) == 1) ip = canonical_from_v6(v6);
  return route_canonical(ip, local_port, host);
}

}  // namespace itkd
