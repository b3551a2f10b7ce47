#include "worker/static/access_check.h"

#include <fnmatch.h>
#include <netinet/in.h>

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>

#include "worker/static/htpasswd.h"
#include "worker/static/static_handler.h"

namespace itkd {

namespace {

bool in_any(const std::vector<AccessCompat::Entry>& entries, const ClientAddresses& c, std::string_view method) {
  return std::any_of(entries.begin(), entries.end(), [&](const AccessCompat::Entry& e) {
    return e.scope.applies(method) && (e.all || (c.known && in_range(e.range, c.client)));
  });
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

bool compat_allows(const AccessCompat& c, const ClientAddresses& client, std::string_view method) {
  bool allowed = in_any(c.allow, client, method);
  bool denied = in_any(c.deny, client, method);
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
  auto client = ip_bytes_of(peer);
  auto own = ip_bytes_of(local);
  c.known = client.has_value();
  if (client) c.client = *client;
  if (own) c.local = *own;
  return c;
}

void EffectiveAccess::apply(const AccessRules& rules) {
  if (rules.require) require = rules.require.get();
  if (rules.compat) compat = rules.compat.get();
  if (rules.satisfy_any) satisfy_any = *rules.satisfy_any;
  if (rules.auth_basic) auth_basic = *rules.auth_basic;
  if (rules.auth_name) auth_name = &*rules.auth_name;
  if (rules.auth_user_file) auth_user_file = &*rules.auth_user_file;
}

namespace {

// Does a rule speak for this method? A <Limit>ed one only for its methods; a container
// if any of its rules does.
bool speaks_for(const RequireNode& node, std::string_view method) {
  if (!node.scope.applies(method)) return false;
  if (node.kind != RequireNode::Kind::Any && node.kind != RequireNode::Kind::All &&
      node.kind != RequireNode::Kind::None) {
    return true;
  }
  return std::any_of(node.children.begin(), node.children.end(),
                     [&](const RequireNode& c) { return speaks_for(c, method); });
}

AuthzResult evaluate(const RequireNode& node, const ClientAddresses& client, const std::string* user,
                     std::string_view method, bool parent_all);

}  // namespace

AuthzResult evaluate_require(const RequireNode& node, const ClientAddresses& client, const std::string* user,
                             std::string_view method) {
  // The sections' rules meet as in a <RequireAll>: with none for this method (a
  // <Limit POST> alone), the method is unprotected, as mod_authz_core has it.
  return evaluate(node, client, user, method, true);
}

namespace {

AuthzResult evaluate(const RequireNode& node, const ClientAddresses& client, const std::string* user,
                     std::string_view method, bool parent_all) {
  using R = AuthzResult;
  // A rule for other methods has no say: it lets an all-of pass and leaves an any-of to
  // the others.
  if (!speaks_for(node, method)) return parent_all ? R::Granted : R::Neutral;
  R r = R::Neutral;
  switch (node.kind) {
    case RequireNode::Kind::AllGranted: r = R::Granted; break;
    case RequireNode::Kind::AllDenied: r = R::Denied; break;
    case RequireNode::Kind::Ip: r = in_any(node.ranges, client) ? R::Granted : R::Denied; break;
    case RequireNode::Kind::Local: r = is_local(client) ? R::Granted : R::Denied; break;
    case RequireNode::Kind::ValidUser: r = user ? R::Granted : R::DeniedNoUser; break;
    case RequireNode::Kind::Method:
      r = std::find(node.users.begin(), node.users.end(), method) != node.users.end() ? R::Granted : R::Denied;
      break;
    case RequireNode::Kind::User:
      if (!user) r = R::DeniedNoUser;
      else r = std::find(node.users.begin(), node.users.end(), *user) != node.users.end() ? R::Granted : R::Denied;
      break;
    case RequireNode::Kind::Any:
    case RequireNode::Kind::None: {
      // Any: granted as soon as one grants; else refused, for want of a user if one
      // child asks for one (so the client is asked to authenticate).
      bool denied = false, no_user = false;
      for (const RequireNode& c : node.children) {
        R cr = evaluate(c, client, user, method, false);
        if (cr == R::Granted) {
          r = R::Granted;
          break;
        }
        denied = denied || cr == R::Denied;
        no_user = no_user || cr == R::DeniedNoUser;
      }
      if (r != R::Granted) r = no_user ? R::DeniedNoUser : denied ? R::Denied : R::Neutral;
      // <RequireNone> is a negated <RequireAny>.
      if (node.kind == RequireNode::Kind::None) {
        r = r == R::Granted ? R::Denied : r == R::DeniedNoUser ? R::DeniedNoUser : R::Neutral;
      }
      break;
    }
    case RequireNode::Kind::All: {
      // All: refused as soon as one refuses; granted if none refuses and one grants.
      bool granted = false;
      for (const RequireNode& c : node.children) {
        R cr = evaluate(c, client, user, method, true);
        if (cr == R::Denied || cr == R::DeniedNoUser) {
          r = cr;
          break;
        }
        granted = granted || cr == R::Granted;
      }
      if (r == R::Neutral) r = granted ? R::Granted : R::Neutral;
      break;
    }
  }
  // A negated rule can refuse but never grant: what it matches is refused, the rest is
  // left to the other rules.
  if (node.negated) r = r == R::Granted ? R::Denied : r == R::DeniedNoUser ? R::DeniedNoUser : R::Neutral;
  return r;
}

}  // namespace

bool access_granted(const EffectiveAccess& access, const ClientAddresses& client, std::string_view method,
                    const std::string* user) {
  bool compat_ok = !access.compat || compat_allows(*access.compat, client, method);
  bool require_ok =
      !access.require || evaluate_require(*access.require, client, user, method) == AuthzResult::Granted;
  // Satisfy Any only matters where both are set; with one alone, that one decides.
  if (access.satisfy_any && access.compat && access.require) return compat_ok || require_ok;
  return compat_ok && require_ok;
}

namespace {

bool decode_base64(std::string_view in, std::string& out) {
  while (!in.empty() && (in.back() == ' ' || in.back() == '\t')) in.remove_suffix(1);
  if (in.empty() || in.size() % 4 != 0 || in.size() > 4096) return false;
  out.assign(in.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) return false;
  // EVP_DecodeBlock counts the padding as zero bytes.
  size_t pad = in.back() == '=' ? (in[in.size() - 2] == '=' ? 2 : 1) : 0;
  out.resize(static_cast<size_t>(n) - pad);
  return true;
}

bool iprefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  return true;
}

}  // namespace

AccessVerdict judge_access(const EffectiveAccess& access, const ClientAddresses& client,
                           const http::RequestHead& head, std::string_view target) {
  AccessVerdict v;
  std::string_view method = head.method_text;
  bool compat_ok = !access.compat || compat_allows(*access.compat, client, method);
  AuthzResult r = access.require ? evaluate_require(*access.require, client, nullptr, method) : AuthzResult::Granted;
  if (access.satisfy_any && access.compat && access.require) {
    if (compat_ok || r == AuthzResult::Granted) return v;
  } else {
    if (!compat_ok) {
      v.status = 403;
      return v;
    }
    if (r == AuthzResult::Granted) return v;
  }
  if (r != AuthzResult::DeniedNoUser) {
    v.status = 403;
    return v;
  }
  // The rules want a user: Basic authentication against the AuthUserFile.
  std::string where(target);
  if (!access.auth_basic || !access.auth_user_file || !access.auth_name || access.auth_name->empty()) {
    v.status = 500;
    v.log_reason = std::string(!access.auth_basic       ? "AuthType Basic"
                               : !access.auth_user_file ? "AuthUserFile"
                                                        : "AuthName") +
                   " is not set, but a Require valid-user/user rule needs it: " + where;
    return v;
  }
  v.extra_headers = "WWW-Authenticate: Basic realm=\"" + *access.auth_name + "\"\r\n";
  v.status = 401;
  const http::HeaderField* field = head.find("Authorization");
  if (!field) return v;  // a browser's first request: asked for credentials, nothing to log
  std::string_view value = field->value;
  if (!iprefix(value, "basic ")) {
    v.log_reason = "client used wrong authentication scheme (not Basic): " + where;
    return v;
  }
  value.remove_prefix(6);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  std::string decoded;
  size_t colon = std::string::npos;
  if (!decode_base64(value, decoded) || (colon = decoded.find(':')) == std::string::npos) {
    v.log_reason = "invalid Basic credentials (not base64 of user:password): " + where;
    return v;
  }
  std::string user = decoded.substr(0, colon);
  std::string_view password = std::string_view(decoded).substr(colon + 1);
  std::string error;
  switch (check_htpasswd(*access.auth_user_file, user, password, error)) {
    case PasswordCheck::FileError:
      v.status = 500;
      v.extra_headers.clear();
      v.log_reason = error + " (for " + where + ")";
      return v;
    case PasswordCheck::NoSuchUser:
      v.log_reason = "user " + user + " not found: " + where;
      return v;
    case PasswordCheck::Mismatch:
      v.log_reason = "user " + user + ": authentication failure for \"" + where + "\": Password Mismatch";
      return v;
    case PasswordCheck::Match:
      break;
  }
  if (evaluate_require(*access.require, client, &user, method) != AuthzResult::Granted) {
    v.log_reason = "access to " + where + " failed, reason: user '" + user + "' does not meet 'require'ments";
    return v;
  }
  v.status = 0;
  v.extra_headers.clear();
  v.remote_user = std::move(user);
  return v;
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
