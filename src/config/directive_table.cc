// The directive table: every directive itkd understands, where it is allowed, how many
// arguments it takes and what it does. The parser (config_parser.cc) only tokenizes, looks
// names up here and checks context and argument counts.
#include <arpa/inet.h>
#include <regex.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <unordered_map>

#include "config/config_lexer.h"
#include "config/parse_state.h"
#include "config/pcre_compat.h"
#include "tls/ssl_protocol.h"

namespace itkd {

namespace {

void mark(ParseState& ps, const Directive& d) { ps.vh().explicitly_set.insert(ascii_lower(d.name)); }

Result<uint64_t> parse_number(const std::string& s, uint64_t min, uint64_t max,
                              const std::string& what) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v < min || v > max) {
    return Error{what + " must be a number from " + std::to_string(min) + " to " +
                 std::to_string(max) + ", not '" + s + "'"};
  }
  return v;
}

Result<bool> parse_on_off(const Directive& d) {
  if (iequals(d.args[0], "on")) return true;
  if (iequals(d.args[0], "off")) return false;
  return Error{d.name + " must be On or Off, not '" + d.args[0] + "'"};
}

// Canonical text of an IP literal ("::0001" -> "::1"); empty if not an IP address.
std::string canonical_ip(const std::string& s) {
  char buf[INET6_ADDRSTRLEN];
  unsigned char bin[16];
  if (inet_pton(AF_INET, s.c_str(), bin) == 1) return inet_ntop(AF_INET, bin, buf, sizeof buf);
  if (inet_pton(AF_INET6, s.c_str(), bin) == 1) {
    // An IPv4-mapped address is the IPv4 address, as the router sees connections.
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(mapped, mapped + 12, bin)) return inet_ntop(AF_INET, bin + 12, buf, sizeof buf);
    return inet_ntop(AF_INET6, bin, buf, sizeof buf);
  }
  return "";
}

// "host:port", "[v6]:port", "port", "host" -> parts; port_text empty if none.
Result<std::pair<std::string, std::string>> split_host_port(const std::string& s) {
  if (!s.empty() && s[0] == '[') {
    size_t close = s.find(']');
    if (close == std::string::npos) return Error{"missing ']' in '" + s + "'"};
    std::string host = s.substr(1, close - 1);
    std::string rest = s.substr(close + 1);
    if (rest.empty()) return std::pair{host, std::string()};
    if (rest[0] != ':') return Error{"unexpected text after ']' in '" + s + "'"};
    return std::pair{host, rest.substr(1)};
  }
  size_t colon = s.rfind(':');
  if (colon == std::string::npos) return std::pair{s, std::string()};
  if (s.find(':') != colon) {
    return Error{"IPv6 address '" + s + "' must be written in brackets, e.g. [::1]:80"};
  }
  return std::pair{s.substr(0, colon), s.substr(colon + 1)};
}

Result<void> h_listen(ParseState& ps, const Directive& d) {
  Listener l;
  l.where = d.where;
  const std::string& a = d.args[0];
  std::string host, port_text;
  if (a.find_first_not_of("0123456789") == std::string::npos) {
    port_text = a;
  } else {
    auto hp = split_host_port(a);
    if (!hp) return hp.error();
    host = hp->first;
    port_text = hp->second;
    if (port_text.empty()) return Error{"Listen " + a + " has no port (write e.g. " + a + ":80)"};
    if (host == "*" || host == "0.0.0.0" || host == "::") {
      host = "";
    } else {
      std::string ip = canonical_ip(host);
      if (ip.empty()) return Error{"Listen needs an IP address, not '" + host + "'"};
      host = ip;
    }
  }
  auto port = parse_number(port_text, 1, 65535, "Listen port");
  if (!port) return port.error();
  l.host = host;
  l.port = static_cast<uint16_t>(*port);
  bool https = false;
  if (d.args.size() > 1) {
    std::string protocol = ascii_lower(d.args[1]);
    if (protocol != "http" && protocol != "https") {
      return Error{"Listen protocol must be http or https, not '" + d.args[1] + "'"};
    }
    https = protocol == "https";
  }
  // Final value once the vhosts are known (validate_tls in config_parser.cc).
  l.protocol = https || l.port == 443 ? "https" : "http";
  for (const Listener& o : ps.config.listeners) {
    if (o.host == l.host && o.port == l.port) {
      return Error{"Listen " + a + " repeats the one at " + o.where.str()};
    }
  }
  ps.config.listeners.push_back(l);
  ps.listen_https.push_back(https);
  return ok();
}

Result<void> h_server_root(ParseState& ps, const Directive& d) {
  if (d.args[0].empty() || d.args[0][0] != '/') {
    return Error{"ServerRoot must be an absolute path, not '" + d.args[0] + "'"};
  }
  auto p = normalize_path(d.args[0]);
  if (!p) return p.error();
  ps.config.server_root = *p;
  return ok();
}

Result<void> h_include(ParseState& ps, const Directive& d) {
  include_config(ps, ps.server_relative(d.args[0]), false, d.where);
  return ok();
}
Result<void> h_include_optional(ParseState& ps, const Directive& d) {
  include_config(ps, ps.server_relative(d.args[0]), true, d.where);
  return ok();
}

Result<void> h_user(ParseState& ps, const Directive& d) {
  ps.config.user = d.args[0];
  ps.user_where = d.where;
  return ok();
}
Result<void> h_group(ParseState& ps, const Directive& d) {
  ps.config.group = d.args[0];
  ps.group_where = d.where;
  return ok();
}

Result<void> h_server_name(ParseState& ps, const Directive& d) {
  std::string n = ascii_lower(d.args[0]);
  if (size_t s = n.find("://"); s != std::string::npos) n = n.substr(s + 3);
  auto hp = split_host_port(n);
  if (!hp) return hp.error();
  n = hp->first;
  if (!n.empty() && n.back() == '.') n.pop_back();
  if (n.empty()) return Error{"ServerName '" + d.args[0] + "' has no host name"};
  ps.vh().vhost.server_name = n;
  mark(ps, d);
  return ok();
}

Result<void> h_server_alias(ParseState& ps, const Directive& d) {
  for (const auto& a : d.args) {
    std::string n = ascii_lower(a);
    if (!n.empty() && n.back() == '.') n.pop_back();
    if (!n.empty()) ps.vh().vhost.server_aliases.push_back(n);
  }
  return ok();
}

Result<void> h_document_root(ParseState& ps, const Directive& d) {
  auto p = normalize_path(ps.server_relative(d.args[0]));
  if (!p) return p.error();
  ps.vh().vhost.document_root = *p;
  mark(ps, d);
  return ok();
}

Result<void> h_directory_index(ParseState& ps, const Directive& d) {
  bool disabled = d.args.size() == 1 && iequals(d.args[0], "disabled");
  std::vector<std::string>* list;
  bool append;
  if (ps.context == kCtxDirectory) {
    auto& opt = ps.dir().directory_index;
    append = opt.has_value();
    if (!opt) opt.emplace();
    list = &*opt;
  } else {
    append = ps.vh().explicitly_set.count("directoryindex") > 0;
    mark(ps, d);
    list = &ps.vh().vhost.directory_index;
  }
  // mod_dir: repeated DirectoryIndex lines in one scope add to the list.
  if (!append || disabled) list->clear();
  if (!disabled) list->insert(list->end(), d.args.begin(), d.args.end());
  return ok();
}

// FallbackResource disabled | local-url (mod_dir): "disabled" stops a parent scope's.
Result<void> h_fallback_resource(ParseState& ps, const Directive& d) {
  std::string url = iequals(d.args[0], "disabled") ? std::string() : d.args[0];
  if (!url.empty() && (url.find("://") != std::string::npos || url.find_first_of("?#") != std::string::npos ||
                       url.find_first_of(" \t\r\n") != std::string::npos)) {
    return Error{"FallbackResource takes a local URL path such as /index.php (or 'disabled'), not '" + url + "'"};
  }
  if (ps.context == kCtxDirectory) {
    ps.dir().fallback_resource = url;
  } else {
    ps.vh().vhost.fallback_resource = url;
    mark(ps, d);
  }
  return ok();
}

Result<void> h_options(ParseState& ps, const Directive& d) {
  static const std::pair<std::string_view, unsigned> kNames[] = {
      {"indexes", kOptIndexes},
      {"execcgi", kOptExecCGI},
      {"followsymlinks", kOptFollowSymLinks},
      {"symlinksifownermatch", kOptSymLinksIfOwnerMatch},
      {"includes", kOptIncludes},
      {"includesnoexec", kOptIncludes},
      {"multiviews", kOptMultiViews},
      // Apache's All: everything but MultiViews and SymLinksIfOwnerMatch.
      {"all", kOptIndexes | kOptExecCGI | kOptFollowSymLinks | kOptIncludes},
      {"none", 0},
  };
  unsigned plain = 0, add = 0, remove = 0;
  bool any_plain = false, any_signed = false;
  for (const auto& w : d.args) {
    char action = (w[0] == '+' || w[0] == '-') ? w[0] : 0;
    std::string name = ascii_lower(action ? w.substr(1) : w);
    const unsigned* bits = nullptr;
    for (const auto& [n, b] : kNames)
      if (n == name) bits = &b;
    if (!bits) return Error{"Illegal option " + w};
    if (ps.htaccess && (*bits & ~ps.htaccess->options)) {
      return Error{"Option " + w + " not allowed here: the AllowOverride Options=... at " + ps.htaccess->where.str() +
                   " does not include it"};
    }
    if (action && (name == "none" || name == "all")) {
      return Error{"Options " + w + ": All and None can't take + or -"};
    }
    if (action) any_signed = true; else any_plain = true;
    if (action == '+') { add |= *bits; remove &= ~*bits; }
    else if (action == '-') { remove |= *bits; add &= ~*bits; }
    else plain |= *bits;
  }
  if (any_plain && any_signed) {
    return Error{"Either all Options must start with + or -, or no Option may (Apache 2.4 rule)"};
  }
  DirectoryBlock& b = ps.dir();
  if (any_plain) {
    b.options = plain;
    b.options_add = b.options_remove = 0;
  } else if (b.options) {
    *b.options = (*b.options | add) & ~remove;
  } else {
    b.options_add = (b.options_add & ~remove) | add;
    b.options_remove = (b.options_remove & ~add) | remove;
  }
  return ok();
}

// AllowOverride None|All|class[=...] ... [Nonfatal=...]: what .htaccess files at and below
// this directory may say (the worker reads them as the owner, src/worker/htaccess_views).
Result<void> h_allow_override(ParseState& ps, const Directive& d) {
  DirectoryBlock& b = ps.dir();
  if (b.is_regex) {
    ps.warn(d.where, "AllowOverride inside <DirectoryMatch> has no effect (Apache ignores it there too): "
                     "use <Directory path>");
    return ok();
  }
  static const std::pair<std::string_view, unsigned> kClasses[] = {
      {"authconfig", kOverrideAuthConfig}, {"fileinfo", kOverrideFileInfo}, {"indexes", kOverrideIndexes},
      {"limit", kOverrideLimit},           {"options", kOverrideOptions},  {"all", kOverrideAll},
  };
  static const std::pair<std::string_view, unsigned> kOptionNames[] = {
      {"indexes", kOptIndexes}, {"execcgi", kOptExecCGI}, {"followsymlinks", kOptFollowSymLinks},
      {"symlinksifownermatch", kOptSymLinksIfOwnerMatch}, {"includes", kOptIncludes},
      {"includesnoexec", kOptIncludes}, {"multiviews", kOptMultiViews}, {"all", kAllOptions},
  };
  OverrideRules rules;
  rules.where = d.where;
  for (const std::string& word : d.args) {
    std::string w = ascii_lower(word);
    if (w == "none") {
      if (d.args.size() != 1) return Error{"AllowOverride None can't be combined with other classes"};
      continue;
    }
    size_t eq = w.find('=');
    std::string name = w.substr(0, eq);
    if (name == "nonfatal") {
      std::string what = eq == std::string::npos ? "" : w.substr(eq + 1);
      if (what == "override") rules.nonfatal_override = true;
      else if (what == "unknown") rules.nonfatal_unknown = true;
      else if (what == "all") rules.nonfatal_override = rules.nonfatal_unknown = true;
      else return Error{"AllowOverride " + word + ": Nonfatal takes Override, Unknown or All"};
      continue;
    }
    const unsigned* bits = nullptr;
    for (const auto& [n, v] : kClasses)
      if (n == name) bits = &v;
    if (!bits) {
      return Error{"AllowOverride: unknown class '" + word +
                   "' (AuthConfig, FileInfo, Indexes, Limit, Options[=...], All, None, Nonfatal=...)"};
    }
    rules.classes |= *bits;
    if (eq != std::string::npos) {
      if (name != "options") return Error{"AllowOverride " + word + ": only Options takes a list"};
      unsigned allowed = 0;
      std::string list = w.substr(eq + 1);
      size_t pos = 0;
      while (pos <= list.size()) {
        size_t comma = list.find(',', pos);
        std::string opt = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        const unsigned* o = nullptr;
        for (const auto& [n, v] : kOptionNames)
          if (n == opt) o = &v;
        if (!o) return Error{"AllowOverride " + word + ": unknown option '" + opt + "'"};
        allowed |= *o;
        if (comma == std::string::npos) break;
        pos = comma + 1;
      }
      rules.options = allowed;
    }
  }
  b.allow_override = rules;
  return ok();
}

