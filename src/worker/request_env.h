// The request's variables from SetEnvIf / BrowserMatch (mod_setenvif), evaluated once per
// request when its vhost is known: scripts get them, and so do the env= conditions of
// Header and CustomLog and RewriteCond's %{ENV:name}.
#pragma once

#include <string_view>
#include <vector>

#include "config/script_env.h"
#include "config/setenvif_rules.h"
#include "http/request_head.h"

namespace itkd {

struct RequestAttributes {
  const http::RequestHead& head;
  std::string_view url_path;   // decoded, normalized (Request_URI)
  std::string_view remote_ip;  // Remote_Addr, Remote_Host
  std::string_view server_ip;  // Server_Addr
};

// Applies `rules` in order to `env` (a later rule sees what an earlier one set).
void apply_setenvif(const std::vector<SetEnvIfRule>& rules, const RequestAttributes& request, ScriptEnv& env);

// Whether `env` holds `name` (set, whatever its value).
bool env_has(const ScriptEnv& env, std::string_view name);

}  // namespace itkd
