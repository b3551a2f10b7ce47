#include "worker/static/path_mapping.h"

#include <regex.h>

#include "worker/static/static_handler.h"

namespace itkd {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool keep_in_url(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '-': case '.': case '_': case '~':                       // unreserved
    case '!': case '$': case '&': case '\'': case '(': case ')':  // sub-delims
    case '*': case '+': case ',': case ';': case '=':
    case ':': case '@': case '/':
      return true;
    default:
      return false;
  }
}

std::string strip_trailing_slashes(std::string s) {
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

DecodeStatus percent_decode_path_checked(std::string_view raw, std::string& out) {
  out.clear();
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '\0') return DecodeStatus::Nul;
    if (c != '%') {
      out.push_back(c);
      continue;
    }
    if (i + 2 >= raw.size()) return DecodeStatus::Invalid;
    int hi = hex_value(raw[i + 1]);
    int lo = hex_value(raw[i + 2]);
    if (hi < 0 || lo < 0) return DecodeStatus::Invalid;
    char decoded = static_cast<char>(hi * 16 + lo);
    if (decoded == '\0') return DecodeStatus::Nul;
    if (decoded == '/') return DecodeStatus::EncodedSlash;
    out.push_back(decoded);
    i += 2;
  }
  return DecodeStatus::Ok;
}

bool percent_decode_path(std::string_view raw, std::string& out) {
  return percent_decode_path_checked(raw, out) == DecodeStatus::Ok;
}

bool remove_dot_segments(std::string_view path, std::string& out) {
  out.clear();
  if (path.empty() || path.front() != '/') return false;
  out.push_back('/');
  // Walk segment by segment; `out` always ends with '/' between steps, so ".." pops
  // the last segment and an empty segment ("//") is simply skipped.
  size_t pos = 1;
  bool ends_as_directory = true;
  while (pos <= path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(pos, end - pos);
    bool last = end == path.size();
    if (segment.empty() || segment == ".") {
      ends_as_directory = true;
    } else if (segment == "..") {
      if (out.size() == 1) return false;  // climbing above the root
      out.pop_back();
      out.erase(out.rfind('/') + 1);
      ends_as_directory = true;
    } else {
      out.append(segment);
      out.push_back('/');
      ends_as_directory = !last;
    }
    pos = end + 1;
  }
  if (!ends_as_directory && out.size() > 1) out.pop_back();
  return true;
}

std::string escape_url_path(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(path.size());
  for (char ch : path) {
    auto c = static_cast<unsigned char>(ch);
    if (keep_in_url(c)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

size_t url_prefix_match(std::string_view path, std::string_view prefix) {
  if (prefix.empty()) return 0;
  size_t a = 0;
  size_t u = 0;
  // Any run of '/' in the prefix matches any non-empty run in the path (mod_alias).
  while (a < prefix.size()) {
    if (prefix[a] == '/') {
      if (u >= path.size() || path[u] != '/') return 0;
      while (a < prefix.size() && prefix[a] == '/') ++a;
      while (u < path.size() && path[u] == '/') ++u;
    } else {
      if (u >= path.size() || path[u] != prefix[a]) return 0;
      ++a;
      ++u;
    }
  }
  // "Alias /icons" must not match "/iconsfoo": the match ends on a segment boundary.
  if (prefix.back() != '/' && u < path.size() && path[u] != '/') return 0;
  return u;
}

std::string absolute_url_prefix(const VirtualHost& vhost, std::string_view scheme,
                                std::string_view authority) {
  std::string out(scheme.empty() ? std::string_view("http") : scheme);
  out += "://";
  out += authority.empty() ? std::string_view(vhost.server_name) : authority;
  return out;
}

bool match_redirects(const std::vector<RedirectRule>& rules, const VirtualHost& vhost, const std::string& path,
                     std::string_view query, bool has_query, std::string_view scheme, std::string_view authority,
                     UrlMapping& m) {
  for (const RedirectRule& rule : rules) {
    regmatch_t groups[10];
    size_t matched = 0;
    if (rule.is_regex) {
      if (regexec(rule.regex.get(), path.c_str(), 10, groups, 0) != 0) continue;
    } else {
      matched = url_prefix_match(path, rule.url_prefix);
      if (matched == 0) continue;
    }
    m.redirect_status = rule.status;
    if (rule.status == 410 || rule.target.empty()) {
      m.redirect_status = rule.target.empty() && rule.status >= 300 && rule.status < 400
                              ? 410
                              : rule.status;
      return true;
    }
    std::string target;
    if (rule.is_regex) {
      // $0-$9: the match and its groups, escaped as a URL path is (the path is decoded).
      for (size_t i = 0; i < rule.target.size(); ++i) {
        char c = rule.target[i];
        if (c == '$' && i + 1 < rule.target.size() && rule.target[i + 1] >= '0' && rule.target[i + 1] <= '9') {
          const regmatch_t& g = groups[rule.target[++i] - '0'];
          if (g.rm_so >= 0) target += escape_url_path(std::string_view(path).substr(g.rm_so, g.rm_eo - g.rm_so));
        } else {
          target += c;
        }
      }
    } else {
      target = rule.target + escape_url_path(std::string_view(path).substr(matched));
    }
    if (!target.empty() && target.front() == '/') {
      target = absolute_url_prefix(vhost, scheme, authority) + target;
    }
    if (has_query && target.find('?') == std::string::npos) {
      target += '?';
      target += query;
    }
    m.location = std::move(target);
    return true;
  }
  return false;
}

UrlMapping map_url(const VirtualHost& vhost, const std::string& path, std::string_view query,
                   bool has_query, std::string_view scheme, std::string_view authority) {
  UrlMapping m;
  // mod_alias: every Redirect is tried before any Alias.
  if (match_redirects(vhost.redirects, vhost, path, query, has_query, scheme, authority, m)) return m;

  for (const AliasRule& rule : vhost.aliases) {
    size_t matched = url_prefix_match(path, rule.url_prefix);
    if (matched == 0) continue;
    m.base = strip_trailing_slashes(rule.target);
    size_t rest = matched;
    while (rest < path.size() && path[rest] == '/') ++rest;
    m.relative = path.substr(rest);
    m.is_script = rule.is_script;
    return m;
  }

  m.base = strip_trailing_slashes(vhost.document_root);
  m.relative = path.substr(1);
  return m;
}

}  // namespace itkd
