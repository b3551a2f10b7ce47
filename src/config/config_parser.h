// Apache httpd configuration syntax -> ServerConfig. One directive table drives parsing,
// allowed contexts and the `-t` dump (see directive_table.cc). All errors are collected,
// each as "file:line: reason", before the parse fails.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/config_source.h"
#include "config/server_config.h"

namespace itkd {

struct ParseOptions {
  std::vector<std::string> defines;  // -D NAME for <IfDefine>
  // Resolve user/group names and check ids (LimitUIDRange, no root, FrontUser distinct).
  // Off in unit tests and fuzzing, which must not depend on /etc/passwd.
  bool resolve_identities = true;
  // A worker's parse: only the vhosts of this identity (uid, gid) are parsed in full.
  // Another owner's <VirtualHost> keeps what routing and pool numbering need (addresses,
  // ServerName/ServerAlias, AssignUserID, SSLEngine) and nothing else, so a worker of a
  // server with 10 000 vhosts neither spends the time nor holds the memory of them all.
  // Vhost and pool indexes stay those of the full parse (the front's handoffs use them).
  struct Identity {
    uint32_t uid = 0;
    uint32_t gid = 0;
  };
  std::optional<Identity> full_vhosts_of;
};

struct ConfigErrors {
  std::vector<std::string> errors;  // each "file:line: reason"
};

// Parses main_file (absolute or relative to cwd) and everything it includes.
// On failure returns every error found (the Result's message joins them with newlines).
Result<ServerConfig> parse_config(ConfigSource& source, const std::string& main_file,
                                  const ParseOptions& options);

// Parses config text directly (file name used only in messages); for tests and fuzzing.
Result<ServerConfig> parse_config_text(const std::string& text, const std::string& file_name,
                                       const ParseOptions& options);

// The flags that say whether any Header, RequestHeader, Expires, SetEnv, rewrite rule or
// AllowOverride applies anywhere in `v` (set after parsing; again when .htaccess blocks
// are added to a copy, src/worker/htaccess_views.h).
void derive_section_flags(VirtualHost& v);

// Human-readable summary for `itkd -t`: listeners, vhosts (name, aliases, addresses,
// docroot, pool), pools with uid/gid, warnings.
std::string describe_config(const ServerConfig& config);

}  // namespace itkd