// AllowOverrideList None|directive ...: directives allowed whatever AllowOverride says.
Result<void> h_allow_override_list(ParseState& ps, const Directive& d) {
  DirectoryBlock& b = ps.dir();
  if (b.is_regex) {
    ps.warn(d.where, "AllowOverrideList inside <DirectoryMatch> has no effect: use <Directory path>");
    return ok();
  }
  std::vector<std::string> names;
  if (!(d.args.size() == 1 && iequals(d.args[0], "none"))) {
    for (const std::string& n : d.args) {
      const DirectiveSpec* spec = find_directive(n);
      if (!spec || spec->section != SectionKind::None) return Error{"AllowOverrideList: unknown directive '" + n + "'"};
      names.push_back(ascii_lower(n));
    }
  }
  b.allow_override_list = std::move(names);
  return ok();
}

// AccessFileName name ...: the per-directory files' names (the first that exists is read).
Result<void> h_access_file_name(ParseState& ps, const Directive& d) {
  for (const std::string& n : d.args) {
    if (n.empty() || n.find('/') != std::string::npos || n == "." || n == "..") {
      return Error{"AccessFileName takes file names, not '" + n + "'"};
    }
  }
  ps.vh().vhost.access_file_names = d.args;
  ps.vh().explicitly_set.insert("accessfilename");
  return ok();
}

// mod_authz_core: a section's Require lines form an implicit <RequireAny>; inside a
// <RequireAll|Any|None> they go to that container. The tree is checked when its section
// or container closes (config_parser).
Result<void> h_require(ParseState& ps, const Directive& d) {
  auto node = parse_require_line(d.args);
  if (!node) return Error{node.error().message};
  if (!ps.require_stack.empty()) {
    ps.require_stack.back()->children.push_back(std::move(*node));
    return ok();
  }
  AccessRules& rules = ps.access();
  if (!rules.require) rules.require = std::make_shared<RequireNode>();
  rules.require->children.push_back(std::move(*node));
  return ok();
}

// mod_access_compat: any of Order, Allow or Deny gives the section its own list, which
// replaces what enclosing sections said (the module has no merge).
AccessCompat& section_compat(ParseState& ps) {
  AccessRules& rules = ps.access();
  if (!rules.compat) rules.compat = std::make_shared<AccessCompat>();
  return *rules.compat;
}

Result<void> h_order(ParseState& ps, const Directive& d) {
  std::string v = ascii_lower(d.args[0]);
  AccessCompat& c = section_compat(ps);
  if (v == "deny,allow") c.order = AccessCompat::Order::DenyAllow;
  else if (v == "allow,deny") c.order = AccessCompat::Order::AllowDeny;
  else if (v == "mutual-failure") c.order = AccessCompat::Order::MutualFailure;
  else return Error{"Order takes deny,allow, allow,deny or mutual-failure (no spaces), not '" + d.args[0] + "'"};
  return ok();
}

Result<void> h_allow_deny(ParseState& ps, const Directive& d) {
  AccessCompat& c = section_compat(ps);
  bool allow = iequals(d.name, "Allow");
  auto r = parse_allow_deny(d.args, ps.current_limit ? *ps.current_limit : MethodScope{}, allow ? c.allow : c.deny);
  if (!r) return Error{d.name + ": " + r.error().message};
  return ok();
}

// CGIPassAuth On: scripts in the directory see the Authorization header (as
// HTTP_AUTHORIZATION, from which php-cgi and php-fpm fill PHP_AUTH_USER / PHP_AUTH_PW),
// for applications that check credentials themselves, as they did under mod_php.
Result<void> h_cgi_pass_auth(ParseState& ps, const Directive& d) {
  if (!iequals(d.args[0], "on") && !iequals(d.args[0], "off")) return Error{"CGIPassAuth takes On or Off"};
  ps.dir().cgi_pass_auth = iequals(d.args[0], "on");
  return ok();
}

// mod_auth_basic + mod_authn_file: who the client says it is, checked against an
// htpasswd file by the owner's worker (worker/static/htpasswd.h).
Result<void> h_auth_type(ParseState& ps, const Directive& d) {
  if (iequals(d.args[0], "Basic")) ps.access().auth_basic = true;
  else if (iequals(d.args[0], "None")) ps.access().auth_basic = false;
  else return Error{"AuthType " + d.args[0] + " is not supported yet (only Basic and None); itkd would not enforce it"};
  return ok();
}

Result<void> h_auth_name(ParseState& ps, const Directive& d) {
  // The realm goes into a quoted header parameter: no quotes, backslashes or controls.
  for (char c : d.args[0]) {
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Error{"AuthName must not contain quotes, backslashes or control characters"};
    }
  }
  ps.access().auth_name = d.args[0];
  return ok();
}

Result<void> h_auth_user_file(ParseState& ps, const Directive& d) {
  ps.access().auth_user_file = ps.server_relative(d.args[0]);
  return ok();
}

Result<void> h_auth_basic_provider(ParseState&, const Directive& d) {
  for (const std::string& p : d.args) {
    if (!iequals(p, "file")) {
      return Error{"AuthBasicProvider " + p + " is not supported yet (only 'file', with AuthUserFile)"};
    }
  }
  return ok();
}

Result<void> h_satisfy(ParseState& ps, const Directive& d) {
  if (!iequals(d.args[0], "any") && !iequals(d.args[0], "all")) {
    return Error{"Satisfy takes Any or All, not '" + d.args[0] + "'"};
  }
  ps.access().satisfy_any = iequals(d.args[0], "any");
  return ok();
}

Result<void> add_alias(ParseState& ps, const Directive& d, bool script) {
  if (d.args[0].empty() || d.args[0][0] != '/') {
    return Error{d.name + " URL path must start with '/', not '" + d.args[0] + "'"};
  }
  if (d.args[1].empty() || d.args[1][0] != '/') {
    return Error{d.name + " target must be an absolute path, not '" + d.args[1] + "'"};
  }
  std::string target = d.args[1];
  // Keep a trailing slash on the target when the URL has one: Alias maps text, not paths.
  bool slash = target.size() > 1 && target.back() == '/';
  auto norm = normalize_path(target);
  if (!norm) return norm.error();
  target = *norm + (slash && *norm != "/" ? "/" : "");
  ps.vh().vhost.aliases.push_back({d.args[0], target, script, d.where});
  return ok();
}
Result<void> h_alias(ParseState& ps, const Directive& d) { return add_alias(ps, d, false); }
Result<void> h_script_alias(ParseState& ps, const Directive& d) { return add_alias(ps, d, true); }

// Redirect [status] URL-path URL and RedirectMatch [status] regex URL (mod_alias).
Result<RedirectRule> parse_redirect(const Directive& d, const std::vector<std::string>& a, bool is_regex) {
  const std::string what = is_regex ? "RedirectMatch" : "Redirect";
  int status = 302;
  bool has_status = true;
  std::string s = ascii_lower(a[0]);
  if (s == "permanent") status = 301;
  else if (s == "temp") status = 302;
  else if (s == "seeother") status = 303;
  else if (s == "gone") status = 410;
  else if (!s.empty() && s[0] >= '0' && s[0] <= '9') {
    auto n = parse_number(s, 100, 599, "Redirect status");
    if (!n) return n.error();
    status = static_cast<int>(*n);
  } else has_status = false;
  RedirectRule r;
  r.where = d.where;
  r.status = status;
  r.is_regex = is_regex;
  bool is_redirect = status >= 300 && status < 400;
  if (!has_status) {
    if (a.size() != 2) {
      return Error{what + (is_regex ? " takes a regular expression and a URL, e.g. RedirectMatch ^/old/(.*)$ https://example.com/new/$1"
                                    : " takes a URL path and a URL, e.g. Redirect /old https://example.com/new")};
    }
    r.url_prefix = a[0];
    r.target = a[1];
  } else {
    if (a.size() < 2) return Error{what + " " + a[0] + (is_regex ? " needs a regular expression" : " needs a URL path")};
    r.url_prefix = a[1];
    if (a.size() == 3) r.target = a[2];
    if (is_redirect && r.target.empty()) return Error{what + " " + a[0] + ": URL to redirect to is missing"};
    if (!is_redirect && !r.target.empty()) return Error{what + " " + a[0] + ": a URL is not valid for status " + std::to_string(status)};
  }
  if (is_regex) {
    auto re = SharedRegex::compile_pcre(r.url_prefix, REG_EXTENDED);
    if (!re) return Error{what + ": " + re.error().message};
    r.regex = std::move(*re);
  } else if (r.url_prefix.empty() || r.url_prefix[0] != '/') {
    return Error{"Redirect URL path must start with '/', not '" + r.url_prefix + "'"};
  }
  if (!r.target.empty() && r.target[0] != '/' && r.target.find("://") == std::string::npos) {
    return Error{what + " to non-URL '" + r.target + "' (use an absolute URL like https://host/path)"};
  }
  return r;
}

// In <Directory> (and .htaccess) a redirect belongs to the directory's files.
std::vector<RedirectRule>& redirect_list(ParseState& ps) {
  return ps.context == kCtxDirectory ? ps.dir().redirects : ps.vh().vhost.redirects;
}

Result<void> h_redirect(ParseState& ps, const Directive& d) {
  auto r = parse_redirect(d, d.args, false);
  if (!r) return r.error();
  redirect_list(ps).push_back(std::move(*r));
  return ok();
}
Result<void> h_redirect_match(ParseState& ps, const Directive& d) {
  auto r = parse_redirect(d, d.args, true);
  if (!r) return r.error();
  redirect_list(ps).push_back(std::move(*r));
  return ok();
}
// RedirectPermanent / RedirectTemp URL-path URL: Redirect permanent|temp.
Result<void> h_redirect_fixed(ParseState& ps, const Directive& d) {
  if (d.args.size() != 2) return Error{d.name + " takes a URL path and a URL"};
  std::vector<std::string> args{iequals(d.name, "RedirectPermanent") ? "permanent" : "temp", d.args[0], d.args[1]};
  auto r = parse_redirect(d, args, false);
  if (!r) return r.error();
  redirect_list(ps).push_back(std::move(*r));
  return ok();
}

