// The per-request access decision (mod_authz_core + mod_authz_host + mod_access_compat):
// the sections that apply to a request are merged into an EffectiveAccess, <Directory>
// first, then <Files>, then <Location> (Apache's order), and judged against the client's
// address. The rules are the config's (config/access_rules.h), which a worker never
// changes, so the pointers here stay valid for the worker's life.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string_view>

#include "config/access_rules.h"
#include "config/server_config.h"
#include "http/request_head.h"

namespace itkd {

struct ClientAddresses {
  std::array<uint8_t, 16> client{};  // IPv4 as IPv4-mapped IPv6
  std::array<uint8_t, 16> local{};   // the address the client connected to
  bool known = false;                // false: not an IP connection; no ip rule matches
  static ClientAddresses from(const sockaddr_storage& peer, const sockaddr_storage& local);
};

struct EffectiveAccess {
  const RequireNode* require = nullptr;
  const AccessCompat* compat = nullptr;
  bool satisfy_any = false;
  bool auth_basic = false;                     // AuthType Basic
  const std::string* auth_name = nullptr;      // AuthName
  const std::string* auth_user_file = nullptr;  // AuthUserFile
  // A section's rules replace those merged before it, part by part.
  void apply(const AccessRules& rules);
  // Nothing restricts: every client is granted, no address needed.
  bool unrestricted() const { return !require && !compat; }
};

// DeniedNoUser: refused for want of an authenticated user (valid-user, user): worth
// asking for credentials (mod_authz_core's AUTHZ_DENIED_NO_USER).
enum class AuthzResult { Granted, Denied, DeniedNoUser, Neutral };
// `user`: the authenticated user, or null before authentication.
// `method`: the request's, for <Limit> and Require method.
AuthzResult evaluate_require(const RequireNode& node, const ClientAddresses& client,
                             const std::string* user = nullptr, std::string_view method = "GET");
// Satisfy All (the default): Order/Allow/Deny and Require must both let the client in;
// Satisfy Any: either. A Require tree that ends neutral refuses, as in Apache. Without
// authentication: rules that need a user refuse, unless `user` says who authenticated.
bool access_granted(const EffectiveAccess& access, const ClientAddresses& client, std::string_view method = "GET",
                    const std::string* user = nullptr);

// The whole decision for one request, with Basic authentication where the rules need a
// user and allow no one without: Apache's order (address rules first, so "Require ip
// 10.1" next to "Require valid-user" lets the office in without a password).
struct AccessVerdict {
  int status = 0;                // 0: go ahead; else 401, 403 or 500
  std::string remote_user;       // who authenticated (REMOTE_USER, %u), if anyone
  std::string log_reason;        // for the error log; empty: nothing worth logging
  std::string extra_headers;     // "WWW-Authenticate: Basic realm=\"...\"\r\n" with a 401
};
AccessVerdict judge_access(const EffectiveAccess& access, const ClientAddresses& client,
                           const http::RequestHead& head, std::string_view target);

// The <Directory> result for a file, then its <Files>/<FilesMatch> blocks in config order
// (the last matching one that sets a rule decides). ".ht*" names start out denied, as in
// Apache's stock configuration, unless a <Files> block says otherwise.
EffectiveAccess access_for_file(const VirtualHost& vhost, std::string_view fs_path, EffectiveAccess directory);
// <Location>/<LocationMatch> blocks, applied last, in config order, to the decoded URL path.
void apply_locations(const VirtualHost& vhost, std::string_view url_path, EffectiveAccess& access);
// Whether any <Files> block or <Location> block has access rules (the fast path skips
// judging names and URLs when none does).
bool has_files_access_rules(const VirtualHost& vhost);
bool has_location_access_rules(const VirtualHost& vhost);
bool location_matches(const LocationBlock& block, std::string_view url_path);

}  // namespace itkd
