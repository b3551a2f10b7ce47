// mod_setenvif's SetEnvIf, SetEnvIfNoCase, BrowserMatch and BrowserMatchNoCase as the
// config states them: which request attribute to test, the pattern, and the variables a
// match sets or unsets. The worker evaluates them once per request (worker/request_env.h);
// the variables reach CGI/FastCGI scripts and the env= conditions of Header and CustomLog,
// and RewriteCond's %{ENV:name}.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "config/header_rules.h"
#include "config/source_location.h"

namespace itkd {

struct SetEnvIfRule {
  enum class Attribute {
    Header,           // a request header by name; if the request has none, a variable set before
    RemoteAddr,       // Remote_Addr (and Remote_Host: itkd does no DNS, as HostnameLookups Off)
    ServerAddr,       // Server_Addr
    RequestMethod,    // Request_Method
    RequestProtocol,  // Request_Protocol: "HTTP/1.1"
    RequestUri,       // Request_URI: the URL path, without the query
  };
  Attribute attribute = Attribute::Header;
  std::string name;  // Header: the header (or variable) name as written
  SharedRegex regex;
  // What a match does, in order: name=value ($0-$9 from the match), name (= "1"), !name.
  std::vector<std::pair<std::string, std::optional<std::string>>> sets;
  SourceLocation where;
};

// The name a script sees for a request variable: characters other than letters, digits
// and '_' become '_', as Apache's CGI environment does.
std::string script_env_name(std::string_view name);

// SetEnvIf attribute regex [!]var[=value]...; `nocase`: SetEnvIfNoCase / BrowserMatchNoCase.
Result<SetEnvIfRule> parse_setenvif(const std::vector<std::string>& args, bool nocase);

}  // namespace itkd
