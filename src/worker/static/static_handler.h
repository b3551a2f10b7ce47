// The static file handler, run by the tenant's worker after it dropped privileges: maps the
// URL to a file beneath the DocumentRoot or an Alias target, opens it without
// check-then-open races (symlinks per Options FollowSymLinks / SymLinksIfOwnerMatch), and
// answers GET/HEAD/OPTIONS with sendfile-ready file bodies, validators, ranges, directory
// indexes and listings, redirects and ErrorDocuments. Kernel permissions stay the last
// word: EACCES is a 403, never bytes.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <functional>
#include <string>
#include <string_view>

#include "common/shared_fd.h"
#include "common/unique_fd.h"
#include "config/server_config.h"
#include "worker/static/access_check.h"
#include "http/request_head.h"
#include "worker/static/mime_types.h"

namespace itkd {

class OpenFileCache;

struct StaticRequest {
  const VirtualHost& vhost;
  const http::RequestHead& head;
  const MimeTypes& mime;
  // Scheme and authority for absolute redirect URLs ("http", "example.com:8080").
  std::string_view scheme = "http";
  std::string_view authority;  // Host header as sent (or server_name:port)
  // The worker's open-file cache (none in unit tests that don't test it).
  OpenFileCache* files = nullptr;
  uint64_t now_ms = 0;  // the loop's clock, for the cache
  // FallbackResource may apply: false when the missing file's name has a handler (a
  // missing .php is a 404, as with mod_dir, whose fallback needs "no handler").
  bool fallback_allowed = true;
  // Who is asking, for Require ip / local and Allow / Deny (unknown: no ip rule matches).
  ClientAddresses client;
  // A rewrite rule's answer: a 3xx to forced_location, or an error page (ErrorDocument
  // applies), with forced_reason for the log and forced_headers (a 401's challenge).
  int forced_status = 0;
  std::string_view forced_location = {};
  std::string_view forced_reason = {};
  std::string_view forced_headers = {};
  // Would a handler run this file (CGI, FastCGI)? An ErrorDocument naming such a file is
  // run by the connection, never served as a file (its source). Null: none would.
  std::function<bool(const std::string& url_path, const std::string& fs_path, bool via_script_alias)> runs_handler = {};
};

struct StaticResponse {
  int status = 200;
  // The local URL of an ErrorDocument that is a script: the connection runs it for this
  // error (status), as Apache's internal redirect does; headers and body are empty then.
  std::string error_document_script;
  // Header lines, each "Name: value\r\n", including Content-Length (of the full
  // representation for HEAD) and Content-Type; not Date/Server/Connection, which the
  // connection adds.
  std::string headers;
  std::string body;          // in-memory body (listings, error pages); sent unless HEAD
  SharedFd file;             // set for GET of a file: send file_length bytes from file_offset
  uint64_t file_offset = 0;
  uint64_t file_length = 0;
  bool close_connection = false;
  // For the error log when the answer is an error the admin may want to know about
  // ("symbolic link not allowed or link target not accessible: /srv/a/x"), else empty.
  std::string log_reason;
  // The file that was served or refused (for the error log and %f).
  std::string filename;
  // Who authenticated (AuthType Basic), for %u; empty if no one.
  std::string remote_user;
};

StaticResponse serve_static(const StaticRequest& request);

// --- Exposed for unit tests ---

// Percent-decodes a URL path, refusing NUL and encoded '/' (%2F) -> false.
bool percent_decode_path(std::string_view raw, std::string& out);
// Removes dot segments (RFC 3986 5.2.4) and merges repeated slashes; the result starts
// with '/'. Returns false if the path tries to climb above the root.
bool remove_dot_segments(std::string_view path, std::string& out);

// Effective Options and DirectoryIndex for a filesystem directory, applying the vhost's
// <Directory> blocks as Apache merges them.
struct DirectorySettings {
  unsigned options = kDefaultOptions;
  std::vector<std::string> directory_index;
  EffectiveAccess access;  // its <Directory> blocks' Require & co. (worker/static/access_check.h)
  bool cgi_pass_auth = false;  // CGIPassAuth On: scripts here see Authorization
  unsigned file_etag = kDefaultFileETag;  // FileETag parts (0: no ETag)
};
DirectorySettings settings_for_directory(const VirtualHost& vhost, const std::string& dir);
// Does this <Directory path> block cover `path` (a directory or a file below it)?
// Wildcards ("/home/*/public_html") never cross a '/'; a .htaccess block's path is literal.
bool directory_block_covers(const DirectoryBlock& block, std::string_view path);
// The <Directory>/<DirectoryMatch> blocks that apply to `dir`, in the order they merge.
std::vector<const DirectoryBlock*> directory_blocks_for(const VirtualHost& vhost, const std::string& dir);
// php_value & co. for scripts in `dir`: the vhost's, then its <Directory> blocks'.
std::vector<PhpIniSetting> php_ini_for_directory(const VirtualHost& vhost, const std::string& dir);
// Does this <Files>/<FilesMatch> block apply to the file `base` in directory `dir`?
bool files_block_matches(const FilesBlock& block, std::string_view dir, std::string_view base);
// POSIX extended regex match, each pattern compiled once per worker (the config is fixed).
bool regex_matches(const std::string& pattern, const std::string& subject);
// FallbackResource for files in `dir` ("" = none): the vhost's, then its <Directory> blocks'.
std::string fallback_resource_for(const VirtualHost& vhost, const std::string& dir);
// mod_dir's fallback for a request whose file `missing_fs_path` doesn't exist: the decoded,
// normalized URL path to serve instead, or nullopt (none set, or not a usable path).
std::optional<std::string> fallback_path(const VirtualHost& vhost, const std::string& missing_fs_path,
                                         std::string_view url_path);

}  // namespace itkd