Result<void> h_error_document(ParseState& ps, const Directive& d) {
  auto status = parse_number(d.args[0], 400, 599, "ErrorDocument status");
  if (!status) return status.error();
  // The value is taken raw (as Apache's RAW_ARGS) so a message keeps its spacing.
  size_t status_at = d.raw_args.find(d.args[0]);
  std::string rest =
      status_at == std::string::npos ? "" : d.raw_args.substr(status_at + d.args[0].size());
  size_t b = rest.find_first_not_of(" \t");
  rest = b == std::string::npos ? "" : rest.substr(b);
  ErrorDocumentRule r;
  r.status = static_cast<int>(*status);
  if (!rest.empty() && rest[0] == '"') {
    r.kind = ErrorDocumentRule::Kind::Text;
    r.value = rest.substr(1);
    if (!r.value.empty() && r.value.back() == '"') r.value.pop_back();
  } else if (!rest.empty() && rest[0] == '/') {
    r.kind = ErrorDocumentRule::Kind::LocalUrl;
    r.value = rest;
  } else if (rest.find("://") != std::string::npos && rest.find(' ') == std::string::npos) {
    r.kind = ErrorDocumentRule::Kind::ExternalUrl;
    r.value = rest;
  } else {
    r.kind = ErrorDocumentRule::Kind::Text;
    r.value = rest;
  }
  bool in_directory = ps.context == kCtxDirectory;
  auto& docs = in_directory ? ps.dir().error_documents : ps.vh().vhost.error_documents;
  std::erase_if(docs, [&](const ErrorDocumentRule& o) { return o.status == r.status; });
  // "ErrorDocument 404 default" restores the built-in page (in a directory, over what
  // an enclosing scope set: the marker stays).
  bool restore = r.kind == ErrorDocumentRule::Kind::Text && iequals(r.value, "default");
  if (restore) r.value = "default";
  if (!restore || in_directory) docs.push_back(r);
  return ok();
}

Result<void> h_add_type(ParseState& ps, const Directive& d) {
  std::string type = ascii_lower(d.args[0]);
  if (type.find('/') == std::string::npos) {
    return Error{"AddType needs a MIME type first, like 'AddType text/html .html', not '" + d.args[0] + "'"};
  }
  for (size_t i = 1; i < d.args.size(); ++i) {
    std::string ext = ascii_lower(d.args[i]);
    if (ext.empty() || ext[0] != '.') ext = "." + ext;
    (ps.context == kCtxDirectory ? ps.dir().add_types : ps.vh().vhost.add_types)[ext] = type;
  }
  return ok();
}

Result<void> h_add_default_charset(ParseState& ps, const Directive& d) {
  const std::string& a = d.args[0];
  std::string charset = iequals(a, "on") ? "iso-8859-1" : iequals(a, "off") ? "" : a;
  if (ps.context == kCtxDirectory) {
    ps.dir().default_charset = std::move(charset);
    return ok();
  }
  ps.vh().vhost.default_charset = std::move(charset);
  mark(ps, d);
  return ok();
}

Result<void> h_types_config(ParseState& ps, const Directive& d) {
  ps.config.types_config = ps.server_relative(d.args[0]);
  return ok();
}

Result<std::string> log_path(ParseState& ps, const Directive& d, const std::string& p) {
  if (!p.empty() && p[0] == '|') return Error{d.name + ": piped logs not supported; log to a file and rotate it"};
  if (p.rfind("syslog", 0) == 0) return Error{d.name + ": syslog is not supported; log to a file"};
  auto norm = normalize_path(ps.server_relative(p));
  if (!norm) return norm.error();
  return *norm;
}

Result<void> h_error_log(ParseState& ps, const Directive& d) {
  auto p = log_path(ps, d, d.args[0]);
  if (!p) return p.error();
  if (ps.current_vhost == 0) ps.config.error_log = *p;
  else ps.vh().vhost.error_log = *p;
  return ok();
}

Result<void> h_log_level(ParseState& ps, const Directive& d) {
  static const std::string_view kLevels[] = {"emerg", "alert", "crit", "error", "warn", "notice",
                                             "info", "debug", "trace1", "trace2", "trace3",
                                             "trace4", "trace5", "trace6", "trace7", "trace8"};
  bool have_level = false;
  for (const auto& a : d.args) {
    std::string w = ascii_lower(a);
    if (w.find(':') != std::string::npos) {
      ps.warn(d.where, "LogLevel " + a + " ignored: per-module log levels are not supported");
      continue;
    }
    bool known = false;
    for (auto l : kLevels) known |= l == w;
    if (!known) return Error{"LogLevel '" + a + "' is not a level (emerg ... debug, trace1..8)"};
    if (ps.current_vhost != 0) {
      ps.warn(d.where, "LogLevel in <VirtualHost> ignored: itkd has one global level");
    } else {
      ps.config.log_level = w;
    }
    have_level = true;
  }
  (void)have_level;
  return ok();
}

Result<void> h_log_format(ParseState& ps, const Directive& d) {
  if (d.args.size() == 1) ps.default_log_format = d.args[0];
  else ps.config.log_formats[d.args[1]] = d.args[0];
  return ok();
}

Result<void> add_custom_log(ParseState& ps, const Directive& d, const std::string& path,
                            const std::string& format) {
  auto p = log_path(ps, d, path);
  if (!p) return p.error();
  ps.custom_logs.push_back({ps.current_vhost, *p, format, d.where, {}, false});
  mark(ps, d);
  ps.vh().explicitly_set.insert("customlog");
  return ok();
}

// CustomLog file format [env=[!]NAME]: the condition tests a variable SetEnvIf sets
// (`SetEnvIf Request_URI ^/health$ dontlog` + `env=!dontlog`).
Result<void> h_custom_log(ParseState& ps, const Directive& d) {
  std::string name;
  bool negated = false;
  if (d.args.size() == 3) {
    std::string_view cond = d.args[2];
    if (!cond.starts_with("env=")) {
      ps.warn(d.where, "CustomLog condition '" + d.args[2] + "' ignored: only env=[!]NAME is supported, every "
                       "request is logged");
    } else {
      cond.remove_prefix(4);
      negated = !cond.empty() && cond[0] == '!';
      if (negated) cond.remove_prefix(1);
      if (cond.empty()) return Error{"CustomLog env= needs a variable name"};
      name = std::string(cond);
    }
  }
  if (auto r = add_custom_log(ps, d, d.args[0], d.args[1]); !r) return r;
  ps.custom_logs.back().env_condition = name;
  ps.custom_logs.back().env_negated = negated;
  return ok();
}

Result<void> h_transfer_log(ParseState& ps, const Directive& d) {
  // An empty format means "the default" and is filled in once all LogFormats are known.
  return add_custom_log(ps, d, d.args[0], "");
}

Result<void> h_pid_file(ParseState& ps, const Directive& d) {
  ps.config.pid_file = ps.server_relative(d.args[0]);
  return ok();
}

template <typename T, T HttpLimits::*Field>
Result<void> h_limit(ParseState& ps, const Directive& d) {
  auto v = parse_number(d.args[0], 0, std::numeric_limits<T>::max() > 0xffffffffull ? (1ull << 62) : std::numeric_limits<T>::max(), d.name);
  if (!v) return v.error();
  ps.vh().vhost.limits.*Field = static_cast<T>(*v);
  mark(ps, d);
  return ok();
}

Result<void> h_keep_alive(ParseState& ps, const Directive& d) {
  auto v = parse_on_off(d);
  if (!v) return v.error();
  ps.vh().vhost.limits.keep_alive = *v;
  mark(ps, d);
  return ok();
}

// OwnerConfinement / OwnerPrivateTmp: per owner, so where each was said is kept for the
// message when two vhosts of one owner disagree.
template <bool VirtualHost::*kValue, SourceLocation VirtualHost::*kWhere>
Result<void> h_owner_flag(ParseState& ps, const Directive& d) {
  auto v = parse_on_off(d);
  if (!v) return v.error();
  ps.vh().vhost.*kValue = *v;
  ps.vh().vhost.*kWhere = d.where;
  mark(ps, d);
  return ok();
}

// OwnerReadWritePaths / OwnerReadOnlyPaths: absolute paths only (a relative one would
// silently name something under ServerRoot, which is the admin's, not the owner's).
template <bool kWritable>
Result<void> h_owner_paths(ParseState& ps, const Directive& d) {
  for (const auto& a : d.args) {
    if (a.empty() || a[0] != '/')
      return Error{d.name + " takes absolute paths; '" + a + "' is not one"};
    auto p = normalize_path(a);
    if (!p) return p.error();
    if (*p == "/")
      return Error{d.name + " / would grant the whole filesystem; to confine nothing, write OwnerConfinement Off"};
    ps.vh().vhost.owner_paths.push_back(OwnerPath{*p, kWritable, d.where});
  }
  return ok();
}

Result<void> h_remoteip_proxy_protocol(ParseState& ps, const Directive& d) {
  auto v = parse_on_off(d);
  if (!v) return v.error();
  ps.vh().vhost.proxy_protocol = *v;
  mark(ps, d);
  return ok();
}

Result<void> h_remoteip_proxy_protocol_exceptions(ParseState& ps, const Directive& d) {
  for (const auto& a : d.args) {
    auto range = parse_ip_range(a);
    if (!range) return Error{d.name + ": " + range.error().message};
    ps.vh().vhost.proxy_protocol_exceptions.push_back(*range);
  }
  return ok();
}

Result<void> h_remoteip_header(ParseState& ps, const Directive& d) {
  for (char c : d.args[0])
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_')
      return Error{"RemoteIPHeader '" + d.args[0] + "' is not a header name"};
  ps.vh().vhost.remote_ip.header = d.args[0];
  ps.vh().vhost.remote_ip.where = d.where;
  mark(ps, d);
  return ok();
}

template <bool kInternal>
Result<void> h_remoteip_proxy(ParseState& ps, const Directive& d) {
  RemoteIpSettings& r = ps.vh().vhost.remote_ip;
  for (const auto& a : d.args) {
    auto range = parse_ip_range(a);
    if (!range) return Error{d.name + ": " + range.error().message};
    (kInternal ? r.internal_proxies : r.trusted_proxies).push_back(*range);
  }
  mark(ps, d);
  return ok();
}

Result<void> h_request_read_timeout(ParseState& ps, const Directive& d) {
  for (const auto& a : d.args) {
    std::string w = ascii_lower(a);
    size_t eq = w.find('=');
    if (eq == std::string::npos) return Error{"RequestReadTimeout expects header=N[-M][,MinRate=R] or body=..., not '" + a + "'"};
    std::string key = w.substr(0, eq);
    std::string value = w.substr(eq + 1);
    std::string first = value.substr(0, value.find_first_of("-,"));
    if (key != "header" && key != "body" && key != "handshake") {
      return Error{"RequestReadTimeout: unknown stage '" + key + "' (header, body or handshake)"};
    }
    auto n = parse_number(first, 0, 86400, "RequestReadTimeout " + key);
    if (!n) return n.error();
    if (key == "header") {
      ps.vh().vhost.limits.request_header_timeout_s = static_cast<unsigned>(*n);
      ps.vh().explicitly_set.insert("requestreadtimeout");
    }
  }
  return ok();
}

// AssignUserID (mpm-itk) and SuexecUserGroup (suEXEC) both name the vhost's owner: itkd
// runs the whole vhost as that user, which under suEXEC ran only the CGI scripts. Both in
// one vhost must agree.
Result<void> h_assign_user_id(ParseState& ps, const Directive& d) {
  VhostState& v = ps.vh();
  if (v.assign_set && ps.current_vhost != 0 &&
      (v.vhost.assign_user != d.args[0] || v.vhost.assign_group != d.args[1])) {
    return Error{d.name + " " + d.args[0] + " " + d.args[1] + " names another owner than " + v.vhost.assign_user +
                 " " + v.vhost.assign_group + " at " + v.identity_where.str() +
                 " (AssignUserID and SuexecUserGroup both set the vhost's owner)"};
  }
  v.vhost.assign_user = d.args[0];
  v.vhost.assign_group = d.args[1];
  v.assign_set = true;
  v.identity_where = d.where;
  return ok();
}

Result<void> h_max_clients_vhost(ParseState& ps, const Directive& d) {
  auto v = parse_number(d.args[0], 0, 1000000, "MaxClientsVHost");
  if (!v) return v.error();
  ps.vh().vhost.max_clients = static_cast<unsigned>(*v);
  mark(ps, d);
  return ok();
}

