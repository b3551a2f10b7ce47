// mod_env's SetEnv and UnsetEnv: variables a vhost or a section gives its CGI and FastCGI
// scripts (APP_ENV=production, a DSN, HTTPS=on behind a TLS-terminating proxy).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace itkd {

// One SetEnv (value set) or UnsetEnv (no value), in config order.
struct ScriptEnvOp {
  std::string name;
  std::optional<std::string> value;
};

using ScriptEnv = std::vector<std::pair<std::string, std::string>>;

// Applies `ops` to `env` in order: a SetEnv replaces the variable or adds it at the end,
// an UnsetEnv removes it.
void apply_script_env_ops(ScriptEnv& env, const std::vector<ScriptEnvOp>& ops);

// A name SetEnv/UnsetEnv may use: letters, digits and '_', not starting with a digit,
// and not one the server sets for every request from the request itself (REMOTE_ADDR,
// SCRIPT_FILENAME, HTTP_*, SSL_*, ...), which a config value must not pose as.
Result<void> check_script_env_name(std::string_view name);

}  // namespace itkd
