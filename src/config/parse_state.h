// Internal to the config parser: the state one parse accumulates and the directive table
// that acts on it (directive_table.cc). Not for use outside src/config.
#pragma once

#include <map>
#include <optional>
#include <deque>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "config/config_parser.h"
#include "config/config_source.h"
#include "config/server_config.h"

namespace itkd {

// Where a directive appears; a table entry lists the contexts it is allowed in.
enum Context : unsigned {
  kCtxServer = 1u << 0,     // outside any <VirtualHost>
  kCtxVhost = 1u << 1,      // inside <VirtualHost>
  kCtxDirectory = 1u << 2,  // inside <Directory>/<DirectoryMatch>
  kCtxFiles = 1u << 3,      // inside <Files>/<FilesMatch>/<Location>/<LocationMatch>
  kCtxProxy = 1u << 4,      // inside <Proxy>: ProxySet only
};
inline constexpr unsigned kCtxAny = kCtxServer | kCtxVhost | kCtxDirectory | kCtxFiles;
inline constexpr unsigned kCtxServerVhost = kCtxServer | kCtxVhost;

enum class SectionKind { None, VirtualHost, Directory, Files, IfModule, IfDefine, Proxy, RequireContainer, Limit };

struct Directive {
  std::string name;               // as written
  std::vector<std::string> args;  // quotes removed
  std::string raw_args;           // the text after the name (for ErrorDocument's "text)
  SourceLocation where;
};

// Per-vhost state during parsing: the vhost, plus which directives it set itself, so the
// global values can be merged in afterwards (Apache merges after reading everything).
struct VhostState {
  VirtualHost vhost;
  std::set<std::string> explicitly_set;  // lowercase directive names
  SourceLocation identity_where;         // AssignUserID (or User for the main server)
  bool assign_set = false;
  // Another owner's vhost in a worker's parse (ParseOptions::full_vhosts_of): only its
  // routing directives were applied, so only those are merged and checked.
  bool skimmed = false;
};

struct PendingCustomLog {
  size_t vhost = 0;
  std::string path;
  std::string format_or_nickname;  // resolved after parsing, as mod_log_config does
  SourceLocation where;
  std::string env_condition;  // CustomLog ... env=[!]NAME
  bool env_negated = false;
};

class ParseState;
using DirectiveHandler = Result<void> (*)(ParseState&, const Directive&);

struct DirectiveSpec {
  std::string_view name;
  unsigned contexts = 0;
  int min_args = 0;
  int max_args = 0;  // -1: unlimited
  DirectiveHandler handler = nullptr;
  SectionKind section = SectionKind::None;
  // For known-harmless directives itkd does not implement: the warning to record.
  std::string_view ignored_note;
  // Changes who may see what (Require, Options, handlers): never ignored silently
  // inside a block itkd does not apply (<Files>, <Location>).
  bool security = false;
  // Apache also allows it inside <Directory>, itkd not yet (a clearer message).
  bool directory_unsupported = false;
  // Applied inside <Files>/<FilesMatch> (SetHandler); still refused in <Location>.
  bool files_ok = false;
  // Applied inside <Location>/<LocationMatch> too (the access rules).
  bool location_ok = false;
  // The AllowOverride classes that let a .htaccess file use it (0: never in .htaccess).
  unsigned overrides = 0;
};

const DirectiveSpec* find_directive(std::string_view name);
// <Proxy url [key=value ...]>: records the worker and its parameters (config_parser opens
// the section, directive_table knows FastCGI URLs and worker parameters).
Result<void> begin_proxy_section(ParseState& ps, const Directive& d);
// Module names <IfModule> treats as loaded: what itkd implements natively.
bool module_is_loaded(std::string_view name);

class ParseState {
 public:
  ParseState(ConfigSource& source, const ParseOptions& options);