Result<void> h_nice_value(ParseState& ps, const Directive& d) {
  int v = 0;
  const std::string& s = d.args[0];
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < -20 || v > 19) {
    return Error{"NiceValue must be a number from -20 to 19, not '" + s + "'"};
  }
  ps.vh().vhost.nice_value = v;
  mark(ps, d);
  return ok();
}

Result<std::pair<uint32_t, uint32_t>> parse_range(const Directive& d) {
  auto lo = parse_number(d.args[0], 0, 0xfffffffeu, d.name + " minimum");
  if (!lo) return lo.error();
  auto hi = parse_number(d.args[1], 0, 0xfffffffeu, d.name + " maximum");
  if (!hi) return hi.error();
  if (*lo > *hi) return Error{d.name + " minimum " + d.args[0] + " is above the maximum " + d.args[1]};
  return std::pair{static_cast<uint32_t>(*lo), static_cast<uint32_t>(*hi)};
}
Result<void> h_limit_uid_range(ParseState& ps, const Directive& d) {
  auto r = parse_range(d);
  if (!r) return r.error();
  ps.config.limit_uid_range = std::pair<uid_t, uid_t>(r->first, r->second);
  ps.limit_uid_where = d.where;
  return ok();
}
Result<void> h_limit_gid_range(ParseState& ps, const Directive& d) {
  auto r = parse_range(d);
  if (!r) return r.error();
  ps.config.limit_gid_range = std::pair<gid_t, gid_t>(r->first, r->second);
  ps.limit_gid_where = d.where;
  return ok();
}

Result<void> h_front_user(ParseState& ps, const Directive& d) {
  ps.config.front_user = d.args[0];
  ps.front_user_where = d.where;
  return ok();
}
Result<void> h_front_group(ParseState& ps, const Directive& d) {
  ps.config.front_group = d.args[0];
  return ok();
}
Result<void> h_front_chroot(ParseState& ps, const Directive& d) {
  if (d.args[0].empty() || d.args[0][0] != '/') return Error{"FrontChroot must be an absolute path"};
  auto p = normalize_path(d.args[0]);
  if (!p) return p.error();
  ps.config.front_chroot = *p;
  return ok();
}
Result<void> h_owner_tmp_directory(ParseState& ps, const Directive& d) {
  if (d.args[0].empty() || d.args[0][0] != '/') return Error{"OwnerTmpDirectory must be an absolute path"};
  auto p = normalize_path(d.args[0]);
  if (!p) return p.error();
  if (*p == "/" || *p == "/tmp") return Error{"OwnerTmpDirectory must be a directory of its own, not " + *p};
  ps.config.owner_tmp_directory = *p;
  return ok();
}
Result<void> h_front_processes(ParseState& ps, const Directive& d) {
  auto v = parse_number(d.args[0], 0, 1024, "FrontProcesses");
  if (!v) return v.error();
  ps.config.front_processes = static_cast<unsigned>(*v);
  return ok();
}
Result<void> h_pool_max_workers(ParseState& ps, const Directive& d) {
  auto v = parse_number(d.args[0], 0, 4096, "PoolMaxWorkers");
  if (!v) return v.error();
  ps.config.pool_max_workers = static_cast<unsigned>(*v);
  return ok();
}
Result<void> h_pool_idle_timeout(ParseState& ps, const Directive& d) {
  auto v = parse_number(d.args[0], 1, 86400, "PoolIdleTimeout");
  if (!v) return v.error();
  ps.config.pool_idle_timeout_s = static_cast<unsigned>(*v);
  return ok();
}

Result<void> h_define(ParseState& ps, const Directive& d) {
  if (d.args[0].find(':') != std::string::npos) return Error{"Define name must not contain ':'"};
  ps.defines[d.args[0]] = d.args.size() > 1 ? d.args[1] : "";
  return ok();
}
Result<void> h_undefine(ParseState& ps, const Directive& d) {
  ps.defines.erase(d.args[0]);
  return ok();
}

// "unix:/run/php/a.sock|fcgi://localhost/path" or "fcgi://127.0.0.1:9000/path" -> the
// backend and the path after the authority (mod_proxy's two spellings of a FastCGI URL).
Result<std::pair<FcgiBackend, std::string>> parse_fcgi_url(const std::string& url) {
  FcgiBackend b;
  std::string rest = url;
  if (rest.size() > 5 && iequals(rest.substr(0, 5), "unix:")) {
    size_t bar = rest.find('|');
    if (bar == std::string::npos) {
      return Error{"'" + url + "': a unix socket needs '|fcgi://localhost' after the path"};
    }
    auto p = normalize_path(rest.substr(5, bar - 5));
    if (!p) return Error{"'" + url + "': " + p.error().message};
    b.unix_path = *p;
    rest = rest.substr(bar + 1);
  }
  if (rest.size() < 7 || !iequals(rest.substr(0, 7), "fcgi://")) {
    return Error{"'" + url + "' is not a FastCGI URL (itkd proxies only to fcgi://host:port "
                 "or unix:/path|fcgi://localhost)"};
  }
  rest = rest.substr(7);
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "" : rest.substr(slash);
  b.worker_url = "fcgi://" + ascii_lower(authority);
  if (b.unix_path.empty()) {
    auto hp = split_host_port(authority);
    if (!hp) return hp.error();
    if (hp->first.empty()) return Error{"'" + url + "' has no host"};
    b.host = hp->first;
    b.port = 8000;  // mod_proxy_fcgi's default port
    if (!hp->second.empty()) {
      auto port = parse_number(hp->second, 1, 65535, "FastCGI port");
      if (!port) return port.error();
      b.port = static_cast<uint16_t>(*port);
    }
  }
  return std::pair{b, path};
}

// Refuses handlers itkd does not run: an unknown name would have the file served as
// static content (PHP source), which is worse than not starting.
Result<HandlerSpec> parse_handler_name(const std::string& name) {
  HandlerSpec h;
  std::string n = ascii_lower(name);
  if (n == "cgi-script") { h.kind = HandlerSpec::Kind::Cgi; return h; }
  if (n == "fcgid-script") { h.kind = HandlerSpec::Kind::Fcgid; return h; }
  if (n == "none" || n == "default-handler") return h;
  if (n.rfind("proxy:", 0) == 0) {
    auto u = parse_fcgi_url(name.substr(6));
    if (!u) return u.error();
    h.kind = HandlerSpec::Kind::ProxyFcgi;
    h.backend = u->first;
    return h;
  }
  return Error{"handler '" + name + "' is not one itkd runs (cgi-script, fcgid-script, "
               "\"proxy:unix:/path|fcgi://localhost\", \"proxy:fcgi://host:port\" or None); "
               "files with it would be served as static content"};
}

Result<void> h_set_handler(ParseState& ps, const Directive& d) {
  if (d.args.size() != 1) return Error{"SetHandler takes one handler name"};
  auto h = parse_handler_name(d.args[0]);
  if (!h) return Error{d.name + ": " + h.error().message};
  if (ps.context == kCtxFiles) {
    if (!ps.current_files) {
      return Error{"SetHandler inside " + ps.section_name + " is not supported yet; "
                   "use <FilesMatch> or <Directory>"};
    }
    ps.vh().vhost.files_blocks[*ps.current_files].set_handler = *h;
  } else if (ps.context == kCtxDirectory) {
    ps.dir().set_handler = *h;
  } else {
    ps.vh().vhost.set_handler = *h;
    mark(ps, d);
  }
  return ok();
}

Result<void> h_add_handler(ParseState& ps, const Directive& d) {
  if (d.args.size() < 2) return Error{"AddHandler needs a handler and at least one extension, e.g. AddHandler cgi-script .cgi"};
  auto h = parse_handler_name(d.args[0]);
  if (!h) return Error{d.name + ": " + h.error().message};
  auto& map = ps.context == kCtxDirectory ? ps.dir().add_handlers : ps.vh().vhost.add_handlers;
  for (size_t i = 1; i < d.args.size(); ++i) {
    std::string ext = ascii_lower(d.args[i]);
    if (ext.empty() || ext[0] != '.') ext = "." + ext;
    map[ext] = *h;
  }
  return ok();
}

// mod_mime's RemoveHandler: the extensions lose the handler an enclosing scope gave them
// (the usual guard on an uploads directory: "RemoveHandler .php .phtml"). A <Directory>
// removes while merging; at vhost level the vhost's own AddHandler lines go now and the
// main server's are not inherited.
Result<void> h_remove_handler(ParseState& ps, const Directive& d) {
  bool in_directory = ps.context == kCtxDirectory;
  auto& removed = in_directory ? ps.dir().remove_handlers : ps.vh().vhost.remove_handlers;
  for (const std::string& arg : d.args) {
    std::string ext = ascii_lower(arg);
    if (ext.empty() || ext[0] != '.') ext = "." + ext;
    if (in_directory) ps.dir().add_handlers.erase(ext);
    else ps.vh().vhost.add_handlers.erase(ext);
    removed.push_back(ext);
  }
  return ok();
}

// mod_proxy's worker parameters (key=value after the URL, or in ProxySet) that apply to
// a FastCGI backend here: connection reuse and how many idle connections to keep.
struct WorkerParams {
  std::optional<bool> reuse;
  std::optional<unsigned> max_idle;
};

Result<WorkerParams> parse_worker_params(const std::vector<std::string>& args, size_t first,
                                         const std::string& what) {
  WorkerParams p;
  for (size_t i = first; i < args.size(); ++i) {
    const std::string& kv = args[i];
    size_t eq = kv.find('=');
    std::string key = ascii_lower(kv.substr(0, eq));
    std::string value = eq == std::string::npos ? "" : ascii_lower(kv.substr(eq + 1));
    if (key == "enablereuse" && (value == "on" || value == "off")) {
      p.reuse = value == "on";
    } else if (key == "disablereuse" && (value == "on" || value == "off")) {
      p.reuse = value == "off";
    } else if (key == "max") {
      auto n = parse_number(value, 1, 1024, what + " max");
      if (!n) return n.error();
      p.max_idle = static_cast<unsigned>(*n);
    } else {
      return Error{what + ": parameter '" + kv + "' is not supported (only enablereuse=on|off, "
                   "disablereuse=on|off and max=N)"};
    }
  }
  return p;
}

void apply_worker_params(ProxyWorkerSettings& w, const WorkerParams& p) {
  if (p.reuse) w.reuse = p.reuse;
  if (p.max_idle) w.max_idle = p.max_idle;
}

// The worker a <Proxy> / ProxySet URL names: "fcgi://localhost/" (every backend behind that
// name) or "unix:/run/php/a.sock|fcgi://localhost/" (that socket only).
Result<ProxyWorkerSettings> proxy_worker_for(const std::string& url, const SourceLocation& where) {
  auto u = parse_fcgi_url(url);
  if (!u) return u.error();
  ProxyWorkerSettings w;
  w.unix_path = u->first.unix_path;
  w.worker_url = u->first.worker_url;
  w.where = where;
  return w;
}

Result<void> open_proxy_worker(ParseState& ps, const Directive& d) {
  auto w = proxy_worker_for(d.args[0], d.where);
  if (!w) return Error{"<Proxy " + d.args[0] + ">: " + w.error().message};
  auto p = parse_worker_params(d.args, 1, "<Proxy>");
  if (!p) return p.error();
  apply_worker_params(*w, *p);
  auto& workers = ps.vh().vhost.proxy_workers;
  workers.push_back(std::move(*w));
  ps.current_proxy = workers.size() - 1;
  return ok();
}

// ProxySet key=value ... inside <Proxy>, or ProxySet url key=value ... outside it.
Result<void> h_proxy_set(ParseState& ps, const Directive& d) {
  auto& workers = ps.vh().vhost.proxy_workers;
  if (ps.context == kCtxProxy) {
    auto p = parse_worker_params(d.args, 0, "ProxySet");
    if (!p) return p.error();
    apply_worker_params(workers[ps.current_proxy], *p);
    return ok();
  }
  if (d.args.size() < 2) return Error{"ProxySet outside <Proxy> needs the backend URL first, "
                                      "e.g. ProxySet fcgi://localhost enablereuse=on"};
  auto w = proxy_worker_for(d.args[0], d.where);
  if (!w) return Error{"ProxySet " + d.args[0] + ": " + w.error().message};
  auto p = parse_worker_params(d.args, 1, "ProxySet");
  if (!p) return p.error();
  apply_worker_params(*w, *p);
  workers.push_back(std::move(*w));
  return ok();
}

