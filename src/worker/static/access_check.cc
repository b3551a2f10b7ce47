#include "worker/static/access_check.h"

#include <fnmatch.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

#include "worker/static/static_handler.h"

namespace itkd {

namespace {

std::array<uint8_t, 16> ip_bytes(const sockaddr_storage& a, bool& ok) {
  std::array<uint8_t, 16> out{};
  ok = true;
  if (a.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(a);
    out[10] = out[11] = 0xff;
    std::memcpy(out.data() + 12, &in.sin_addr, 4);
  } else if (a.ss_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(a);
    std::memcpy(out.data(), &in6.sin6_addr, 16);
  } else {
    ok = false;
  }
  return out;
}

bool in_range(const IpRange& r, const std::array<uint8_t, 16>& ip) {
  for (size_t i = 0; i < 16; ++i)
    if ((ip[i] & r.mask[i]) != r.net[i]) return false;
  return true;
}

bool in_any(const std::vector<IpRange>& ranges, const ClientAddresses& c) {
  return c.known && std::any_of(ranges.begin(), ranges.end(), [&](const IpRange& r) { return in_range(r, c.client); });
}

// mod_authz_host's `local`: the loopback networks, or the client on the server's own
// address (a request from the machine itself to its public address).
bool is_local(const ClientAddresses& c) {
  if (!c.known) return false;
  static const std::array<uint8_t, 16> v6_loopback = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  bool v4_loopback = std::all_of(c.client.begin(), c.client.begin() + 10, [](uint8_t b) { return b == 0; }) &&
                     c.client[10] == 0xff && c.client[11] == 0xff && c.client[12] == 127;
  return v4_loopback || c.client == v6_loopback || c.client == c.local;
}

bool compat_allows(const AccessCompat& c, const ClientAddresses& client) {
  bool allowed = c.allow_all || in_any(c.allow, client);
  bool denied = c.deny_all || in_any(c.deny, client);
  if (c.order == AccessCompat::Order::DenyAllow) return !denied || allowed;
  return allowed && !denied;  // Allow,Deny and Mutual-failure
}

bool path_prefix_matches(std::string_view prefix, std::string_view path) {
  if (prefix == "/") return true;
  if (path.size() < prefix.size() || path.compare(0, prefix.size(), prefix) != 0) return false;
  // Whole segments: "/admin" covers "/admin" and "/admin/x", not "/administrator".
  return prefix.back() == '/' || path.size() == prefix.size() || path[prefix.size()] == '/';
}

}  // namespace

ClientAddresses ClientAddresses::from(const sockaddr_storage& peer, const sockaddr_storage& local) {
  ClientAddresses c;
  bool peer_ok = false, local_ok = false;
  c.client = ip_bytes(peer, peer_ok);
  c.local = ip_bytes(local, local_ok);
  c.known = peer_ok;
  if (!local_ok) c.local = {};
  return c;
}

void EffectiveAccess::apply(const AccessRules& rules) {
  if (rules.require) require = rules.require.get();
  if (rules.compat) compat = rules.compat.get();
  if (rules.satisfy_any) satisfy_any = *rules.satisfy_any;
}

AuthzResult evaluate_require(const RequireNode& node, const ClientAddresses& client) {
  AuthzResult r = AuthzResult::Neutral;
  switch (node.kind) {
    case RequireNode::Kind::AllGranted: r = AuthzResult::Granted; break;
    case RequireNode::Kind::AllDenied: r = AuthzResult::Denied; break;
    case RequireNode::Kind::Ip: r = in_any(node.ranges, client) ? AuthzResult::Granted : AuthzResult::Denied; break;
    case RequireNode::Kind::Local: r = is_local(client) ? AuthzResult::Granted : AuthzResult::Denied; break;
    case RequireNode::Kind::Any:
    case RequireNode::Kind::None: {
      // Any: granted as soon as one grants; denied if none grants and one denies.
      bool denied = false;
      for (const RequireNode& c : node.children) {
        AuthzResult cr = evaluate_require(c, client);
        if (cr == AuthzResult::Granted) {
          r = AuthzResult::Granted;
          break;
        }
        denied = denied || cr == AuthzResult::Denied;
      }
      if (r != AuthzResult::Granted && denied) r = AuthzResult::Denied;
      // <RequireNone> is a negated <RequireAny>.
      if (node.kind == RequireNode::Kind::None) {
        r = r == AuthzResult::Granted ? AuthzResult::Denied : AuthzResult::Neutral;
      }
      break;
    }
    case RequireNode::Kind::All: {
      // All: denied as soon as one denies; granted if none denies and one grants.
      bool granted = false;
      for (const RequireNode& c : node.children) {
        AuthzResult cr = evaluate_require(c, client);
        if (cr == AuthzResult::Denied) {
          r = AuthzResult::Denied;
          break;
        }
        granted = granted || cr == AuthzResult::Granted;
      }
      if (r != AuthzResult::Denied) r = granted ? AuthzResult::Granted : AuthzResult::Neutral;
      break;
    }
  }
  // A negated rule can refuse but never grant: what it matches is refused, the rest is
  // left to the other rules.
  if (node.negated) r = r == AuthzResult::Granted ? AuthzResult::Denied : AuthzResult::Neutral;
  return r;
}

bool access_granted(const EffectiveAccess& access, const ClientAddresses& client) {
  bool compat_ok = !access.compat || compat_allows(*access.compat, client);
  bool require_ok = !access.require || evaluate_require(*access.require, client) == AuthzResult::Granted;
  // Satisfy Any only matters where both are set; with one alone, that one decides.
  if (access.satisfy_any && access.compat && access.require) return compat_ok || require_ok;
  return compat_ok && require_ok;
}

EffectiveAccess access_for_file(const VirtualHost& vhost, std::string_view fs_path, EffectiveAccess directory) {
  size_t slash = fs_path.rfind('/');
  std::string_view dir = slash == std::string_view::npos || slash == 0 ? std::string_view("/") : fs_path.substr(0, slash);
  std::string_view base = slash == std::string_view::npos ? fs_path : fs_path.substr(slash + 1);
  // Apache's stock configuration (httpd.conf and Debian's apache2.conf alike) denies .ht*
  // files, and a site moved from Apache keeps its .htaccess and .htpasswd (password
  // hashes) in its docroot: denied here too unless a <Files> block grants them.
  static const RequireNode kDenied = [] {
    RequireNode n;
    n.kind = RequireNode::Kind::AllDenied;
    return n;
  }();
  EffectiveAccess out = directory;
  if (base.rfind(".ht", 0) == 0) {
    out.require = &kDenied;
    out.compat = nullptr;
  }
  for (const FilesBlock& f : vhost.files_blocks)
    if (!f.access.empty() && files_block_matches(f, dir, base)) out.apply(f.access);
  return out;
}

bool location_matches(const LocationBlock& block, std::string_view url_path) {
  if (block.is_regex) return regex_matches(block.pattern, std::string(url_path));
  if (block.pattern.find_first_of("*?[") != std::string::npos) {
    // Wildcards never cross a '/', and the whole path must match, as Apache's fnmatch.
    return fnmatch(block.pattern.c_str(), std::string(url_path).c_str(), FNM_PATHNAME) == 0;
  }
  return path_prefix_matches(block.pattern, url_path);
}

void apply_locations(const VirtualHost& vhost, std::string_view url_path, EffectiveAccess& access) {
  for (const LocationBlock& l : vhost.locations)
    if (!l.access.empty() && location_matches(l, url_path)) access.apply(l.access);
}

bool has_files_access_rules(const VirtualHost& vhost) {
  return std::any_of(vhost.files_blocks.begin(), vhost.files_blocks.end(),
                     [](const FilesBlock& f) { return !f.access.empty(); });
}

bool has_location_access_rules(const VirtualHost& vhost) {
  return std::any_of(vhost.locations.begin(), vhost.locations.end(),
                     [](const LocationBlock& l) { return !l.access.empty(); });
}

}  // namespace itkd