  ConfigSource& source;
  const ParseOptions& options;
  ServerConfig config;
  // [0] is the main server / global scope. A deque: growing it never moves the (large)
  // vhosts already parsed, which for 10 000 vhosts was most of the parse time.
  std::deque<VhostState> vhosts;
  size_t current_vhost = 0;
  // Index into vhosts[current_vhost].vhost.directories while inside <Directory>.
  size_t current_directory = 0;
  // Index into vhosts[current_vhost].vhost.files_blocks while inside <Files>/<FilesMatch>.
  std::optional<size_t> current_files;
  // Index into vhosts[current_vhost].vhost.locations while inside <Location>/<LocationMatch>.
  std::optional<size_t> current_location;
  // The open <RequireAll|Any|None> containers, innermost last (nodes of the current
  // section's Require tree; a node's children only grow while it is innermost).
  std::vector<RequireNode*> require_stack;
  // Inside <Limit>/<LimitExcept>: its methods, and the depth of require_stack with its node
  // on top (access directives are allowed directly in it).
  std::optional<MethodScope> current_limit;
  size_t limit_stack_depth = 0;
  // Index into vhosts[current_vhost].vhost.proxy_workers while inside <Proxy>.
  size_t current_proxy = 0;
  unsigned context = kCtxServer;
  std::string section_name;  // "<Directory>", "<FilesMatch>", ... for messages
  std::map<std::string, std::string> defines;
  std::vector<PendingCustomLog> custom_logs;
  std::string default_log_format;  // LogFormat with one argument; TransferLog uses it
  SourceLocation user_where, group_where, front_user_where, limit_uid_where, limit_gid_where;
  // Per listener: "https" was written on its Listen line (it must then carry TLS vhosts).
  std::vector<bool> listen_https;
  std::vector<std::string> errors;
  int include_depth = 0;
  int section_depth = 0;
  // Parsing a .htaccess file (parse_htaccess): what its directory's AllowOverride and
  // AllowOverrideList let it say, and where they were set, for messages.
  const OverrideRules* htaccess = nullptr;
  const std::vector<std::string>* htaccess_list = nullptr;

  VhostState& vh() { return vhosts[current_vhost]; }
  DirectoryBlock& dir() { return vh().vhost.directories[current_directory]; }
  // The access rules of the innermost <Directory>, <Files> or <Location> being parsed.
  AccessRules& access() {
    if (current_files) return vh().vhost.files_blocks[*current_files].access;
    if (current_location) return vh().vhost.locations[*current_location].access;
    return dir().access;
  }
  // Where a Header line goes: the innermost section being parsed, else the vhost.
  std::vector<HeaderRule>& header_rules() {
    if (current_files) return vh().vhost.files_blocks[*current_files].header_rules;
    if (current_location) return vh().vhost.locations[*current_location].header_rules;
    if (context == kCtxDirectory) return dir().header_rules;
    return vh().vhost.header_rules;
  }
  std::vector<ScriptEnvOp>& env_ops() {
    if (current_files) return vh().vhost.files_blocks[*current_files].env_ops;
    if (current_location) return vh().vhost.locations[*current_location].env_ops;
    if (context == kCtxDirectory) return dir().env_ops;
    return vh().vhost.env_ops;
  }
  ExpiresSettings& expires() {
    if (current_files) return vh().vhost.files_blocks[*current_files].expires;
    if (current_location) return vh().vhost.locations[*current_location].expires;
    if (context == kCtxDirectory) return dir().expires;
    return vh().vhost.expires;
  }
  void error(const SourceLocation& where, const std::string& message) {
    errors.push_back((where.line ? where.str() : where.file) + ": " + message);
  }
  void warn(const SourceLocation& where, const std::string& message) {
    config.warnings.push_back((where.line ? where.str() : where.file) + ": " + message);
  }
  // Resolves a path against ServerRoot, as Apache's ap_server_root_relative does.
  std::string server_relative(const std::string& path) const;
};

// Collapses "//", drops "." segments and a trailing slash ("/" stays "/").
// ".." segments are refused: a configured path must say where it means.
Result<std::string> normalize_path(const std::string& path);

}  // namespace itkd

namespace itkd {
// Include / IncludeOptional: reads and parses every file the pattern names, in place
// (config_parser.cc).
void include_config(ParseState& state, const std::string& pattern, bool optional,
                    const SourceLocation& where);
}  // namespace itkd