Result<void> h_proxy_pass_match(ParseState& ps, const Directive& d) {
  auto params = parse_worker_params(d.args, 2, "ProxyPassMatch");
  if (!params) return params.error();
  // Checked and stored in its POSIX form, which the workers compile.
  auto re = SharedRegex::compile_pcre(d.args[0], REG_EXTENDED);
  if (!re) return Error{"ProxyPassMatch: " + re.error().message};
  std::string pattern = *pcre_to_ere(d.args[0]);
  auto u = parse_fcgi_url(d.args[1]);
  if (!u) return Error{"ProxyPassMatch: " + u.error().message};
  if (u->second.empty() || u->second[0] != '/') {
    return Error{"ProxyPassMatch " + d.args[1] + ": the URL needs the script path after the "
                 "host, e.g. fcgi://127.0.0.1:9000/srv/www/$1"};
  }
  u->first.reuse = params->reuse.value_or(false);
  if (params->max_idle) u->first.max_idle = *params->max_idle;
  ps.vh().vhost.proxy_pass_matches.push_back({pattern, u->first, u->second, d.where});
  return ok();
}

Result<void> h_proxy_timeout(ParseState& ps, const Directive& d) {
  auto v = parse_number(d.args[0], 1, 86400, "ProxyTimeout");
  if (!v) return v.error();
  ps.vh().vhost.proxy_timeout_s = static_cast<unsigned>(*v);
  mark(ps, d);
  return ok();
}

template <ResourceLimit ScriptLimits::*Field>
Result<void> h_rlimit(ParseState& ps, const Directive& d) {
  auto value = [&](const std::string& s) -> Result<uint64_t> {
    if (iequals(s, "max")) return kRlimitMax;
    return parse_number(s, 0, 1ull << 62, d.name);
  };
  ResourceLimit l;
  auto soft = value(d.args[0]);
  if (!soft) return soft.error();
  l.set = true;
  l.soft = *soft;
  if (d.args.size() > 1) {
    auto hard = value(d.args[1]);
    if (!hard) return hard.error();
    if (*soft != kRlimitMax && *hard != kRlimitMax && *soft > *hard) {
      return Error{d.name + ": the soft limit " + d.args[0] + " is above the hard limit " + d.args[1]};
    }
    l.hard = *hard;
  }
  ps.vh().vhost.script_limits.*Field = l;
  mark(ps, d);
  return ok();
}

Result<void> h_fcgid_wrapper(ParseState& ps, const Directive& d) {
  if (d.args[0].empty() || d.args[0][0] != '/') {
    return Error{"FcgidWrapper needs an absolute command path, not '" + d.args[0] + "'"};
  }
  std::string suffix;
  for (size_t i = 1; i < d.args.size(); ++i) {
    if (iequals(d.args[i], "virtual")) continue;  // itkd always checks the script exists
    if (d.args[i][0] != '.') {
      return Error{"FcgidWrapper suffix must start with '.', not '" + d.args[i] + "'"};
    }
    suffix = ascii_lower(d.args[i]);
  }
  ps.vh().vhost.fcgid.wrappers[suffix] = d.args[0];
  return ok();
}

template <unsigned FcgidSettings::*Field>
Result<void> h_fcgid_number(ParseState& ps, const Directive& d) {
  auto v = parse_number(d.args[0], 0, 1000000, d.name);
  if (!v) return v.error();
  ps.vh().vhost.fcgid.*Field = static_cast<unsigned>(*v);
  mark(ps, d);
  return ok();
}

Result<void> h_fcgid_initial_env(ParseState& ps, const Directive& d) {
  if (d.args[0].empty() || d.args[0].find('=') != std::string::npos) {
    return Error{"FcgidInitialEnv takes a name and a value, e.g. FcgidInitialEnv PHP_FCGI_CHILDREN 0"};
  }
  auto& env = ps.vh().vhost.fcgid.initial_env;
  std::erase_if(env, [&](const auto& e) { return e.first == d.args[0]; });
  env.emplace_back(d.args[0], d.args.size() > 1 ? d.args[1] : "");
  return ok();
}

// ---- mod_php's settings, for php-cgi and php-fpm (config/php_ini.h) ----

template <bool Admin, bool Flag>
Result<void> h_php_ini(ParseState& ps, const Directive& d) {
  const std::string& name = d.args[0];
  bool name_ok = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
  if (!name_ok) return Error{d.name + ": '" + name + "' is not a PHP setting name"};
  PhpIniSetting setting{name, d.args[1], Admin};
  if (Flag) {
    // mod_php takes On and 1 as on; anything it would read as off silently is refused here.
    if (iequals(d.args[1], "on") || d.args[1] == "1") setting.value = "1";
    else if (iequals(d.args[1], "off") || d.args[1] == "0") setting.value = "0";
    else return Error{d.name + " " + name + " must be On or Off, not '" + d.args[1] + "'"};
  }
  auto& list = ps.context == kCtxDirectory ? ps.dir().php_ini : ps.vh().vhost.php_ini;
  merge_php_ini(list, {setting});
  return ok();
}

// ---- mod_ssl ----

Result<void> h_ssl_engine(ParseState& ps, const Directive& d) {
  if (iequals(d.args[0], "optional")) {
    return Error{"SSLEngine optional (TLS upgrade inside HTTP, RFC 2817) is not supported; "
                 "use SSLEngine on in a <VirtualHost> on its own port"};
  }
  auto on = parse_on_off(d);
  if (!on) return on.error();
  ps.vh().vhost.tls.enabled = *on;
  ps.vh().vhost.tls.where = d.where;
  mark(ps, d);
  return ok();
}

template <std::string TlsConfig::*Field>
Result<void> h_ssl_file(ParseState& ps, const Directive& d) {
  auto p = normalize_path(ps.server_relative(d.args[0]));
  if (!p) return Error{d.name + ": " + p.error().message};
  ps.vh().vhost.tls.*Field = *p;
  mark(ps, d);
  return ok();
}

Result<void> h_ssl_protocol(ParseState& ps, const Directive& d) {
  std::string value;
  for (const auto& a : d.args) value += (value.empty() ? "" : " ") + a;
  // Checked here so a bad value is reported with its line, not when a worker starts.
  if (auto r = tls::parse_ssl_protocol(value); !r) return r.error();
  ps.vh().vhost.tls.protocol = value;
  mark(ps, d);
  return ok();
}

Result<void> h_ssl_cipher_suite(ParseState& ps, const Directive& d) {
  // mod_ssl 2.4.30+: "SSLCipherSuite TLSv1.3 spec" sets the TLS 1.3 suites,
  // "SSLCipherSuite [SSL] spec" the older ones.
  TlsConfig& t = ps.vh().vhost.tls;
  if (d.args.size() == 1) {
    t.cipher_suite = d.args[0];
    mark(ps, d);
  } else if (iequals(d.args[0], "SSL")) {
    t.cipher_suite = d.args[1];
    mark(ps, d);
  } else if (iequals(d.args[0], "TLSv1.3")) {
    t.cipher_suite_tls13 = d.args[1];
    ps.vh().explicitly_set.insert("sslciphersuite-tlsv1.3");
  } else {
    return Error{"SSLCipherSuite " + d.args[0] + ": the protocol must be SSL or TLSv1.3"};
  }
  return ok();
}

template <bool TlsConfig::*Field>
Result<void> h_ssl_flag(ParseState& ps, const Directive& d) {
  auto on = parse_on_off(d);
  if (!on) return on.error();
  ps.vh().vhost.tls.*Field = *on;
  mark(ps, d);
  return ok();
}

Result<void> h_ssl_verify_client(ParseState&, const Directive& d) {
  if (iequals(d.args[0], "none")) return ok();
  return Error{"SSLVerifyClient " + d.args[0] +
               ": client certificates are not supported yet; itkd would not check them "
               "(remove it, or use SSLVerifyClient none)"};
}

Result<void> h_ssl_client_ca(ParseState&, const Directive& d) {
  return Error{d.name + ": client certificates are not supported yet; itkd would not check "
               "them (remove it)"};
}

Result<void> h_not_supported(ParseState&, const Directive& d) {
  return Error{d.name + " is not supported yet; itkd would not apply it (remove it or "
               "wrap it in <IfModule> of the module that provides it)"};
}
Result<void> h_handler_not_supported(ParseState&, const Directive& d) {
  return Error{d.name + " is not supported yet: itkd would serve those files as static "
               "content (e.g. PHP source); remove it or serve them differently"};
}

// mod_headers: a rule that would touch what itkd writes itself is dropped with a warning
// (Apache's mod_headers can't change Date and Server either; the framing headers would
// break the response).
Result<void> h_header(ParseState& ps, const Directive& d) {
  auto rule = parse_header_rule(d.args);
  if (!rule) return Error{rule.error().message};
  if (rule->action != HeaderRule::Action::Echo && header_is_server_owned(rule->name)) {
    ps.warn(d.where, "Header " + rule->name + " ignored: itkd writes Date, Server, Content-Length, "
                     "Transfer-Encoding, Connection and Keep-Alive itself");
    return ok();
  }
  ps.header_rules().push_back(std::move(*rule));
  return ok();
}

// The request's headers are edited once the vhost is known, before any handler runs: at
// vhost level and in <Location>, whose URL is known then too.
Result<void> h_request_header(ParseState& ps, const Directive& d) {
  if (ps.current_files || (ps.context == kCtxDirectory && !ps.current_location)) {
    return Error{"RequestHeader inside " + ps.section_name + " is not supported yet; put it at the "
                 "<VirtualHost> level or in a <Location> block"};
  }
  auto rule = parse_header_rule(d.args, true);
  if (!rule) return Error{rule.error().message};
  if (request_header_is_server_owned(rule->name)) {
    ps.warn(d.where, "RequestHeader " + rule->name + " ignored: itkd routes and frames the request by Host, "
                     "Content-Length, Transfer-Encoding, Connection and Expect as the client sent them");
    return ok();
  }
  auto& rules = ps.current_location ? ps.vh().vhost.locations[*ps.current_location].request_header_rules
                                    : ps.vh().vhost.request_header_rules;
  rules.push_back(std::move(*rule));
  return ok();
}

// FileETag INode|MTime|Size|All|None, or +/- forms relative to the enclosing scope.
Result<void> h_file_etag(ParseState& ps, const Directive& d) {
  FileETagSetting& s = ps.context == kCtxDirectory ? ps.dir().file_etag : ps.vh().vhost.file_etag;
  FileETagSetting out;
  bool relative = false, absolute = false;
  unsigned parts = 0;
  for (const std::string& arg : d.args) {
    char sign = arg.empty() ? 0 : arg[0];
    std::string word = ascii_lower(sign == '+' || sign == '-' ? arg.substr(1) : arg);
    unsigned bit = word == "inode" ? kETagINode : word == "mtime" ? kETagMTime : word == "size" ? kETagSize
                 : word == "all" ? (kETagINode | kETagMTime | kETagSize) : 0;
    if (word == "none" && d.args.size() == 1) {
      out.parts = 0;
      s = out;
      mark(ps, d);
      return ok();
    }
    if (bit == 0) return Error{"FileETag: unknown part '" + arg + "' (INode, MTime, Size, All or None)"};
    if (sign == '+' || sign == '-') {
      relative = true;
      (sign == '+' ? out.add : out.remove) |= bit;
    } else {
      absolute = true;
      parts |= bit;
    }
  }
  if (relative && absolute) return Error{"FileETag: mix of +/- parts and plain parts, as Apache refuses too"};
  if (absolute) out.parts = parts;
  s = out;
  mark(ps, d);
  return ok();
}

