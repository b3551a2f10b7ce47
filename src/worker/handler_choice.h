// Which handler serves a request, decided as Apache does: ProxyPassMatch on the URL before
// any file mapping; for a mapped file, <Files>/<FilesMatch> SetHandler, then <Directory>
// and server SetHandler, then ScriptAlias (cgi-script), then AddHandler by extension;
// cgi-script and fcgid-script need Options ExecCGI unless ScriptAlias'd (403 otherwise).
// Where mod_php's engine setting is off (php_admin_flag engine off), a PHP handler (a
// php-cgi FcgidWrapper, proxy:fcgi) is not run and the file is served as a file.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config/server_config.h"
#include "worker/static/static_handler.h"

namespace itkd {

struct HandlerChoice {
  enum class Kind { Static, Cgi, Fcgid, ProxyFcgi, Forbidden } kind = Kind::Static;
  FcgiBackend backend;  // ProxyFcgi
  std::string wrapper;  // Fcgid: the FcgidWrapper command ("" = the file is the FastCGI program)
  std::string reason;   // Forbidden: for the error log
};

// `fs_path`: the file the URL mapped to (the script, without PATH_INFO); `dir`: the
// settings of its directory (settings_for_directory).
HandlerChoice choose_handler(const VirtualHost& vhost, std::string_view fs_path,
                             bool via_script_alias, const DirectorySettings& dir);

// ProxyPassMatch: the first rule matching the decoded URL path, with $0-$9 substituted
// into the backend path (which becomes SCRIPT_FILENAME).
struct ProxyPassTarget {
  FcgiBackend backend;
  std::string script_filename;
};
std::optional<ProxyPassTarget> match_proxy_pass(const VirtualHost& vhost, std::string_view url_path);

}  // namespace itkd
