#include "worker/cgi/cgi_environment.h"

#include <sys/stat.h>

#include <charconv>

#include "common/socket_address.h"
#include "worker/section_walk.h"

namespace itkd {

PathInfoSplit split_path_info(std::string_view fs_path) {
  PathInfoSplit out;
  std::string path(fs_path);
  size_t end = path.size();
  while (end > 1) {
    std::string prefix = path.substr(0, end);
    struct stat st {};
    if (::stat(prefix.c_str(), &st) == 0) {
      if (!S_ISREG(st.st_mode)) return out;  // a directory (or device): no script here
      out.found = true;
      out.filename = prefix;
      out.path_info = path.substr(end);
      return out;
    }
    size_t slash = path.rfind('/', end - 1);
    if (slash == std::string::npos || slash == 0) break;
    end = slash;
  }
  return out;
}

std::string script_name_for(std::string_view decoded_path, std::string_view path_info) {
  if (!path_info.empty() && decoded_path.size() >= path_info.size() &&
      decoded_path.substr(decoded_path.size() - path_info.size()) == path_info) {
    return std::string(decoded_path.substr(0, decoded_path.size() - path_info.size()));
  }
  return std::string(decoded_path);
}

std::optional<CgiScript> locate_cgi_script(std::string_view fs_path, std::string_view decoded_path,
                                           std::string_view context_prefix,
                                           std::string_view context_root) {
  PathInfoSplit split = split_path_info(fs_path);
  if (!split.found) return std::nullopt;
  CgiScript s;
  s.filename = std::move(split.filename);
  s.path_info = std::move(split.path_info);
  s.script_name = script_name_for(decoded_path, s.path_info);
  s.context_prefix = std::string(context_prefix);
  s.context_document_root = std::string(context_root);
  return s;
}

CgiScript proxy_pass_script(std::string_view script_filename, std::string_view decoded_path) {
  CgiScript s;
  PathInfoSplit split = split_path_info(script_filename);
  if (split.found) {
    s.filename = std::move(split.filename);
    s.path_info = std::move(split.path_info);
  } else {
    s.filename = std::string(script_filename);
  }
  s.script_name = script_name_for(decoded_path, s.path_info);
  return s;
}

namespace {

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// "User-Agent" -> "HTTP_USER_AGENT" into `out`; names with anything but letters, digits
// and '-' are not passed (Apache 2.4: "X_Forwarded" must not pose as "X-Forwarded").
bool http_variable(std::string_view name, std::string& out) {
  out.assign("HTTP_");
  for (char c : name) {
    if (c >= 'a' && c <= 'z') out += static_cast<char>(c - 'a' + 'A');
    else if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) out += c;
    else if (c == '-') out += '_';
    else return false;
  }
  return true;
}

std::string_view protocol(const http::RequestHead& head) {
  if (head.version_major == 1 && head.version_minor == 0) return "HTTP/1.0";
  if (head.version_major == 0) return "HTTP/0.9";
  return "HTTP/1.1";
}

}  // namespace