// Protocols (core, mod_http2): itkd speaks HTTP/1.1 only, which clients negotiate with
// ALPN; h2 and h2c are left out with a warning, a list without http/1.1 is refused.
Result<void> h_protocols(ParseState& ps, const Directive& d) {
  bool http11 = false;
  std::vector<std::string> dropped;
  for (const std::string& p : d.args) {
    std::string lower = ascii_lower(p);
    if (lower == "http/1.1") http11 = true;
    else if (lower == "h2" || lower == "h2c") dropped.push_back(p);
    else return Error{"Protocols: unknown protocol '" + p + "' (itkd speaks http/1.1)"};
  }
  if (!http11) return Error{"Protocols " + d.raw_args + ": itkd speaks only HTTP/1.1 (HTTP/2 is not supported yet); list http/1.1"};
  for (const std::string& p : dropped)
    ps.warn(d.where, "Protocols " + p + " ignored: HTTP/2 is not supported yet; clients negotiate HTTP/1.1 (ALPN)");
  return ok();
}

// mod_env: SetEnv name [value], UnsetEnv name...
Result<void> h_set_env(ParseState& ps, const Directive& d) {
  if (auto c = check_script_env_name(d.args[0]); !c) return Error{"SetEnv: " + c.error().message};
  ps.env_ops().push_back({d.args[0], d.args.size() > 1 ? d.args[1] : std::string()});
  return ok();
}
Result<void> h_unset_env(ParseState& ps, const Directive& d) {
  for (const std::string& name : d.args) {
    if (auto c = check_script_env_name(name); !c) return Error{"UnsetEnv: " + c.error().message};
    ps.env_ops().push_back({name, std::nullopt});
  }
  return ok();
}
Result<void> h_pass_env(ParseState&, const Directive& d) {
  return Error{d.name + " is not supported: scripts never see the server's own environment (it is root's); "
               "give them the value with SetEnv"};
}

// mod_expires.
Result<void> h_expires_active(ParseState& ps, const Directive& d) {
  if (!iequals(d.args[0], "on") && !iequals(d.args[0], "off")) return Error{"ExpiresActive takes On or Off"};
  ps.expires().active = iequals(d.args[0], "on");
  return ok();
}
Result<void> h_expires_default(ParseState& ps, const Directive& d) {
  auto rule = parse_expires_code(d.args[0]);
  if (!rule) return Error{"ExpiresDefault " + rule.error().message};
  ps.expires().default_rule = *rule;
  return ok();
}
Result<void> h_expires_by_type(ParseState& ps, const Directive& d) {
  std::string type = ascii_lower(d.args[0]);
  size_t slash = type.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == type.size() || type.find_first_of(" ;,") != std::string::npos)
    return Error{"ExpiresByType: '" + d.args[0] + "' is not a MIME type (type/subtype, or type/* for all of a type)"};
  auto rule = parse_expires_code(d.args[1]);
  if (!rule) return Error{"ExpiresByType " + d.args[0] + " " + rule.error().message};
  ps.expires().by_type[type] = *rule;
  return ok();
}

// mod_setenvif: at server and vhost level evaluated once its vhost is known; in a
// <Directory> (or .htaccess) once the request's file is known.
Result<void> setenvif(ParseState& ps, const Directive& d, std::vector<std::string> args, bool nocase) {
  auto rule = parse_setenvif(args, nocase);
  if (!rule) return Error{d.name + ": " + rule.error().message};
  rule->where = d.where;
  (ps.context == kCtxDirectory ? ps.dir().setenvif : ps.vh().vhost.setenvif).push_back(std::move(*rule));
  return ok();
}
Result<void> h_setenvif(ParseState& ps, const Directive& d) { return setenvif(ps, d, d.args, false); }
Result<void> h_setenvif_nocase(ParseState& ps, const Directive& d) { return setenvif(ps, d, d.args, true); }
Result<void> h_browser_match(ParseState& ps, const Directive& d) {
  std::vector<std::string> args{"User-Agent"};
  args.insert(args.end(), d.args.begin(), d.args.end());
  return setenvif(ps, d, std::move(args), iequals(d.name, "BrowserMatchNoCase"));
}

// mod_rewrite: at server and vhost level, and in <Directory path>, whose path the rules
// match below. (<Location>/<Files> are refused by their contexts: Apache itself warns
// that rules there are unreliable.)
Result<RewriteSettings*> rewrite_scope(ParseState& ps, const Directive& d) {
  if (ps.context != kCtxDirectory) return &ps.vh().vhost.rewrite;
  if (ps.dir().is_regex)
    return Error{d.name + " inside <DirectoryMatch> is not supported: per-directory rules match the path below "
                 "the directory, which a regex does not name; use <Directory /path>"};
  return &ps.dir().rewrite;
}
Result<void> h_rewrite_engine(ParseState& ps, const Directive& d) {
  auto scope = rewrite_scope(ps, d);
  if (!scope) return Error{scope.error().message};
  if (!iequals(d.args[0], "on") && !iequals(d.args[0], "off")) return Error{"RewriteEngine takes On or Off"};
  (*scope)->engine = iequals(d.args[0], "on");
  return ok();
}
Result<void> h_rewrite_cond(ParseState& ps, const Directive& d) {
  auto scope = rewrite_scope(ps, d);
  if (!scope) return Error{scope.error().message};
  auto cond = parse_rewrite_condition(d.args);
  if (!cond) return Error{cond.error().message};
  cond->where = d.where;
  (*scope)->pending.push_back(std::move(*cond));
  return ok();
}
Result<void> h_rewrite_rule(ParseState& ps, const Directive& d) {
  auto scope = rewrite_scope(ps, d);
  if (!scope) return Error{scope.error().message};
  auto rule = parse_rewrite_rule(d.args);
  if (!rule) return Error{rule.error().message};
  rule->where = d.where;
  rule->conditions = std::move((*scope)->pending);
  (*scope)->pending.clear();
  note_group_use(*rule);
  (*scope)->rules.push_back(std::move(*rule));
  return ok();
}
Result<void> h_rewrite_base(ParseState& ps, const Directive& d) {
  auto scope = rewrite_scope(ps, d);
  if (!scope) return Error{scope.error().message};
  const std::string& base = d.args[0];
  if (base.empty() || base[0] != '/' || base.find_first_of("?#\r\n") != std::string::npos)
    return Error{"RewriteBase takes a URL path such as / or /blog/, not '" + base + "'"};
  (*scope)->base = base;
  return ok();
}
Result<void> h_rewrite_options(ParseState& ps, const Directive& d) {
  auto scope = rewrite_scope(ps, d);
  if (!scope) return Error{scope.error().message};
  if (auto r = parse_rewrite_options(d.args, **scope); !r) return Error{r.error().message};
  if ((*scope)->inherit_down && ps.context != kCtxServer)
    return Error{"RewriteOptions InheritDown belongs at server level (it makes every <VirtualHost> inherit)"};
  return ok();
}
Result<void> h_rewrite_map(ParseState&, const Directive& d) {
  return Error{d.name + " is not supported: itkd has no RewriteMap (txt:, dbm:, prg: maps); write the "
               "mappings as RewriteRule lines"};
}

constexpr unsigned kDirOnly = kCtxDirectory | kCtxFiles;
constexpr unsigned kAllScopes = kCtxServer | kCtxVhost | kCtxDirectory | kCtxFiles;

constexpr DirectiveSpec D(std::string_view name, unsigned contexts, int min_args, int max_args,
                          DirectiveHandler handler, bool security = false,
                          bool directory_unsupported = false) {
  DirectiveSpec s;
  s.name = name;
  s.contexts = contexts;
  s.min_args = min_args;
  s.max_args = max_args;
  s.handler = handler;
  s.security = security;
  s.directory_unsupported = directory_unsupported;
  return s;
}
constexpr DirectiveSpec FilesOk(DirectiveSpec s) {
  s.files_ok = true;
  return s;
}
// Access rules: applied in <Directory>, <Files> and <Location> alike.
constexpr DirectiveSpec Access(DirectiveSpec s) {
  s.files_ok = true;
  s.location_ok = true;
  s.security = true;
  return s;
}
// Applied in every section: <Directory>, <Files> and <Location> (Header).
constexpr DirectiveSpec AnySection(DirectiveSpec s) {
  s.files_ok = true;
  s.location_ok = true;
  return s;
}
// Usable in .htaccess files where AllowOverride grants one of `classes`.
constexpr DirectiveSpec Ov(unsigned classes, DirectiveSpec s) {
  s.overrides = classes;
  return s;
}
constexpr DirectiveSpec S(std::string_view name, unsigned contexts, int min_args, int max_args,
                          SectionKind kind) {
  DirectiveSpec s = D(name, contexts, min_args, max_args, nullptr);
  s.section = kind;
  return s;
}
constexpr DirectiveSpec I(std::string_view name, unsigned contexts, std::string_view note) {
  DirectiveSpec s = D(name, contexts, 0, -1, nullptr);
  s.ignored_note = note;
  return s;
}

