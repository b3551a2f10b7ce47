// The parsed configuration: what the master, the fronts and the workers all run from.
// Every process builds it from the same ConfigSource snapshot, so they agree on indexes
// (vhost N, pool N, listener N) without sending anything but numbers between them.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/access_rules.h"
#include "config/expires_rules.h"
#include "config/header_rules.h"
#include "config/rewrite_rules.h"
#include "config/php_ini.h"
#include "config/script_env.h"
#include "config/setenvif_rules.h"
#include "config/source_location.h"

namespace itkd {

// Options directive flags (Apache meaning).
enum OptionFlag : unsigned {
  kOptIndexes = 1u << 0,
  kOptExecCGI = 1u << 1,
  kOptFollowSymLinks = 1u << 2,
  kOptSymLinksIfOwnerMatch = 1u << 3,
  kOptIncludes = 1u << 4,
  kOptMultiViews = 1u << 5,
};
// Apache 2.4's default when no Options directive applies.
inline constexpr unsigned kDefaultOptions = kOptFollowSymLinks;

// FileETag parts (core): what a file's ETag is made of. Apache 2.4's default is
// "MTime Size"; 0 ("None") sends no ETag.
enum FileETagPart : unsigned {
  kETagINode = 1u << 0,
  kETagMTime = 1u << 1,
  kETagSize = 1u << 2,
};
inline constexpr unsigned kDefaultFileETag = kETagMTime | kETagSize;
struct FileETagSetting {
  std::optional<unsigned> parts;  // replaced wholesale (FileETag MTime Size)
  unsigned add = 0;               // FileETag +INode
  unsigned remove = 0;            // FileETag -INode
  bool empty() const { return !parts && !add && !remove; }
  unsigned apply(unsigned inherited) const { return ((parts ? *parts : inherited) | add) & ~remove; }
};

// A FastCGI backend address: "unix:/run/php/alice.sock" or "127.0.0.1:9000".
struct FcgiBackend {
  std::string unix_path;  // set for a unix socket
  std::string host;       // else TCP host (IP literal or name) and port
  uint16_t port = 0;
  // Keep the connection for the next request (ProxyPassMatch ... enablereuse=on). Off by
  // default, as in Apache: a php-fpm child serves one connection at a time, so idle kept
  // connections hold children that other workers' requests then wait for.
  bool reuse = false;
  // Idle kept connections per worker process (<Proxy ... max=N>): each holds a php-fpm
  // child, so max x PoolMaxWorkers should stay below pm.max_children.
  unsigned max_idle = 4;
  // The URL after "proxy:" and the unix path, lowercased and without a path:
  // "fcgi://localhost", "fcgi://127.0.0.1:9000". A <Proxy> block of that URL sets reuse.
  std::string worker_url;
  // "unix:/run/php/alice.sock" / "127.0.0.1:9000": for logs and pool keys.
  std::string describe() const {
    return unix_path.empty() ? host + ":" + std::to_string(port) : "unix:" + unix_path;
  }
};

// What SetHandler / AddHandler name (mod_mime, mod_cgi, mod_fcgid, mod_proxy_fcgi).
struct HandlerSpec {
  enum class Kind { Default, Cgi, Fcgid, ProxyFcgi } kind = Kind::Default;
  FcgiBackend backend;  // ProxyFcgi: "proxy:unix:/path|fcgi://localhost", "proxy:fcgi://h:p"
};

// <Files name> / <FilesMatch regex> (also <Files ~ regex>) holding a SetHandler: applied to
// the basename of the mapped file; later blocks win, as Apache merges them in order.
struct FilesBlock {
  std::string pattern;    // wildcard (fnmatch) or POSIX extended regex
  bool is_regex = false;
  std::string directory;  // set when nested in <Directory dir>: only files below it
  std::optional<HandlerSpec> set_handler;
  AccessRules access;     // Require & co. for the files whose name matches
  std::vector<HeaderRule> header_rules;  // Header, for the files whose name matches
  ExpiresSettings expires;               // ExpiresActive & co., for the files whose name matches
  std::vector<ScriptEnvOp> env_ops;      // SetEnv / UnsetEnv, for the files whose name matches
  SourceLocation where;
};

// <Location url-path> / <LocationMatch regex> (also <Location ~ regex>): applied to the
// decoded URL path after <Directory> and <Files>, in config order. itkd applies the
// access rules in it (Require, Order/Allow/Deny, Satisfy).
struct LocationBlock {
  std::string pattern;  // "/admin" (whole segments), wildcard (fnmatch) or POSIX ERE
  bool is_regex = false;
  AccessRules access;
  std::vector<HeaderRule> header_rules;  // Header, for the URLs it matches
  std::vector<HeaderRule> request_header_rules;  // RequestHeader, for the URLs it matches
  ExpiresSettings expires;                       // ExpiresActive & co., for the URLs it matches
  std::vector<ScriptEnvOp> env_ops;              // SetEnv / UnsetEnv, for the URLs it matches
  SourceLocation where;
};

// <Proxy "fcgi://localhost/" enablereuse=on max=10> / ProxySet: settings for the FastCGI
// backends SetHandler/AddHandler name with that URL (with unix:/path| too: only that socket).
struct ProxyWorkerSettings {
  std::string unix_path;   // empty: any socket or address behind worker_url
  std::string worker_url;  // as FcgiBackend::worker_url
  std::optional<bool> reuse;
  std::optional<unsigned> max_idle;
  SourceLocation where;
};

// ProxyPassMatch regex fcgi://host:port/path/$1 (or unix:/sock|fcgi://localhost/path/$1):
// matched against the decoded URL path before it is mapped to a file.
struct ProxyPassMatchRule {
  std::string regex;          // POSIX form (as written, translated from PCRE)
  FcgiBackend backend;
  std::string path_template;  // "/srv/www/$1": SCRIPT_FILENAME after $n substitution
  SourceLocation where;
};

// RLimitCPU / RLimitMEM / RLimitNPROC n|max [n|max]: "max" is kRlimitMax, meaning the
// hard limit the worker has (Apache's meaning); without a second value the hard limit stays.
inline constexpr uint64_t kRlimitMax = ~uint64_t{0};
struct ResourceLimit {
  bool set = false;
  uint64_t soft = 0;
  std::optional<uint64_t> hard;
};
struct ScriptLimits {
  ResourceLimit cpu_s;      // RLimitCPU, seconds -> RLIMIT_CPU
  ResourceLimit mem_bytes;  // RLimitMEM, bytes -> RLIMIT_AS
  ResourceLimit nproc;      // RLimitNPROC -> RLIMIT_NPROC
};

// mod_fcgid's directives (defaults are mod_fcgid's).
struct FcgidSettings {
  // FcgidWrapper command [suffix]: ".php" -> "/usr/bin/php-cgi"; "" = every fcgid-script.
  std::map<std::string, std::string> wrappers;
  unsigned max_processes_per_class = 100;   // FcgidMaxProcessesPerClass
  unsigned min_processes_per_class = 3;     // FcgidMinProcessesPerClass
  unsigned idle_timeout_s = 300;            // FcgidIdleTimeout (0 = never)
  unsigned max_requests_per_process = 0;    // FcgidMaxRequestsPerProcess (0 = unlimited)
  unsigned io_timeout_s = 40;               // FcgidIOTimeout
  std::vector<std::pair<std::string, std::string>> initial_env;  // FcgidInitialEnv
};

struct AliasRule {
  std::string url_prefix;   // "/icons/" or "/icons"
  std::string target;       // filesystem path
  bool is_script = false;   // ScriptAlias
  SourceLocation where;
};

struct RedirectRule {
  int status = 302;         // 301, 302, 303, 307, 308, 410 (gone: target empty)
  std::string url_prefix;   // RedirectMatch: the regex, as written
  std::string target;       // absolute URL or "/path"; RedirectMatch: with $0-$9
  SourceLocation where;
  bool is_regex = false;    // RedirectMatch
  SharedRegex regex{};      // RedirectMatch: matched against the decoded URL path
};

struct ErrorDocumentRule {
  int status = 0;
  // One of: a local URL ("/errors/404.html"), an external URL ("http://..."),
  // or a literal message (stored without the leading quote).
  enum class Kind { LocalUrl, ExternalUrl, Text } kind = Kind::Text;
  std::string value;
};

// AllowOverride (core): the directive classes .htaccess files below a <Directory> may use.
enum OverrideClass : unsigned {
  kOverrideAuthConfig = 1u << 0,  // Require, Auth*, CGIPassAuth
  kOverrideFileInfo = 1u << 1,    // handlers, Header, Rewrite*, SetEnv, ErrorDocument, ...
  kOverrideIndexes = 1u << 2,     // DirectoryIndex, FallbackResource, Expires*
  kOverrideLimit = 1u << 3,       // Order, Allow, Deny
  kOverrideOptions = 1u << 4,     // Options, php_value, php_flag
};
inline constexpr unsigned kOverrideAll = 0x1f;
inline constexpr unsigned kAllOptions = kOptIndexes | kOptExecCGI | kOptFollowSymLinks | kOptSymLinksIfOwnerMatch |
                                        kOptIncludes | kOptMultiViews;
struct OverrideRules {
  unsigned classes = 0;
  unsigned options = kAllOptions;  // AllowOverride Options=Indexes,...: the Options it may set
  // AllowOverride Nonfatal=Override|Unknown|All: such lines are skipped with a warning
  // instead of failing the request with a 500.
  bool nonfatal_override = false;
  bool nonfatal_unknown = false;
  SourceLocation where;
};

// A <Directory path> (or <DirectoryMatch regex>) block, in config order. Its settings
// override the enclosing scope for files at or below `path` (longest match wins,
// regex blocks applied after prefix blocks, as Apache does).
struct DirectoryBlock {
  std::string path;  // absolute, normalized, no trailing slash ("/" stays "/")
  bool is_regex = false;
  std::optional<unsigned> options;          // replaced wholesale (Options X Y)
  unsigned options_add = 0;                 // Options +X
  unsigned options_remove = 0;              // Options -X
  std::optional<std::vector<std::string>> directory_index;
  AccessRules access;                       // Require, Order/Allow/Deny, Satisfy
  std::optional<HandlerSpec> set_handler;   // SetHandler (None -> Kind::Default)
  std::map<std::string, HandlerSpec> add_handlers;  // AddHandler: ".ext" (lowercase) -> handler
  std::vector<std::string> remove_handlers;  // RemoveHandler: ".ext" whose inherited handler goes
  std::vector<PhpIniSetting> php_ini;       // php_value & co. for scripts at or below it
  std::optional<std::string> fallback_resource;  // FallbackResource: local URL, "" = disabled
  std::optional<bool> cgi_pass_auth;        // CGIPassAuth: Authorization reaches scripts
  std::vector<HeaderRule> header_rules;     // Header, for files at or below it
  ExpiresSettings expires;                  // ExpiresActive & co., for files at or below it
  std::vector<ScriptEnvOp> env_ops;         // SetEnv / UnsetEnv, for scripts at or below it
  FileETagSetting file_etag;                // FileETag, for files at or below it
  RewriteSettings rewrite;                  // mod_rewrite's per-directory rules
  // Redirect / RedirectMatch for files at or below it (mod_alias's per-directory form:
  // the URL path is still matched whole), the deepest block's first.
  std::vector<RedirectRule> redirects;
  // ErrorDocument for errors answered for files at or below it ("default": the built-in page).
  std::vector<ErrorDocumentRule> error_documents;
  std::vector<SetEnvIfRule> setenvif;             // SetEnvIf / BrowserMatch for requests for files at or below it
  std::map<std::string, std::string> add_types;  // AddType for files at or below it: ".ext" -> type
  std::optional<std::string> default_charset;     // AddDefaultCharset ("" = Off)
  std::optional<OverrideRules> allow_override;  // AllowOverride
  // AllowOverrideList: directives .htaccess files may use whatever the classes say (lowercase).
  std::optional<std::vector<std::string>> allow_override_list;
  SourceLocation where;
  // Made from a .htaccess file: `path` is a real directory's name, never a wildcard pattern.
  bool from_htaccess = false;
};

struct CustomLogSpec {
  std::string path;    // absolute (ServerRoot-relative paths resolved at parse time)
  std::string format;  // the format string itself (a LogFormat nickname is resolved)
  SourceLocation where;
  // env=[!]NAME: only requests with (without) that variable are logged ("" = all).
  std::string env_condition;
  bool env_negated = false;
};

// Limits and timeouts; the global values are defaults, a vhost may override.
struct HttpLimits {
  unsigned timeout_s = 60;                 // Timeout
  bool keep_alive = true;                  // KeepAlive
  unsigned keep_alive_timeout_s = 5;       // KeepAliveTimeout
  unsigned max_keep_alive_requests = 100;  // MaxKeepAliveRequests (0 = unlimited)
  size_t limit_request_line = 8190;        // LimitRequestLine
  size_t limit_request_field_size = 8190;  // LimitRequestFieldSize
  size_t limit_request_fields = 100;       // LimitRequestFields
  uint64_t limit_request_body = 1ull << 30;// LimitRequestBody (0 = unlimited; Apache 2.4.54+ default 1 GiB)
  unsigned request_header_timeout_s = 20;  // RequestReadTimeout header=N
};

// One address a <VirtualHost> listens on: "*:80", "127.0.0.1:8080", "[::1]:80", "_default_:80".
struct VhostAddress {
  std::string host;  // "*" for any, "_default_" , an IPv4 or IPv6 literal (no brackets)
  uint16_t port = 0; // 0 = any port ("*" or omitted)
};

// mod_ssl's directives for one vhost, as written; the worker loads the files after
// dropping privileges (src/tls/tls_context.h), the master and the front never open them.
// Server-level values are inherited by every vhost that does not set its own (mod_ssl
// merges SSLEngine too, so a server-level "SSLEngine on" makes every vhost TLS).
struct TlsConfig {
  bool enabled = false;                // SSLEngine on|off
  std::string certificate_file;        // SSLCertificateFile: leaf, optionally + chain
  std::string certificate_key_file;    // SSLCertificateKeyFile; certificate_file if unset
  std::string certificate_chain_file;  // SSLCertificateChainFile, empty = none
  std::string protocol = "all";        // SSLProtocol as written ("all" = TLSv1.2 + TLSv1.3)
  std::string cipher_suite;            // SSLCipherSuite [SSL] spec (TLS <= 1.2); empty = default
  std::string cipher_suite_tls13;      // SSLCipherSuite TLSv1.3 spec; empty = OpenSSL default
  bool honor_cipher_order = false;     // SSLHonorCipherOrder (mod_ssl default off)
  bool session_tickets = true;         // SSLSessionTickets (mod_ssl default on)
  SourceLocation where;                // the SSLEngine line that applies (maybe server level)
};

// OwnerReadWritePaths / OwnerReadOnlyPaths: a path the owner's processes may use under
// OwnerConfinement besides those the configuration names (config/owner_paths.h).
struct OwnerPath {
  std::string path;  // absolute, normalized
  bool writable = false;
  SourceLocation where;
};

// mod_remoteip's RemoteIPHeader: the client address a trusted proxy put in a header
// (X-Forwarded-For) replaces the connection's for logs, access rules and scripts.
struct RemoteIpSettings {
  std::string header;                     // as written; empty = off
  std::vector<IpRange> internal_proxies;  // RemoteIPInternalProxy: any address they name counts
  std::vector<IpRange> trusted_proxies;   // RemoteIPTrustedProxy: private addresses they name don't
  SourceLocation where;                   // of RemoteIPHeader
};

// Whether an owner's processes are confined to its paths when the config doesn't say.
inline constexpr bool kOwnerConfinementDefault = true;

struct VirtualHost {
  bool is_main_server = false;  // the server outside any <VirtualHost>
  std::vector<VhostAddress> addresses;
  std::string server_name;               // lowercased, no port
  std::vector<std::string> server_aliases;  // lowercased, may contain * and ? wildcards
  std::string document_root;             // absolute, no trailing slash
  std::vector<std::string> directory_index{"index.html"};
  std::vector<DirectoryBlock> directories;   // global ones first, then this vhost's
  std::vector<AliasRule> aliases;             // vhost's own first, then global ones
  std::vector<RedirectRule> redirects;
  std::vector<ErrorDocumentRule> error_documents;
  std::map<std::string, std::string> add_types;  // ".ext" (lowercase, with dot) -> MIME type
  std::map<std::string, HandlerSpec> add_handlers;  // AddHandler outside <Directory>
  std::vector<std::string> remove_handlers;         // RemoveHandler outside <Directory>
  std::optional<HandlerSpec> set_handler;           // SetHandler outside <Directory>
  std::vector<LocationBlock> locations;             // global ones first, then this vhost's
  std::vector<FilesBlock> files_blocks;             // global ones first, then this vhost's
  std::vector<ProxyPassMatchRule> proxy_pass_matches;  // vhost's own first, then global
  std::vector<ProxyWorkerSettings> proxy_workers;   // <Proxy>/ProxySet, vhost's own first
  unsigned proxy_timeout_s = 0;                     // ProxyTimeout, 0 = use Timeout
  ScriptLimits script_limits;                       // RLimitCPU/MEM/NPROC
  FcgidSettings fcgid;
  std::vector<PhpIniSetting> php_ini;            // php_value & co. outside <Directory>, global merged in
  // FallbackResource (mod_dir): the local URL that serves requests for which nothing
  // exists in the filesystem and no handler is set ("/index.php"); "" = none/disabled.
  std::string fallback_resource;
  std::string default_charset;                   // AddDefaultCharset, empty = off
  // Header outside any section, the main server's first. Those in sections are in them.
  std::vector<HeaderRule> header_rules;
  // RequestHeader outside any section, the main server's first; <Location> has its own.
  std::vector<HeaderRule> request_header_rules;
  // Derived after parsing: any Header (RequestHeader) rule applies anywhere in this
  // vhost (the worker skips looking for them otherwise).
  bool has_header_rules = false;
  bool has_request_header_rules = false;
  // mod_expires outside any section (the main server's merged in), and whether an
  // "ExpiresActive On" appears anywhere in this vhost (derived after parsing).
  ExpiresSettings expires;
  bool has_expires = false;
  // SetEnv / UnsetEnv outside any section (the main server's first), and whether any
  // appears in this vhost or its sections (derived after parsing).
  std::vector<ScriptEnvOp> env_ops;
  bool has_script_env = false;
  FileETagSetting file_etag;  // FileETag outside <Directory> (the main server's merged in)
  // mod_rewrite outside any section: the vhost's own rules, with the main server's merged
  // in where RewriteOptions asks for them; and whether any rule (here or in a
  // <Directory>) can apply in this vhost (derived after parsing).
  RewriteSettings rewrite;
  bool has_rewrite = false;
  // SetEnvIf / BrowserMatch: the main server's first, then the vhost's, in config order.
  std::vector<SetEnvIfRule> setenvif;
  // AccessFileName: the names of the per-directory files read where AllowOverride lets
  // them say something; and whether any <Directory> of this vhost does (derived).
  std::vector<std::string> access_file_names{".htaccess"};
  bool reads_htaccess = false;
  // Whether a <Directory> (or .htaccess) block holds Redirect or ErrorDocument lines (derived).
  bool has_directory_redirects = false;
  bool has_directory_error_documents = false;
  bool has_directory_types = false;  // AddType or AddDefaultCharset in a <Directory>
  bool has_directory_setenvif = false;  // SetEnvIf or BrowserMatch in a <Directory>
  // Nonzero: a copy with .htaccess settings added (worker/htaccess_views.h), numbered so
  // that no two copies ever share a number (a memo can tell them apart by it).
  uint64_t view_serial = 0;
  std::string error_log;                     // absolute path; empty = use the global one
  std::vector<CustomLogSpec> custom_logs;
  HttpLimits limits;
  TlsConfig tls;
  unsigned max_clients = 0;                  // MaxClientsVHost, 0 = unlimited
  int nice_value = 0;                        // NiceValue
  // OwnerConfinement: the owner's processes may touch only its paths (Landlock); the
  // owner's vhosts must agree. Paths: the main server's first, then the vhost's own.
  bool owner_confinement = kOwnerConfinementDefault;
  SourceLocation owner_confinement_where;    // where it was set; no line = the default
  std::vector<OwnerPath> owner_paths;
  // OwnerPrivateTmp: the owner's processes see their own directory as /tmp.
  bool owner_private_tmp = false;
  SourceLocation owner_private_tmp_where;
  // mod_remoteip's RemoteIPProxyProtocol and RemoteIPProxyProtocolExceptions, as written
  // here (not inherited: the main server's apply to every listener, a vhost's to those
  // its addresses are on).
  bool proxy_protocol = false;
  std::vector<IpRange> proxy_protocol_exceptions;
  RemoteIpSettings remote_ip;  // the main server's where the vhost sets nothing
  std::string assign_user;                   // as written: "alice" or "#61001"
  std::string assign_group;
  size_t pool = 0;                           // index into ServerConfig::pools
  SourceLocation where;
};

// One pool per distinct (uid, gid); every vhost of the owner shares it.
struct Pool {
  std::string user;   // as written ("alice" / "#61001")
  std::string group;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<size_t> vhosts;
  int nice_value = 0;
  bool confined = kOwnerConfinementDefault;  // OwnerConfinement of its vhosts
  bool private_tmp = false;                  // OwnerPrivateTmp of its vhosts
  // The owner's home directory (a named user's passwd entry; empty for #uid), filled
  // like `groups`: confinement grants it when the owner owns it.
  std::string home;
  // Supplementary groups (getgrouplist of a named user, else just gid); filled only when
  // identities are resolved (ParseOptions::resolve_identities).
  std::vector<gid_t> groups;
};

struct Listener {
  std::string host;   // "" = all addresses (IPv6 dual-stack if available, else 0.0.0.0)
  uint16_t port = 0;
  // Derived after parsing: "https" when a vhost on it uses SSLEngine on, else "http".
  // `Listen 443 https` with no such vhost is an error; a bare `Listen 443` just follows
  // its vhosts.
  std::string protocol;
  bool tls = false;      // connections on it start with a TLS handshake
  // Derived after parsing: RemoteIPProxyProtocol On in the main server or in a vhost
  // reachable on it. Connections then start with a PROXY header, except from these.
  bool proxy_protocol = false;
  std::vector<IpRange> proxy_protocol_exceptions;
  SourceLocation where;
};

struct ServerConfig {
  std::string server_root = "/etc/itkd";
  std::vector<Listener> listeners;
  std::string user = "www-data";        // User: identity for vhosts without AssignUserID
  std::string group = "www-data";       // Group
  std::string front_user = "nobody";    // FrontUser: the front's identity (never root or a tenant)
  std::string front_group = "nogroup";  // FrontGroup
  uint32_t front_uid = 0;  // FrontUser resolved (0 unless ParseOptions::resolve_identities)
  std::string front_chroot = "/var/lib/itkd/empty";  // FrontChroot: an empty directory
  // OwnerTmpDirectory: root-owned; OwnerPrivateTmp gives each owner <dir>/<uid> as /tmp.
  std::string owner_tmp_directory = "/var/lib/itkd/tmp";
  unsigned front_processes = 0;         // FrontProcesses, 0 = one per core
  unsigned pool_max_workers = 0;        // PoolMaxWorkers, 0 = one per core
  unsigned pool_idle_timeout_s = 60;    // PoolIdleTimeout: an idle worker exits after this
  std::string pid_file;                 // PidFile, empty = none
  std::string error_log;                // ErrorLog (global), empty = stderr
  std::string log_level = "warn";       // LogLevel
  std::map<std::string, std::string> log_formats;  // nickname -> format
  std::string types_config = "/etc/mime.types";   // TypesConfig
  std::optional<std::pair<uid_t, uid_t>> limit_uid_range;  // LimitUIDRange min max
  std::optional<std::pair<gid_t, gid_t>> limit_gid_range;  // LimitGIDRange min max
  // vhosts[0] is always the main server; the <VirtualHost> blocks follow in file order.
  std::vector<VirtualHost> vhosts;
  std::vector<Pool> pools;
  std::vector<std::string> warnings;   // "file:line: message" for known-harmless directives
};

// The most workers a pool runs: PoolMaxWorkers, or one per core.
inline unsigned pool_worker_limit(const ServerConfig& config) {
  if (config.pool_max_workers) return config.pool_max_workers;
  long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  return cpus > 0 ? static_cast<unsigned>(cpus) : 1;
}

}  // namespace itkd
