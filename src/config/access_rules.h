// Who may request what, as a section of the config says it: mod_authz_core's Require
// lines and <RequireAll|Any|None> containers with mod_authz_host's `ip` and `local`, and
// mod_access_compat's Order / Allow / Deny / Satisfy, which Apache 2.2-era configurations
// (and Debian's Apache 2.4, where the module is on) still carry. The per-request decision
// is worker/access_check.h.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/socket.h>

#include <optional>

#include "common/result.h"

namespace itkd {

// An address range. IPv4 ones are kept as IPv4-mapped IPv6 (::ffff:a.b.c.d), so a client
// on a dual-stack listener ("::ffff:10.1.2.3") matches "10.1".
struct IpRange {
  std::array<uint8_t, 16> net{};
  std::array<uint8_t, 16> mask{};
  bool operator==(const IpRange&) const = default;
};

// mod_authz_host's forms: "10.1.2.3", "10.1" (partial: whole octets), "10.1.0.0/16",
// "10.1.0.0/255.255.0.0", "2001:db8::1", "2001:db8::/32". Host names are refused: they
// need reverse DNS, which itkd never does.
Result<IpRange> parse_ip_range(std::string_view text);

// An address as IpRange compares it (IPv4 as IPv4-mapped IPv6); nullopt unless IPv4/IPv6.
std::optional<std::array<uint8_t, 16>> ip_bytes_of(const sockaddr_storage& address);
bool in_range(const IpRange& range, const std::array<uint8_t, 16>& ip);
// Whether `address` is in any of `ranges` (never, for an address that isn't IP).
bool address_in_ranges(const sockaddr_storage& address, const std::vector<IpRange>& ranges);
// Appends " 192.0.2.0/24 2001:db8::/32 ..." for itkd -t.
void describe_ranges(std::string& out, const std::vector<IpRange>& ranges);

// <Limit GET POST> / <LimitExcept GET POST>: the request methods a rule is for. Empty:
// every method.
struct MethodScope {
  std::vector<std::string> methods;  // as written, matched case-sensitively (methods are)
  bool except = false;               // <LimitExcept>
  bool applies(std::string_view method) const;
};

// One Require line or container. A section's Require lines form an implicit <RequireAny>.
struct RequireNode {
  enum class Kind { AllGranted, AllDenied, Ip, Local, ValidUser, User, Method, Any, All, None };
  Kind kind = Kind::Any;
  bool negated = false;          // "Require not ip ..."
  std::vector<IpRange> ranges;   // Kind::Ip
  std::vector<std::string> users;  // Kind::User; Kind::Method: the methods
  std::vector<RequireNode> children;  // Any / All / None
  MethodScope scope;             // from <Limit>: for other methods the node is neutral
};

// Order / Allow from / Deny from (mod_access_compat).
struct AccessCompat {
  // Deny,Allow: allowed unless a Deny matches and no Allow does (the default).
  // Allow,Deny: denied unless an Allow matches and no Deny does. Mutual-failure: as
  // Allow,Deny.
  enum class Order { DenyAllow, AllowDeny, MutualFailure };
  Order order = Order::DenyAllow;
  struct Entry {
    bool all = false;   // "from all"
    IpRange range;
    MethodScope scope;  // written inside <Limit>: only for those methods
  };
  std::vector<Entry> allow, deny;
};

// What one <Directory>, <Files> or <Location> block says. Each part replaces what an
// enclosing or earlier-merged section said, only if this section sets it: Apache's
// AuthMerging Off for Require, and mod_access_compat's lack of a merge for Order & co.
struct AccessRules {
  std::shared_ptr<RequireNode> require;  // the implicit <RequireAny> of its Require lines
  std::shared_ptr<AccessCompat> compat;
  std::optional<bool> satisfy_any;       // Satisfy Any|All
  // mod_auth_basic / mod_authn_file, each replacing the enclosing section's if set.
  std::optional<bool> auth_basic;        // AuthType Basic (true) | None (false)
  std::optional<std::string> auth_name;  // AuthName: the realm the browser shows
  std::optional<std::string> auth_user_file;  // AuthUserFile: an htpasswd file
  bool empty() const {
    return !require && !compat && !satisfy_any && !auth_basic && !auth_name && !auth_user_file;
  }
};

// Parses the arguments of one `Require` line ("all granted", "ip 10.1 192.168.0.0/16",
// "not ip 10.9", "local", "valid-user", "user alice bob") into a node. Refuses what itkd
// can't enforce (group, env, expr, host, method) rather than ignore a rule that closes
// something.
Result<RequireNode> parse_require_line(const std::vector<std::string>& args);
// "from all" / "from 10.1 192.168.0.0/16" for Allow and Deny, each entry for `scope`.
Result<void> parse_allow_deny(const std::vector<std::string>& args, const MethodScope& scope,
                              std::vector<AccessCompat::Entry>& entries);
// The methods of a <Limit>/<LimitExcept> line: names as HTTP has them (tokens).
Result<MethodScope> parse_method_scope(const std::vector<std::string>& args, bool except);
// Checks one finished container as mod_authz_core does when it reads the config (nested
// containers are checked when they close): negations can't stand in a <RequireAny>
// (including a section's own Require lines, `top_level`), and a <RequireAll> must not hold
// only negations; no container may be empty.
Result<void> check_require_tree(const RequireNode& node, bool top_level);

// A section holding these Require lines, each split into words ({"all", "denied"}),
// checked as the parser checks a section: for configurations built in code (tests).
Result<AccessRules> access_rules_from(const std::vector<std::vector<std::string>>& require_lines);

// "Require ip 10.1 192.168.0.0/16" and the like, for `itkd -t`.
std::string describe_require(const RequireNode& node);
std::string describe_compat(const AccessCompat& compat);

}  // namespace itkd
