#include "config/access_rules.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <cctype>

namespace itkd {

namespace {

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

bool all_digits(std::string_view s) {
  return !s.empty() && s.size() <= 3 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool parse_prefix(std::string_view s, unsigned max, unsigned& out) {
  if (!all_digits(s)) return false;
  out = 0;
  for (char c : s) out = out * 10 + static_cast<unsigned>(c - '0');
  return out <= max;
}

void set_prefix(std::array<uint8_t, 16>& mask, unsigned bits) {
  mask.fill(0);
  for (unsigned i = 0; i < 16 && bits > 0; ++i) {
    unsigned take = bits >= 8 ? 8 : bits;
    mask[i] = static_cast<uint8_t>(0xff00 >> take);
    bits -= take;
  }
}

// "10", "10.1", "10.1.", "10.1.2.3" -> octets; false if not that shape.
bool parse_dotted(std::string_view s, std::vector<unsigned>& octets) {
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  octets.clear();
  while (true) {
    size_t dot = s.find('.');
    std::string_view part = s.substr(0, dot);
    unsigned v = 0;
    if (!parse_prefix(part, 255, v)) return false;
    octets.push_back(v);
    if (dot == std::string_view::npos) break;
    s.remove_prefix(dot + 1);
  }
  return octets.size() <= 4;
}

bool looks_like_host_name(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); }) &&
         s.find(':') == std::string_view::npos;
}

Error host_name_refused(std::string_view text) {
  return Error{"'" + std::string(text) +
               "' is not an IP address: host names need reverse DNS lookups, which itkd never does; "
               "write the addresses (e.g. 192.0.2.0/24)"};
}


bool is_negative(const RequireNode& n) { return n.negated || n.kind == RequireNode::Kind::None; }

const char* container_name(RequireNode::Kind k) {
  switch (k) {
    case RequireNode::Kind::All: return "<RequireAll>";
    case RequireNode::Kind::None: return "<RequireNone>";
    default: return "<RequireAny>";
  }
}

}  // namespace

void describe_ranges(std::string& out, const std::vector<IpRange>& ranges) {
  for (const IpRange& r : ranges) {
    bool v4 = std::all_of(r.mask.begin(), r.mask.begin() + 12, [](uint8_t b) { return b == 0xff; }) &&
              r.net[10] == 0xff && r.net[11] == 0xff &&
              std::all_of(r.net.begin(), r.net.begin() + 10, [](uint8_t b) { return b == 0; });
    char buf[INET6_ADDRSTRLEN] = {};
    unsigned bits = 0;
    for (uint8_t b : r.mask)
      for (int i = 7; i >= 0; --i) bits += (b >> i) & 1;
    if (v4) {
      inet_ntop(AF_INET, r.net.data() + 12, buf, sizeof buf);
      out += " " + std::string(buf) + "/" + std::to_string(bits - 96);
    } else {
      inet_ntop(AF_INET6, r.net.data(), buf, sizeof buf);
      out += " " + std::string(buf) + "/" + std::to_string(bits);
    }
  }
}

std::optional<std::array<uint8_t, 16>> ip_bytes_of(const sockaddr_storage& a) {
  std::array<uint8_t, 16> out{};
  if (a.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(a);
    out[10] = out[11] = 0xff;
    std::memcpy(out.data() + 12, &in.sin_addr, 4);
  } else if (a.ss_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(a);
    std::memcpy(out.data(), &in6.sin6_addr, 16);
  } else {
    return std::nullopt;
  }
  return out;
}

bool in_range(const IpRange& r, const std::array<uint8_t, 16>& ip) {
  for (size_t i = 0; i < 16; ++i)
    if ((ip[i] & r.mask[i]) != r.net[i]) return false;
  return true;
}

bool address_in_ranges(const sockaddr_storage& address, const std::vector<IpRange>& ranges) {
  auto ip = ip_bytes_of(address);
  return ip && std::any_of(ranges.begin(), ranges.end(), [&](const IpRange& r) { return in_range(r, *ip); });
}

