// The CGI/1.1 environment (RFC 3875 section 4.1) plus Apache's usual extras, built as a
// pure function of the request so the table can be tested without a script. FastCGI
// sends the same variables as PARAMS.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "worker/handler.h"

namespace itkd {

// Which file runs and how the URL splits around it.
struct CgiScript {
  std::string filename;               // SCRIPT_FILENAME
  std::string script_name;            // SCRIPT_NAME: the URL path of the script
  std::string path_info;              // PATH_INFO (decoded), empty if none
  std::string context_prefix;         // CONTEXT_PREFIX: the Alias/ScriptAlias URL prefix, "" for DocumentRoot
  std::string context_document_root;  // CONTEXT_DOCUMENT_ROOT: where that prefix maps to
  bool pass_authorization = false;    // CGIPassAuth On: HTTP_AUTHORIZATION is passed
};

// Apache's split of a mapped path: the longest prefix that exists is the script if it is
// a regular file, the rest is PATH_INFO ("/srv/cgi/x.cgi/a/b" -> "/srv/cgi/x.cgi" + "/a/b").
struct PathInfoSplit {
  bool found = false;      // false: no prefix is a regular file
  std::string filename;
  std::string path_info;
};
PathInfoSplit split_path_info(std::string_view fs_path);

// SCRIPT_NAME: the decoded URL path without the PATH_INFO at its end.
std::string script_name_for(std::string_view decoded_path, std::string_view path_info);

// The CgiScript for a URL mapped to `fs_path` (which may run past the script into
// PATH_INFO); `context_prefix`/`context_root`: the Alias/ScriptAlias URL prefix and its
// target, or "" and the DocumentRoot. nullopt if no prefix of the path is a regular file
// (a 404).
std::optional<CgiScript> locate_cgi_script(std::string_view fs_path, std::string_view decoded_path,
                                           std::string_view context_prefix,
                                           std::string_view context_root);

// ProxyPassMatch: the substituted path ("/srv/a/index.php/x") split like a mapped file
// when it exists here (php-fpm on the same host), else taken whole as SCRIPT_FILENAME.
CgiScript proxy_pass_script(std::string_view script_filename, std::string_view decoded_path);

using NameValueList = std::vector<std::pair<std::string, std::string>>;

// Calls `visit(name, value)` for each variable, in a stable order. `content_length`: the
// de-chunked body length (omitted when nullopt, i.e. no body). The views are valid during
// the call only. FastCGI writes them straight into PARAMS records, without the list's two
// strings per variable.
using CgiVariableVisitor = std::function<void(std::string_view name, std::string_view value)>;
void for_each_cgi_variable(const HandlerRequest& request, const CgiScript& script,
                           std::optional<uint64_t> content_length, const CgiVariableVisitor& visit);

// SetEnv/UnsetEnv for a script: the vhost's, then those of its sections in Apache's
// merge order (worker/section_walk.h).
ScriptEnv script_env_for(const VirtualHost& vhost, std::string_view script_filename, std::string_view url_path,
                         ScriptEnv base = {});

// The same variables as a list (CGI's execve environment, tests).
NameValueList build_cgi_environment(const HandlerRequest& request, const CgiScript& script,
                                    std::optional<uint64_t> content_length);

// "NAME=value" strings for execve.
std::vector<std::string> environment_strings(const NameValueList& env);

}  // namespace itkd
