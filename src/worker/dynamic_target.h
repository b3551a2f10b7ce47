// Does this request run a program (CGI, FastCGI) instead of serving a file? Decided as
// Apache does: ProxyPassMatch on the URL, then the file the URL maps to (ScriptAlias,
// SetHandler, AddHandler + Options ExecCGI), including a DirectoryIndex file and a
// PATH_INFO tail after the script. Everything else is left to the static handler.
#pragma once

#include "worker/static/open_file_cache.h"

#include <optional>
#include <string>

#include "config/server_config.h"
#include "http/request_head.h"
#include "worker/cgi/cgi_environment.h"
#include "worker/handler_choice.h"
#include "worker/handler_memo.h"

namespace itkd {

struct DynamicTarget {
  HandlerChoice choice;   // Cgi, Fcgid, ProxyFcgi, or Forbidden (403)
  CgiScript script;
  int error_status = 0;   // nonzero: answer this error (with `reason` in the log)
  std::string reason;     // empty: nothing to log (a 401 asking for credentials)
  std::string extra_headers;  // with the error: WWW-Authenticate for a 401
  std::string remote_user;    // who authenticated (AuthType Basic), for REMOTE_USER and %u
  std::string decoded_path;
};

// True if the vhost configures any handler besides static files: only then is
// find_dynamic_target worth calling.
bool vhost_has_dynamic_handlers(const VirtualHost& vhost);

// nullopt: static content; serve_static answers (including redirects and errors).
// `files`: the worker's open-file cache. A script found by name is opened (as the owner,
// which proves it readable) once and then only stat-checked, as static files are.
// `memo`: the worker's memo of handlers by file name (none: decided afresh each time).
// Where nothing exists in the filesystem, FallbackResource's URL is tried instead (once),
// unless a handler is set for the missing name: then `fallback_blocked` is set, so the
// static handler answers 404 instead of falling back itself. `client`: who asks, for
// Require ip / local and Allow / Deny (a refused script answers 403 and never runs).
std::optional<DynamicTarget> find_dynamic_target(const VirtualHost& vhost, const http::RequestHead& head,
                                                 OpenFileCache* files = nullptr, HandlerMemo* memo = nullptr,
                                                 uint64_t now_ms = 0, bool* fallback_blocked = nullptr,
                                                 const ClientAddresses& client = ClientAddresses{});

}  // namespace itkd