// clang-format off
const DirectiveSpec kTable[] = {
  D("Listen", kCtxServer, 1, 2, h_listen),
  D("ServerRoot", kCtxServer, 1, 1, h_server_root),
  D("Include", kAllScopes, 1, 1, h_include),
  D("IncludeOptional", kAllScopes, 1, 1, h_include_optional),
  D("User", kCtxServer, 1, 1, h_user),
  D("Group", kCtxServer, 1, 1, h_group),
  D("ServerName", kCtxServerVhost, 1, 1, h_server_name),
  D("ServerAlias", kCtxVhost, 1, -1, h_server_alias),
  D("DocumentRoot", kCtxServerVhost, 1, 1, h_document_root),
  Ov(kOverrideIndexes, D("DirectoryIndex", kAllScopes, 1, -1, h_directory_index)),
  Ov(kOverrideIndexes, D("FallbackResource", kCtxServer | kCtxVhost | kCtxDirectory, 1, 1, h_fallback_resource)),
  Ov(kOverrideFileInfo, AnySection(D("Header", kAllScopes, 1, 6, h_header))),
  Ov(kOverrideFileInfo, AnySection(D("RequestHeader", kAllScopes, 1, 5, h_request_header))),
  Ov(kOverrideFileInfo, D("FileETag", kCtxServer | kCtxVhost | kCtxDirectory, 1, 3, h_file_etag)),
  D("Protocols", kCtxServerVhost, 1, -1, h_protocols),
  I("ProtocolsHonorOrder", kCtxServerVhost, "itkd speaks only HTTP/1.1"),
  I("DefaultType", kAllScopes, "Apache 2.4 ignores it too; files without a known type get none (use AddType)"),
  Ov(kOverrideFileInfo, D("SetEnvIf", kCtxServer | kCtxVhost | kCtxDirectory, 3, -1, h_setenvif)),
  Ov(kOverrideFileInfo, D("SetEnvIfNoCase", kCtxServer | kCtxVhost | kCtxDirectory, 3, -1, h_setenvif_nocase)),
  Ov(kOverrideFileInfo, D("BrowserMatch", kCtxServer | kCtxVhost | kCtxDirectory, 2, -1, h_browser_match)),
  Ov(kOverrideFileInfo, D("BrowserMatchNoCase", kCtxServer | kCtxVhost | kCtxDirectory, 2, -1, h_browser_match)),
  Ov(kOverrideFileInfo, D("SetEnvIfExpr", kCtxServer | kCtxVhost | kCtxDirectory, 2, -1, h_not_supported)),
  Ov(kOverrideFileInfo, D("RewriteEngine", kCtxServer | kCtxVhost | kCtxDirectory, 1, 1, h_rewrite_engine)),
  Ov(kOverrideFileInfo, D("RewriteCond", kCtxServer | kCtxVhost | kCtxDirectory, 2, 3, h_rewrite_cond)),
  Ov(kOverrideFileInfo, D("RewriteRule", kCtxServer | kCtxVhost | kCtxDirectory, 2, 3, h_rewrite_rule)),
  Ov(kOverrideFileInfo, D("RewriteBase", kCtxDirectory, 1, 1, h_rewrite_base)),
  Ov(kOverrideFileInfo, D("RewriteOptions", kCtxServer | kCtxVhost | kCtxDirectory, 1, -1, h_rewrite_options)),
  D("RewriteMap", kCtxServerVhost, 2, 3, h_rewrite_map),
  I("RewriteLog", kCtxServerVhost, "Apache 2.4 replaced it by LogLevel rewrite:traceN; itkd logs rewrites at LogLevel debug"),
  I("RewriteLogLevel", kCtxServerVhost, "Apache 2.4 replaced it by LogLevel rewrite:traceN; itkd logs rewrites at LogLevel debug"),
  Ov(kOverrideFileInfo, AnySection(D("SetEnv", kAllScopes, 1, 2, h_set_env))),
  Ov(kOverrideFileInfo, AnySection(D("UnsetEnv", kAllScopes, 1, -1, h_unset_env))),
  Ov(kOverrideFileInfo, D("PassEnv", kAllScopes, 1, -1, h_pass_env)),
  Ov(kOverrideIndexes, AnySection(D("ExpiresActive", kAllScopes, 1, 1, h_expires_active))),
  Ov(kOverrideIndexes, AnySection(D("ExpiresDefault", kAllScopes, 1, 1, h_expires_default))),
  Ov(kOverrideIndexes, AnySection(D("ExpiresByType", kAllScopes, 2, 2, h_expires_by_type))),
  Ov(kOverrideOptions, D("Options", kDirOnly, 1, -1, h_options, true)),
  D("AllowOverride", kCtxDirectory, 1, -1, h_allow_override),
  D("AccessFileName", kCtxServerVhost, 1, -1, h_access_file_name),
  D("AllowOverrideList", kCtxDirectory, 1, -1, h_allow_override_list),
  Ov(kOverrideAuthConfig, Access(D("Require", kDirOnly, 1, -1, h_require))),
  Ov(kOverrideLimit, Access(D("Order", kDirOnly, 1, 1, h_order))),
  Ov(kOverrideLimit, Access(D("Allow", kDirOnly, 1, -1, h_allow_deny))),
  Ov(kOverrideLimit, Access(D("Deny", kDirOnly, 1, -1, h_allow_deny))),
  Ov(kOverrideAuthConfig, Access(D("Satisfy", kDirOnly, 1, 1, h_satisfy))),
  Ov(kOverrideAuthConfig, D("CGIPassAuth", kDirOnly, 1, 1, h_cgi_pass_auth)),
  Ov(kOverrideAuthConfig, Access(D("AuthType", kDirOnly, 1, 1, h_auth_type))),
  Ov(kOverrideAuthConfig, Access(D("AuthName", kDirOnly, 1, 1, h_auth_name))),
  Ov(kOverrideAuthConfig, Access(D("AuthUserFile", kDirOnly, 1, 1, h_auth_user_file))),
  Ov(kOverrideAuthConfig, Access(D("AuthBasicProvider", kDirOnly, 1, -1, h_auth_basic_provider))),
  D("Alias", kCtxServerVhost, 2, 2, h_alias),
  D("ScriptAlias", kCtxServerVhost, 2, 2, h_script_alias),
  Ov(kOverrideFileInfo, D("Redirect", kAllScopes, 1, 3, h_redirect)),
  Ov(kOverrideFileInfo, D("RedirectPermanent", kAllScopes, 1, 2, h_redirect_fixed)),
  Ov(kOverrideFileInfo, D("RedirectTemp", kAllScopes, 1, 2, h_redirect_fixed)),
  Ov(kOverrideFileInfo, D("RedirectMatch", kAllScopes, 1, 3, h_redirect_match)),
  D("AliasMatch", kCtxServerVhost, 2, 2, h_not_supported),
  D("ScriptAliasMatch", kCtxServerVhost, 2, 2, h_not_supported),
  Ov(kOverrideFileInfo, D("ErrorDocument", kAllScopes, 2, -1, h_error_document)),
  Ov(kOverrideFileInfo, D("AddType", kAllScopes, 2, -1, h_add_type)),
  Ov(kOverrideFileInfo, D("AddDefaultCharset", kAllScopes, 1, 1, h_add_default_charset)),
  D("TypesConfig", kCtxServer, 1, 1, h_types_config),
  D("ErrorLog", kCtxServerVhost, 1, 1, h_error_log),
  D("LogLevel", kCtxServerVhost, 1, -1, h_log_level),
  D("LogFormat", kCtxServerVhost, 1, 2, h_log_format),
  D("CustomLog", kCtxServerVhost, 2, 3, h_custom_log),
  D("TransferLog", kCtxServerVhost, 1, 1, h_transfer_log),
  D("PidFile", kCtxServer, 1, 1, h_pid_file),
  D("Timeout", kCtxServerVhost, 1, 1, h_limit<unsigned, &HttpLimits::timeout_s>),
  D("KeepAlive", kCtxServerVhost, 1, 1, h_keep_alive),
  D("KeepAliveTimeout", kCtxServerVhost, 1, 1, h_limit<unsigned, &HttpLimits::keep_alive_timeout_s>),
  D("MaxKeepAliveRequests", kCtxServerVhost, 1, 1, h_limit<unsigned, &HttpLimits::max_keep_alive_requests>),
  D("LimitRequestLine", kCtxServerVhost, 1, 1, h_limit<size_t, &HttpLimits::limit_request_line>),
  D("LimitRequestFieldSize", kCtxServerVhost, 1, 1, h_limit<size_t, &HttpLimits::limit_request_field_size>),
  D("LimitRequestFields", kCtxServerVhost, 1, 1, h_limit<size_t, &HttpLimits::limit_request_fields>),
  D("LimitRequestBody", kCtxServerVhost, 1, 1, h_limit<uint64_t, &HttpLimits::limit_request_body>, false, true),
  D("RequestReadTimeout", kCtxServerVhost, 1, 3, h_request_read_timeout),
  D("AssignUserID", kCtxServerVhost, 2, 2, h_assign_user_id),
  D("SuexecUserGroup", kCtxServerVhost, 2, 2, h_assign_user_id),
  D("MaxClientsVHost", kCtxServerVhost, 1, 1, h_max_clients_vhost),
  D("NiceValue", kCtxServerVhost, 1, 1, h_nice_value),
  D("OwnerConfinement", kCtxServerVhost, 1, 1,
    h_owner_flag<&VirtualHost::owner_confinement, &VirtualHost::owner_confinement_where>),
  D("OwnerPrivateTmp", kCtxServerVhost, 1, 1,
    h_owner_flag<&VirtualHost::owner_private_tmp, &VirtualHost::owner_private_tmp_where>),
  D("OwnerTmpDirectory", kCtxServer, 1, 1, h_owner_tmp_directory),
  D("RemoteIPProxyProtocol", kCtxServerVhost, 1, 1, h_remoteip_proxy_protocol),
  D("RemoteIPProxyProtocolExceptions", kCtxServerVhost, 1, -1, h_remoteip_proxy_protocol_exceptions),
  D("RemoteIPHeader", kCtxServerVhost, 1, 1, h_remoteip_header),
  D("RemoteIPInternalProxy", kCtxServerVhost, 1, -1, h_remoteip_proxy<true>),
  D("RemoteIPTrustedProxy", kCtxServerVhost, 1, -1, h_remoteip_proxy<false>),
  D("RemoteIPInternalProxyList", kCtxServerVhost, 1, 1, h_not_supported),
  D("RemoteIPTrustedProxyList", kCtxServerVhost, 1, 1, h_not_supported),
  D("RemoteIPProxiesHeader", kCtxServerVhost, 1, 1, h_not_supported),
  D("OwnerReadWritePaths", kCtxServerVhost, 1, -1, h_owner_paths<true>),
  D("OwnerReadOnlyPaths", kCtxServerVhost, 1, -1, h_owner_paths<false>),
  D("LimitUIDRange", kCtxServer, 2, 2, h_limit_uid_range),
  D("LimitGIDRange", kCtxServer, 2, 2, h_limit_gid_range),
  D("FrontUser", kCtxServer, 1, 1, h_front_user),
  D("FrontGroup", kCtxServer, 1, 1, h_front_group),
  D("FrontChroot", kCtxServer, 1, 1, h_front_chroot),
  D("FrontProcesses", kCtxServer, 1, 1, h_front_processes),
  D("PoolMaxWorkers", kCtxServer, 1, 1, h_pool_max_workers),
  D("PoolIdleTimeout", kCtxServer, 1, 1, h_pool_idle_timeout),
  D("Define", kAllScopes, 1, 2, h_define),
  D("UnDefine", kAllScopes, 1, 1, h_undefine),
  Ov(kOverrideFileInfo, FilesOk(D("SetHandler", kAllScopes, 1, -1, h_set_handler, true))),
  Ov(kOverrideFileInfo, D("AddHandler", kAllScopes, 1, -1, h_add_handler, true)),
  Ov(kOverrideFileInfo, D("RemoveHandler", kAllScopes, 1, -1, h_remove_handler, true)),
  D("ProxyPassMatch", kCtxServerVhost, 2, -1, h_proxy_pass_match, true),
  D("ProxyTimeout", kCtxServerVhost, 1, 1, h_proxy_timeout),
  D("ProxySet", kCtxServerVhost | kCtxProxy, 1, -1, h_proxy_set),
  D("RLimitCPU", kCtxServerVhost, 1, 2, h_rlimit<&ScriptLimits::cpu_s>, false, true),
  D("RLimitMEM", kCtxServerVhost, 1, 2, h_rlimit<&ScriptLimits::mem_bytes>, false, true),
  D("RLimitNPROC", kCtxServerVhost, 1, 2, h_rlimit<&ScriptLimits::nproc>, false, true),
  D("FcgidWrapper", kCtxServerVhost, 1, 3, h_fcgid_wrapper, true, true),
  D("FcgidMaxProcessesPerClass", kCtxServerVhost, 1, 1, h_fcgid_number<&FcgidSettings::max_processes_per_class>),
  D("FcgidMinProcessesPerClass", kCtxServerVhost, 1, 1, h_fcgid_number<&FcgidSettings::min_processes_per_class>),
  D("FcgidIdleTimeout", kCtxServerVhost, 1, 1, h_fcgid_number<&FcgidSettings::idle_timeout_s>),
  D("FcgidMaxRequestsPerProcess", kCtxServerVhost, 1, 1, h_fcgid_number<&FcgidSettings::max_requests_per_process>),
  D("FcgidIOTimeout", kCtxServerVhost, 1, 1, h_fcgid_number<&FcgidSettings::io_timeout_s>),
  D("FcgidInitialEnv", kCtxServerVhost, 1, 2, h_fcgid_initial_env),
  Ov(kOverrideOptions, D("php_value", kCtxServerVhost | kCtxDirectory, 2, 2, h_php_ini<false, false>)),
  Ov(kOverrideOptions, D("php_flag", kCtxServerVhost | kCtxDirectory, 2, 2, h_php_ini<false, true>)),
  D("php_admin_value", kCtxServerVhost | kCtxDirectory, 2, 2, h_php_ini<true, false>),
  D("php_admin_flag", kCtxServerVhost | kCtxDirectory, 2, 2, h_php_ini<true, true>),
  Ov(kOverrideFileInfo, D("Action", kAllScopes, 1, -1, h_handler_not_supported, true)),
  Ov(kOverrideFileInfo, D("ForceType", kAllScopes, 1, 1, h_handler_not_supported, true)),
  D("SSLEngine", kCtxServerVhost, 1, 1, h_ssl_engine),
  D("SSLCertificateFile", kCtxServerVhost, 1, 1, h_ssl_file<&TlsConfig::certificate_file>),
  D("SSLCertificateKeyFile", kCtxServerVhost, 1, 1, h_ssl_file<&TlsConfig::certificate_key_file>),
  D("SSLCertificateChainFile", kCtxServerVhost, 1, 1, h_ssl_file<&TlsConfig::certificate_chain_file>),
  D("SSLProtocol", kCtxServerVhost, 1, -1, h_ssl_protocol),
  D("SSLCipherSuite", kCtxServerVhost, 1, 2, h_ssl_cipher_suite, false, true),
  D("SSLHonorCipherOrder", kCtxServerVhost, 1, 1, h_ssl_flag<&TlsConfig::honor_cipher_order>),
  D("SSLSessionTickets", kCtxServerVhost, 1, 1, h_ssl_flag<&TlsConfig::session_tickets>),
  Ov(kOverrideAuthConfig, D("SSLVerifyClient", kAllScopes, 1, 1, h_ssl_verify_client, true)),
  D("SSLCACertificateFile", kCtxServerVhost, 1, 1, h_ssl_client_ca),
  D("SSLCACertificatePath", kCtxServerVhost, 1, 1, h_ssl_client_ca),
  D("SSLCARevocationFile", kCtxServerVhost, 1, 1, h_ssl_client_ca),
  D("SSLCARevocationPath", kCtxServerVhost, 1, 1, h_ssl_client_ca),

  S("VirtualHost", kCtxServer, 1, -1, SectionKind::VirtualHost),
  S("Directory", kCtxServerVhost, 1, 2, SectionKind::Directory),
  S("DirectoryMatch", kCtxServerVhost, 1, 1, SectionKind::Directory),
  Ov(kOverrideAll, S("Files", kAllScopes, 1, 2, SectionKind::Files)),
  Ov(kOverrideAll, S("FilesMatch", kAllScopes, 1, 1, SectionKind::Files)),
  S("Location", kCtxServerVhost, 1, 2, SectionKind::Files),
  S("LocationMatch", kCtxServerVhost, 1, 1, SectionKind::Files),
  S("Proxy", kCtxServerVhost, 1, -1, SectionKind::Proxy),
  Ov(kOverrideAuthConfig, Access(S("RequireAll", kDirOnly, 0, 0, SectionKind::RequireContainer))),
  Ov(kOverrideAll, Access(S("Limit", kDirOnly, 1, -1, SectionKind::Limit))),
  Ov(kOverrideAll, Access(S("LimitExcept", kDirOnly, 1, -1, SectionKind::Limit))),
  Ov(kOverrideAuthConfig, Access(S("RequireAny", kDirOnly, 0, 0, SectionKind::RequireContainer))),
  Ov(kOverrideAuthConfig, Access(S("RequireNone", kDirOnly, 0, 0, SectionKind::RequireContainer))),
  Ov(kOverrideAll, S("IfModule", kAllScopes, 1, 1, SectionKind::IfModule)),
  Ov(kOverrideAll, S("IfDefine", kAllScopes, 1, 1, SectionKind::IfDefine)),

  // Known Apache directives that change nothing itkd does (process model, cosmetics).
  I("LoadModule", kCtxServer, "itkd has no loadable modules"),
  I("LoadFile", kCtxServer, "itkd has no loadable modules"),
  I("ServerAdmin", kCtxServerVhost, "itkd's error pages do not show it"),
  I("ServerSignature", kAllScopes, "itkd's error pages have no signature"),
  I("ServerTokens", kCtxServer, "itkd always sends 'Server: itkd'"),
  I("HostnameLookups", kAllScopes, "itkd never does reverse DNS"),
  I("Mutex", kCtxServer, "itkd needs no accept mutex"),
  I("DefaultRuntimeDir", kCtxServer, "itkd keeps no runtime files there"),
  I("MaxRequestWorkers", kCtxServer, "use PoolMaxWorkers and FrontProcesses"),
  I("MaxClients", kCtxServer, "use PoolMaxWorkers and FrontProcesses"),
  I("StartServers", kCtxServer, "itkd starts workers on demand"),
  I("MinSpareServers", kCtxServer, "itkd starts workers on demand"),
  I("MaxSpareServers", kCtxServer, "idle workers exit after PoolIdleTimeout"),
  I("MaxConnectionsPerChild", kCtxServer, "not needed by itkd's process model"),
  I("MaxRequestsPerChild", kCtxServer, "not needed by itkd's process model"),
  I("ServerLimit", kCtxServer, "use PoolMaxWorkers and FrontProcesses"),
  I("ThreadsPerChild", kCtxServer, "itkd workers are not threaded"),
  I("ThreadLimit", kCtxServer, "itkd workers are not threaded"),
  I("EnableSendfile", kAllScopes, "itkd decides itself"),
  I("EnableMMAP", kAllScopes, "itkd decides itself"),
  I("UseCanonicalName", kAllScopes, "itkd always uses the Host header"),
  I("TraceEnable", kCtxServerVhost, "itkd never answers TRACE"),
  I("AddLanguage", kAllScopes, "no content negotiation"),
  I("AddCharset", kAllScopes, "no content negotiation"),
  I("LanguagePriority", kAllScopes, "no content negotiation"),
  I("ForceLanguagePriority", kAllScopes, "no content negotiation"),
  I("IndexOptions", kAllScopes, "itkd's listings have one style"),
  I("IndexIgnore", kAllScopes, "itkd's listings have one style"),
  I("AddIcon", kAllScopes, "itkd's listings have no icons"),
  I("AddIconByType", kAllScopes, "itkd's listings have no icons"),
  I("AddIconByEncoding", kAllScopes, "itkd's listings have no icons"),
  I("DefaultIcon", kAllScopes, "itkd's listings have no icons"),
  I("AddDescription", kAllScopes, "itkd's listings have no descriptions"),
  I("ReadmeName", kAllScopes, "itkd's listings have no readme"),
  I("HeaderName", kAllScopes, "itkd's listings have no header file"),
  // mod_cgid / mod_proxy / mod_fcgid settings that have no counterpart in itkd's model.
  I("ScriptSock", kCtxServer, "itkd runs CGI scripts from the owner's worker, no cgid daemon"),
  I("CGIDScriptTimeout", kAllScopes, "Timeout applies to CGI scripts"),
  I("ProxyRequests", kCtxServerVhost, "itkd is never a forward proxy"),
  I("ProxyFCGIBackendType", kAllScopes, "SCRIPT_FILENAME is always the plain file path (FPM style)"),
  I("FcgidIPCDir", kCtxServer, "each worker keeps its FastCGI sockets in a private directory"),
  I("FcgidProcessTableFile", kCtxServer, "each worker manages its own processes"),
  I("FcgidConnectTimeout", kCtxServerVhost, "connects to managed processes do not wait"),
  I("FcgidIdleScanInterval", kCtxServer, "idle processes are checked every second"),
  I("FcgidBusyScanInterval", kCtxServer, "FcgidIOTimeout bounds a busy request"),
  I("FcgidErrorScanInterval", kCtxServer, "dead processes are noticed at once (pidfd)"),
  I("FcgidZombieScanInterval", kCtxServer, "dead processes are reaped at once (pidfd)"),
  I("FcgidSpawnScore", kCtxServer, "processes start on demand up to FcgidMaxProcessesPerClass"),
  I("FcgidSpawnScoreUpLimit", kCtxServer, "processes start on demand up to FcgidMaxProcessesPerClass"),
  I("FcgidTerminationScore", kCtxServer, "processes start on demand up to FcgidMaxProcessesPerClass"),
  I("FcgidTimeScore", kCtxServer, "processes start on demand up to FcgidMaxProcessesPerClass"),
  I("FcgidOutputBufferSize", kCtxServerVhost, "output is streamed as it comes"),
  I("FcgidMaxProcesses", kCtxServer, "limits are per pool and per class (FcgidMaxProcessesPerClass)"),
  I("FcgidBusyTimeout", kCtxServerVhost, "not supported yet; FcgidIOTimeout bounds each wait"),
  I("FcgidProcessLifeTime", kCtxServerVhost, "not supported yet; FcgidIdleTimeout and FcgidMaxRequestsPerProcess apply"),
  I("FcgidMaxRequestLen", kCtxServerVhost, "not supported yet; LimitRequestBody applies"),
  I("SSLCompression", kCtxServerVhost, "TLS compression is always off (CRIME)"),
  I("SSLUseStapling", kCtxServerVhost, "OCSP stapling is not supported yet"),
  I("SSLStaplingCache", kCtxServer, "OCSP stapling is not supported yet"),
  I("SSLSessionCache", kCtxServer, "each owner's worker keeps its own session cache"),
  I("SSLSessionCacheTimeout", kCtxServerVhost, "each owner's worker keeps its own session cache"),
  I("SSLRandomSeed", kCtxServer, "OpenSSL seeds itself from the kernel"),
  I("SSLPassPhraseDialog", kCtxServer, "key files must not be encrypted: workers start unattended"),
  I("SSLOptions", kAllScopes, "HTTPS and SSL_* basics are always passed to CGI/FastCGI"),
  I("SSLVerifyDepth", kAllScopes, "client certificates are not supported"),
};
// clang-format on

}  // namespace

