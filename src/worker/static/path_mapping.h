// URL path -> filesystem location: percent-decoding, dot-segment removal, and the
// Redirect / Alias / ScriptAlias / DocumentRoot translation of mod_alias and core.
// Internal to itkd_static (serve_static is the public entry point).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/server_config.h"

namespace itkd {

enum class DecodeStatus { Ok, Invalid, Nul, EncodedSlash };
// Like percent_decode_path, but says why it refused: a bad escape or NUL is a 400, an
// encoded slash a 404 (Apache's AllowEncodedSlashes Off).
DecodeStatus percent_decode_path_checked(std::string_view raw, std::string& out);

// Percent-encodes a decoded path for a Location header or an href: keeps RFC 3986
// unreserved and sub-delims plus ':' '@' '/', escapes everything else (controls, space,
// '%', '?', '#', quotes, non-ASCII).
std::string escape_url_path(std::string_view path);

// Apache's alias_matches(): length of `path` matched by `prefix` on a segment boundary,
// or 0 when it does not match.
size_t url_prefix_match(std::string_view path, std::string_view prefix);

struct UrlMapping {
  int redirect_status = 0;     // nonzero: a Redirect rule matched (3xx or 410)
  std::string location;        // absolute URL for a 3xx
  std::string base;            // filesystem directory (or file, for an exact Alias) opened first
  std::string relative;        // decoded path beneath base, no leading '/', may be empty
  bool is_script = false;      // ScriptAlias target: not served as a static file
};

// `path` is decoded and normalized (remove_dot_segments output).
UrlMapping map_url(const VirtualHost& vhost, const std::string& path, std::string_view query,
                   bool has_query, std::string_view scheme, std::string_view authority);

// The first of `rules` (Redirect, RedirectMatch) that matches the decoded, normalized
// `path` fills m.redirect_status and m.location; false if none does.
bool match_redirects(const std::vector<RedirectRule>& rules, const VirtualHost& vhost, const std::string& path,
                     std::string_view query, bool has_query, std::string_view scheme, std::string_view authority,
                     UrlMapping& m);

// scheme://authority (authority falls back to the ServerName).
std::string absolute_url_prefix(const VirtualHost& vhost, std::string_view scheme,
                                std::string_view authority);

}  // namespace itkd