Result<IpRange> parse_ip_range(std::string_view text) {
  std::string_view addr = text;
  std::string_view mask_text;
  bool has_mask = false;
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    mask_text = text.substr(slash + 1);
    has_mask = true;
  }
  IpRange r;
  auto bad = [&] { return Error{"'" + std::string(text) + "' is not an IP address or network"}; };
  if (addr.find(':') != std::string_view::npos) {
    in6_addr a6{};
    if (inet_pton(AF_INET6, std::string(addr).c_str(), &a6) != 1) return bad();
    std::copy(a6.s6_addr, a6.s6_addr + 16, r.net.begin());
    unsigned bits = 128;
    if (has_mask && !parse_prefix(mask_text, 128, bits)) return bad();
    set_prefix(r.mask, bits);
  } else {
    if (looks_like_host_name(addr)) return host_name_refused(text);
    std::vector<unsigned> octets;
    if (addr.empty() || !parse_dotted(addr, octets)) return bad();
    r.net[10] = r.net[11] = 0xff;
    for (size_t i = 0; i < octets.size(); ++i) r.net[12 + i] = static_cast<uint8_t>(octets[i]);
    std::fill(r.mask.begin(), r.mask.begin() + 12, 0xff);
    if (has_mask) {
      // A mask needs the whole address, as apr_ipsubnet_create wants it.
      if (octets.size() != 4) return bad();
      unsigned bits = 0;
      in_addr m{};
      if (parse_prefix(mask_text, 32, bits)) {
        std::array<uint8_t, 16> v4{};
        set_prefix(v4, bits);
        std::copy(v4.begin(), v4.begin() + 4, r.mask.begin() + 12);
      } else if (inet_pton(AF_INET, std::string(mask_text).c_str(), &m) == 1) {
        const auto* b = reinterpret_cast<const uint8_t*>(&m.s_addr);
        std::copy(b, b + 4, r.mask.begin() + 12);
      } else {
        return bad();
      }
    } else {
      // A partial address ("10.1") covers its whole octets.
      for (size_t i = 0; i < octets.size(); ++i) r.mask[12 + i] = 0xff;
    }
  }
  for (size_t i = 0; i < 16; ++i) r.net[i] &= r.mask[i];
  return r;
}

Result<RequireNode> parse_require_line(const std::vector<std::string>& all_args) {
  std::vector<std::string> args = all_args;
  RequireNode node;
  if (!args.empty() && iequal(args[0], "not")) {
    node.negated = true;
    args.erase(args.begin());
  }
  if (args.empty()) return Error{"Require needs a type of rule (all, ip, local)"};
  const std::string& type = args[0];
  if (iequal(type, "all")) {
    if (args.size() != 2 || !(iequal(args[1], "granted") || iequal(args[1], "denied"))) {
      return Error{"'Require all' takes 'granted' or 'denied'"};
    }
    node.kind = iequal(args[1], "granted") ? RequireNode::Kind::AllGranted : RequireNode::Kind::AllDenied;
    return node;
  }
  if (iequal(type, "ip")) {
    if (args.size() < 2) return Error{"'Require ip' needs at least one address or network"};
    node.kind = RequireNode::Kind::Ip;
    for (size_t i = 1; i < args.size(); ++i) {
      auto range = parse_ip_range(args[i]);
      if (!range) return Error{"Require ip: " + range.error().message};
      node.ranges.push_back(*range);
    }
    return node;
  }
  if (iequal(type, "local")) {
    if (args.size() != 1) return Error{"'Require local' takes no arguments"};
    node.kind = RequireNode::Kind::Local;
    return node;
  }
  if (iequal(type, "valid-user")) {
    if (args.size() != 1) return Error{"'Require valid-user' takes no arguments"};
    node.kind = RequireNode::Kind::ValidUser;
    return node;
  }
  if (iequal(type, "user")) {
    if (args.size() < 2) return Error{"'Require user' needs at least one user name"};
    node.kind = RequireNode::Kind::User;
    node.users.assign(args.begin() + 1, args.end());
    return node;
  }
  // Ignoring any of these would open what the admin closed: refuse instead.
  if (iequal(type, "host") || iequal(type, "forward-dns")) {
    return Error{"'Require " + type +
                 "' is not supported: it needs DNS lookups, which itkd never does; use 'Require ip'"};
  }
  if (iequal(type, "group") || iequal(type, "file-owner") || iequal(type, "file-group") ||
      type.rfind("ldap-", 0) == 0 || type.rfind("dbd-", 0) == 0 || type.rfind("dbm-", 0) == 0) {
    return Error{"'Require " + type +
                 "' is not supported yet (itkd knows valid-user and user with an AuthUserFile); "
                 "itkd would not enforce it"};
  }
  if (iequal(type, "method")) {
    if (args.size() < 2) return Error{"'Require method' needs at least one HTTP method"};
    auto scope = parse_method_scope(std::vector<std::string>(args.begin() + 1, args.end()), false);
    if (!scope) return Error{"Require method: " + scope.error().message};
    node.kind = RequireNode::Kind::Method;
    node.users = scope->methods;
    return node;
  }
  if (iequal(type, "env") || iequal(type, "expr")) {
    return Error{"'Require " + type + "' is not supported yet; itkd would not enforce it"};
  }
  return Error{"unknown Require type '" + type + "' (itkd knows all, ip, local, valid-user, user)"};
}

bool MethodScope::applies(std::string_view method) const {
  if (methods.empty()) return true;
  bool listed = std::find(methods.begin(), methods.end(), method) != methods.end();
  return listed != except;
}

