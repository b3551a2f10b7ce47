#include "config/script_env.h"

#include <algorithm>

namespace itkd {

void apply_script_env_ops(ScriptEnv& env, const std::vector<ScriptEnvOp>& ops) {
  for (const ScriptEnvOp& op : ops) {
    auto it = std::find_if(env.begin(), env.end(), [&](const auto& e) { return e.first == op.name; });
    if (!op.value) {
      if (it != env.end()) env.erase(it);
    } else if (it != env.end()) {
      it->second = *op.value;
    } else {
      env.emplace_back(op.name, *op.value);
    }
  }
}

Result<void> check_script_env_name(std::string_view name) {
  bool valid = !name.empty() && !(name[0] >= '0' && name[0] <= '9');
  for (char c : name)
    valid = valid && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_');
  if (!valid) return Error{"'" + std::string(name) + "' is not a variable name (letters, digits and _)"};
  static constexpr std::string_view kFromRequest[] = {
      "SERVER_SIGNATURE", "SERVER_SOFTWARE", "SERVER_NAME",    "SERVER_ADDR",           "SERVER_PORT",
      "REMOTE_ADDR",      "REMOTE_PORT",     "REMOTE_USER",    "AUTH_TYPE",             "DOCUMENT_ROOT",
      "REQUEST_SCHEME",   "CONTEXT_PREFIX",  "CONTEXT_DOCUMENT_ROOT", "SCRIPT_FILENAME", "SCRIPT_NAME",
      "GATEWAY_INTERFACE", "SERVER_PROTOCOL", "REQUEST_METHOD", "QUERY_STRING",         "REQUEST_URI",
      "PATH_INFO",        "PATH_TRANSLATED", "CONTENT_TYPE",   "CONTENT_LENGTH",        "REDIRECT_STATUS",
      "PHP_VALUE",        "PHP_ADMIN_VALUE"};
  bool reserved = name.starts_with("HTTP_") || name.starts_with("SSL_") ||
                  std::find(std::begin(kFromRequest), std::end(kFromRequest), name) != std::end(kFromRequest);
  if (reserved) {
    return Error{std::string(name) + " is set from each request (or, for PHP_VALUE, from php_value); "
                 "a configured value can't replace it"};
  }
  return ok();
}

}  // namespace itkd