void for_each_cgi_variable(const HandlerRequest& r, const CgiScript& s, std::optional<uint64_t> content_length,
                           const CgiVariableVisitor& set) {
  // Request headers first, as Apache does; a repeated header is joined into its first
  // occurrence. Without repeats (the usual case) nothing is copied.
  const auto& fields = r.head.fields;
  const http::HeaderField* content_type = nullptr;
  std::string name;
  std::string joined;
  for (size_t i = 0; i < fields.size(); ++i) {
    const auto& f = fields[i];
    if (iequal(f.name, "Content-Type")) {
      content_type = &f;
      continue;
    }
    // Content-Length and Transfer-Encoding describe the client's framing, which the
    // script never sees (CONTENT_LENGTH is the de-chunked length); Authorization stays
    // with the server unless the directory says CGIPassAuth On (as Apache); Proxy is
    // httpoxy (CVE-2016-5387).
    if (iequal(f.name, "Content-Length") || iequal(f.name, "Transfer-Encoding") ||
        (iequal(f.name, "Authorization") && !s.pass_authorization) || iequal(f.name, "Proxy-Authorization") ||
        iequal(f.name, "Proxy")) {
      continue;
    }
    if (!http_variable(f.name, name)) continue;
    bool seen_before = false;
    for (size_t j = 0; j < i && !seen_before; ++j) seen_before = iequal(fields[j].name, f.name);
    if (seen_before) continue;
    std::string_view value = f.value;
    for (size_t j = i + 1; j < fields.size(); ++j) {
      if (!iequal(fields[j].name, f.name)) continue;
      if (value.data() != joined.data()) joined.assign(f.value);
      // Cookie pairs are separated by "; " (RFC 6265), every other list by ", ".
      joined += name == "HTTP_COOKIE" ? "; " : ", ";
      joined += fields[j].value;
      value = joined;
    }
    set(name, value);
  }

  char port[8];
  auto number = [&port](uint64_t n) {
    return std::string_view(port, static_cast<size_t>(std::to_chars(port, port + sizeof port, n).ptr - port));
  };
  // SetEnv's PATH replaces the default; its HTTPS counts on a plain connection only (an
  // app behind a TLS-terminating proxy), on TLS the server's "on" stands.
  std::string_view path = "/usr/local/bin:/usr/bin:/bin";
  if (r.script_env) {
    for (const auto& [n, v] : *r.script_env)
      if (n == "PATH") path = v;
  }
  set("PATH", path);
  set("SERVER_SIGNATURE", "");
  set("SERVER_SOFTWARE", "itkd");
  set("SERVER_NAME", r.vhost.server_name.empty() ? std::string_view(r.head.host) : r.vhost.server_name);
  set("SERVER_ADDR", address_ip(r.local));
  set("SERVER_PORT", number(address_port(r.local)));
  set("REMOTE_ADDR", address_ip(r.peer));
  set("DOCUMENT_ROOT", r.vhost.document_root);
  set("REQUEST_SCHEME", r.https ? "https" : "http");
  set("CONTEXT_PREFIX", s.context_prefix);
  set("CONTEXT_DOCUMENT_ROOT", s.context_document_root.empty() ? r.vhost.document_root
                                                                : s.context_document_root);
  set("SCRIPT_FILENAME", s.filename);
  set("REMOTE_PORT", number(address_port(r.peer)));
  if (!r.remote_user.empty()) {
    set("REMOTE_USER", r.remote_user);
    set("AUTH_TYPE", "Basic");
  }
  set("GATEWAY_INTERFACE", "CGI/1.1");
  set("SERVER_PROTOCOL", protocol(r.head));
  set("REQUEST_METHOD", r.head.method_text);
  set("QUERY_STRING", r.head.query);
  if (!r.request_uri.empty()) {
    set("REQUEST_URI", r.request_uri);
  } else if (r.head.has_query) {
    joined.assign(r.head.path);
    joined += '?';
    joined += r.head.query;
    set("REQUEST_URI", joined);
  } else {
    set("REQUEST_URI", r.head.path);
  }
  set("SCRIPT_NAME", s.script_name);
  if (!s.path_info.empty()) {
    set("PATH_INFO", s.path_info);
    // Apache maps PATH_INFO as a URL of the same vhost; beneath DocumentRoot here.
    set("PATH_TRANSLATED", r.vhost.document_root + s.path_info);
  }
  if (content_type) set("CONTENT_TYPE", content_type->value);
  if (content_length) set("CONTENT_LENGTH", number(*content_length));
  if (r.https) {
    // mod_ssl's basics (SSLOptions +StdEnvVars subset): enough for apps that check them.
    set("HTTPS", "on");
    set("SSL_PROTOCOL", r.ssl_protocol);
    set("SSL_CIPHER", r.ssl_cipher);
    if (!r.ssl_sni.empty()) set("SSL_TLS_SNI", r.ssl_sni);
  }
  set("REDIRECT_STATUS", number(static_cast<uint64_t>(r.redirect_status)));
  if (!r.redirect_url.empty()) set("REDIRECT_URL", r.redirect_url);
  if (r.script_env) {
    for (const auto& [n, v] : *r.script_env)
      if (n != "PATH" && !(n == "HTTPS" && r.https) && !(n == "HTTP_AUTHORIZATION" && s.pass_authorization))
        set(n, v);
  }
}

ScriptEnv script_env_for(const VirtualHost& vhost, std::string_view script_filename, std::string_view url_path,
                         ScriptEnv base) {
  ScriptEnv env = std::move(base);
  walk_sections(
      vhost, script_filename, url_path, [](const auto& block) { return !block.env_ops.empty(); },
      [&](const auto& section) { apply_script_env_ops(env, section.env_ops); });
  return env;
}

NameValueList build_cgi_environment(const HandlerRequest& r, const CgiScript& s,
                                    std::optional<uint64_t> content_length) {
  NameValueList env;
  for_each_cgi_variable(r, s, content_length, [&env](std::string_view name, std::string_view value) {
    env.emplace_back(name, value);
  });
  return env;
}

std::vector<std::string> environment_strings(const NameValueList& env) {
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [n, v] : env) out.push_back(n + "=" + v);
  return out;
}

}  // namespace itkd