Result<void> begin_proxy_section(ParseState& ps, const Directive& d) { return open_proxy_worker(ps, d); }

const DirectiveSpec* find_directive(std::string_view name) {
  static const std::unordered_map<std::string, const DirectiveSpec*> index = [] {
    std::unordered_map<std::string, const DirectiveSpec*> m;
    for (const auto& s : kTable) m.emplace(ascii_lower(s.name), &s);
    return m;
  }();
  auto it = index.find(ascii_lower(name));
  return it == index.end() ? nullptr : it->second;
}

bool module_is_loaded(std::string_view name) {
  // mod_mime.c, mod_mime, mime_module -> "mime"; mpm-itk.c -> "mpm_itk".
  std::string n = ascii_lower(name);
  if (n.size() > 2 && n.ends_with(".c")) n.resize(n.size() - 2);
  if (n.starts_with("mod_")) n = n.substr(4);
  if (n.ends_with("_module")) n.resize(n.size() - 7);
  for (char& c : n)
    if (c == '-') c = '_';
  // cgi/cgid, fcgid, proxy and proxy_fcgi are native (src/worker/cgi, src/worker/fastcgi):
  // their blocks hold the SetHandler/AddHandler/ProxyPassMatch lines for PHP and CGI.
  // authz_host, access_compat: Require ip/local and Order/Allow/Deny (worker/static/access_check).
  // ssl: TLS is terminated by each owner's worker (src/tls), configured by the SSL* lines.
  // headers: Header and RequestHeader (worker/header_edits); expires (worker/expires_headers);
  // env: SetEnv and UnsetEnv (config/script_env, passed with each script's variables).
  // rewrite: RewriteEngine/Cond/Rule/Base/Options (config/rewrite_rules, worker/rewrite_engine).
  // remoteip: RemoteIPProxyProtocol (front) and RemoteIPHeader (worker/remote_ip).
  static const std::string_view kLoaded[] = {
      "core", "http_core", "so", "unixd", "mime", "dir", "alias", "log_config", "autoindex",
      "authz_core", "authz_host", "access_compat", "auth_basic", "authn_core", "authn_file",
      "authz_user", "reqtimeout", "cgi", "cgid", "mpm_itk", "itk", "proxy", "proxy_fcgi",
      "fcgid", "ssl", "headers", "expires", "env", "suexec", "rewrite", "setenvif", "remoteip"};
  for (auto m : kLoaded)
    if (m == n) return true;
  return false;
}

Result<std::string> normalize_path(const std::string& path) {
  if (path.empty() || path[0] != '/') return Error{"'" + path + "' is not an absolute path"};
  std::string out;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t end = path.find('/', i);
    if (end == std::string::npos) end = path.size();
    std::string_view seg(path.data() + i, end - i);
    i = end;
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") return Error{"path '" + path + "' contains '..'; write the real path"};
    out += '/';
    out += seg;
  }
  return out.empty() ? std::string("/") : out;
}

ParseState::ParseState(ConfigSource& src, const ParseOptions& opts) : source(src), options(opts) {
  vhosts.emplace_back();
  vhosts[0].vhost.is_main_server = true;
  for (const auto& d : opts.defines) defines[d] = "";
  config.log_formats["combined"] =
      "%h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"";
  config.log_formats["common"] = "%h %l %u %t \"%r\" %>s %O";
}

std::string ParseState::server_relative(const std::string& path) const {
  if (!path.empty() && path[0] == '/') return path;
  return config.server_root + (config.server_root == "/" ? "" : "/") + path;
}

}  // namespace itkd
