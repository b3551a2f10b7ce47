// mod_rewrite at request time, in the owner's worker (so -f/-d see what the owner sees).
// Two phases, as in Apache: the vhost's rules on the URL path once the vhost is known,
// then the rules of the <Directory> the URL maps into, on the path below that directory;
// a <Directory> rewrite is an internal redirect, after which that phase runs again on
// the new URL (at most 10 times, Apache's LimitInternalRecursion).
#pragma once

#include <ctime>
#include <functional>
#include <string>
#include <string_view>

#include "config/script_env.h"
#include "config/server_config.h"
#include "http/request_head.h"
#include "worker/htaccess_views.h"
#include "worker/static/access_check.h"

namespace itkd {

struct RewriteRequest {
  const VirtualHost& vhost;
  const http::RequestHead& head;  // the client's request: headers, method, request line
  std::string_view scheme;        // "http" or "https"
  std::string_view authority;     // Host as sent, or server_name[:port]: for redirects
  std::string_view local_ip;
  uint16_t local_port = 0;
  std::string_view peer_ip;
  uint16_t peer_port = 0;
  time_t now = 0;
  const ScriptEnv* env = nullptr;  // SetEnvIf's variables, for %{ENV:name}
  // Where .htaccess files are read: the vhost as those on the way to a mapped file make
  // it (worker/htaccess_views.h), for that file's <Directory> rules. Empty: `vhost` holds.
  std::function<DirectoryView(const std::string& fs_path)> views = {};
};

struct RewriteOutcome {
  enum class Kind {
    Unchanged,  // no rule changed the URL (E= variables may still be set)
    Rewritten,  // serve `path`?`query` instead, in the same vhost
    Respond,    // answer `status`: a redirect to `location`, or an error ([F], [G], a loop)
  } kind = Kind::Unchanged;
  int status = 0;
  std::string location;       // absolute URL, escaped, for a 3xx
  std::string path;           // Rewritten: decoded, normalized URL path
  std::string query;          // Rewritten: the query, raw
  bool has_query = false;
  bool internal_redirect = false;  // a <Directory> rule rewrote: scripts see REDIRECT_URL
  ScriptEnv env;              // [E=...] for scripts
  std::string log_reason;     // Respond with 500: why (for the error log)
  std::string extra_headers;  // Respond with 401: WWW-Authenticate
};

// `path`: the request's decoded, normalized URL path; `query`: its raw query.
RewriteOutcome apply_rewrite_rules(const RewriteRequest& request, const std::string& path, std::string_view query,
                                   bool has_query);

// The access decision for the URL the client asked for: the <Directory> and <Files>
// blocks of what it maps to, then <Location>. A rewritten request must pass it too.
AccessVerdict judge_url_access(const VirtualHost& vhost, const std::string& path, const http::RequestHead& head,
                               const ClientAddresses& client);

}  // namespace itkd