Result<MethodScope> parse_method_scope(const std::vector<std::string>& args, bool except) {
  MethodScope scope;
  scope.except = except;
  for (const std::string& m : args) {
    bool token = !m.empty() && std::all_of(m.begin(), m.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    });
    if (!token) return Error{"'" + m + "' is not an HTTP method"};
    scope.methods.push_back(m);
  }
  if (scope.methods.empty()) return Error{"needs at least one HTTP method"};
  return scope;
}

Result<void> parse_allow_deny(const std::vector<std::string>& args, const MethodScope& scope,
                              std::vector<AccessCompat::Entry>& entries) {
  if (args.size() < 2 || !iequal(args[0], "from")) return Error{"takes 'from' and addresses, or 'from all'"};
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (iequal(a, "all")) {
      entries.push_back({true, {}, scope});
      continue;
    }
    if (a.rfind("env=", 0) == 0 || a.rfind("env=!", 0) == 0) {
      return Error{"'" + a + "' is not supported yet (itkd has no SetEnvIf); itkd would not enforce it"};
    }
    auto range = parse_ip_range(a);
    if (!range) return Error{range.error().message};
    entries.push_back({false, *range, scope});
  }
  return ok();
}

Result<void> check_require_tree(const RequireNode& node, bool top_level) {
  const char* name = top_level ? "the Require lines of one section (an implicit <RequireAny>)" : container_name(node.kind);
  if (node.children.empty()) return Error{std::string(name) + " contains no authorization directives"};
  bool any_positive = false;
  for (const RequireNode& c : node.children) {
    bool negative = is_negative(c);
    any_positive = any_positive || !negative;
    if (negative && node.kind == RequireNode::Kind::Any) {
      return Error{std::string("a negative rule (Require not ..., <RequireNone>) has no effect in ") + name +
                   ": it can refuse but never grant; put it in a <RequireAll> with what grants"};
    }
  }
  if (!any_positive && node.kind == RequireNode::Kind::All) {
    return Error{std::string(name) + " contains only negative authorization directives: it can never grant"};
  }
  return ok();
}

Result<AccessRules> access_rules_from(const std::vector<std::vector<std::string>>& require_lines) {
  AccessRules rules;
  rules.require = std::make_shared<RequireNode>();
  for (const auto& line : require_lines) {
    auto node = parse_require_line(line);
    if (!node) return Error{node.error().message};
    rules.require->children.push_back(std::move(*node));
  }
  if (auto c = check_require_tree(*rules.require, true); !c) return Error{c.error().message};
  return rules;
}

std::string describe_require(const RequireNode& node) {
  std::string out;
  if (!node.scope.methods.empty()) {
    // "limit(GET POST: ...)" / "limit-except(GET: ...)"
    RequireNode inner = node;
    inner.scope = {};
    std::string methods;
    for (const std::string& m : node.scope.methods) methods += (methods.empty() ? "" : " ") + m;
    return (node.scope.except ? "limit-except(" : "limit(") + methods + ": " + describe_require(inner) + ")";
  }
  if (node.negated) out += "not ";
  switch (node.kind) {
    case RequireNode::Kind::AllGranted: return out + "all granted";
    case RequireNode::Kind::AllDenied: return out + "all denied";
    case RequireNode::Kind::Local: return out + "local";
    case RequireNode::Kind::ValidUser: return out + "valid-user";
    case RequireNode::Kind::Method:
      out += "method";
      for (const std::string& m : node.users) out += " " + m;
      return out;
    case RequireNode::Kind::User:
      out += "user";
      for (const std::string& u : node.users) out += " " + u;
      return out;
    case RequireNode::Kind::Ip:
      out += "ip";
      describe_ranges(out, node.ranges);
      return out;
    case RequireNode::Kind::Any:
    case RequireNode::Kind::All:
    case RequireNode::Kind::None: {
      out += node.kind == RequireNode::Kind::Any ? "any(" : node.kind == RequireNode::Kind::All ? "all(" : "none(";
      for (size_t i = 0; i < node.children.size(); ++i) out += (i ? ", " : "") + describe_require(node.children[i]);
      return out + ")";
    }
  }
  return out;
}

std::string describe_compat(const AccessCompat& c) {
  std::string out = c.order == AccessCompat::Order::DenyAllow   ? "Order deny,allow"
                    : c.order == AccessCompat::Order::AllowDeny ? "Order allow,deny"
                                                                : "Order mutual-failure";
  auto list = [&out](const char* what, const std::vector<AccessCompat::Entry>& entries) {
    if (entries.empty()) return;
    out += std::string("; ") + what;
    for (const AccessCompat::Entry& e : entries) {
      if (e.all) out += " all";
      else describe_ranges(out, {e.range});
      if (!e.scope.methods.empty()) {
        out += e.scope.except ? " (except" : " (for";
        for (const std::string& m : e.scope.methods) out += " " + m;
        out += ")";
      }
    }
  };
  list("Allow from", c.allow);
  list("Deny from", c.deny);
  return out;
}

}  // namespace itkd
