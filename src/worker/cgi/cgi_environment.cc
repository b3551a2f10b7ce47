#include "worker/cgi/cgi_environment.h"

#include <sys/stat.h>

#include <map>

#include "common/socket_address.h"

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

// "User-Agent" -> "HTTP_USER_AGENT"; names with anything but letters, digits and '-' are
// not passed (Apache 2.4: "X_Forwarded" must not pose as "X-Forwarded").
std::optional<std::string> http_variable(std::string_view name) {
  std::string v = "HTTP_";
  for (char c : name) {
    if (c >= 'a' && c <= 'z') v += static_cast<char>(c - 'a' + 'A');
    else if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) v += c;
    else if (c == '-') v += '_';
    else return std::nullopt;
  }
  return v;
}

std::string_view protocol(const http::RequestHead& head) {
  if (head.version_major == 1 && head.version_minor == 0) return "HTTP/1.0";
  if (head.version_major == 0) return "HTTP/0.9";
  return "HTTP/1.1";
}

}  // namespace

NameValueList build_cgi_environment(const HandlerRequest& r, const CgiScript& s,
                                    std::optional<uint64_t> content_length) {
  NameValueList env;
  auto set = [&](std::string name, std::string value) { env.emplace_back(std::move(name), std::move(value)); };

  // Request headers first, as Apache does; repeated headers are joined.
  std::vector<std::string> order;
  std::map<std::string, std::string> joined;
  std::string content_type;
  bool have_content_type = false;
  for (const auto& f : r.head.fields) {
    if (iequal(f.name, "Content-Type")) {
      content_type = std::string(f.value);
      have_content_type = true;
      continue;
    }
    // Content-Length and Transfer-Encoding describe the client's framing, which the
    // script never sees (CONTENT_LENGTH is the de-chunked length); Authorization stays
    // with the server (Apache without CGIPassAuth); Proxy is httpoxy (CVE-2016-5387).
    if (iequal(f.name, "Content-Length") || iequal(f.name, "Transfer-Encoding") ||
        iequal(f.name, "Authorization") || iequal(f.name, "Proxy-Authorization") ||
        iequal(f.name, "Proxy")) {
      continue;
    }
    auto var = http_variable(f.name);
    if (!var) continue;
    auto [it, fresh] = joined.emplace(*var, std::string(f.value));
    if (fresh) {
      order.push_back(*var);
    } else {
      // Cookie pairs are separated by "; " (RFC 6265), every other list by ", ".
      it->second += *var == "HTTP_COOKIE" ? "; " : ", ";
      it->second += f.value;
    }
  }
  for (const auto& name : order) set(name, joined[name]);

  set("PATH", "/usr/local/bin:/usr/bin:/bin");
  set("SERVER_SIGNATURE", "");
  set("SERVER_SOFTWARE", "itkd");
  set("SERVER_NAME", r.vhost.server_name.empty() ? r.head.host : r.vhost.server_name);
  set("SERVER_ADDR", address_ip(r.local));
  set("SERVER_PORT", std::to_string(address_port(r.local)));
  set("REMOTE_ADDR", address_ip(r.peer));
  set("DOCUMENT_ROOT", r.vhost.document_root);
  set("REQUEST_SCHEME", r.https ? "https" : "http");
  set("CONTEXT_PREFIX", s.context_prefix);
  set("CONTEXT_DOCUMENT_ROOT", s.context_document_root.empty() ? r.vhost.document_root
                                                                : s.context_document_root);
  set("SCRIPT_FILENAME", s.filename);
  set("REMOTE_PORT", std::to_string(address_port(r.peer)));
  set("GATEWAY_INTERFACE", "CGI/1.1");
  set("SERVER_PROTOCOL", std::string(protocol(r.head)));
  set("REQUEST_METHOD", std::string(r.head.method_text));
  set("QUERY_STRING", std::string(r.head.query));
  std::string uri(r.head.path);
  if (r.head.has_query) uri += "?" + std::string(r.head.query);
  set("REQUEST_URI", uri);
  set("SCRIPT_NAME", s.script_name);
  if (!s.path_info.empty()) {
    set("PATH_INFO", s.path_info);
    // Apache maps PATH_INFO as a URL of the same vhost; beneath DocumentRoot here.
    set("PATH_TRANSLATED", r.vhost.document_root + s.path_info);
  }
  if (have_content_type) set("CONTENT_TYPE", content_type);
  if (content_length) set("CONTENT_LENGTH", std::to_string(*content_length));
  if (r.https) {
    // mod_ssl's basics (SSLOptions +StdEnvVars subset): enough for apps that check them.
    set("HTTPS", "on");
    set("SSL_PROTOCOL", std::string(r.ssl_protocol));
    set("SSL_CIPHER", std::string(r.ssl_cipher));
    if (!r.ssl_sni.empty()) set("SSL_TLS_SNI", std::string(r.ssl_sni));
  }
  set("REDIRECT_STATUS", "200");
  return env;
}

std::vector<std::string> environment_strings(const NameValueList& env) {
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [n, v] : env) out.push_back(n + "=" + v);
  return out;
}

}  // namespace itkd
