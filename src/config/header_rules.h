// mod_headers' Header and RequestHeader directives as the config states them: what to do to which response
// header, and when. The worker applies the rules to a response head
// (worker/header_edits.h); here they are parsed and checked, so a rule that
// could not work is a config error with file:line, not a silently missing header.
#pragma once

#include <regex.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace itkd {

// A POSIX extended regex compiled once at parse time and shared by the copies of the
// rule that holds it (a worker is single-threaded, the config is fixed).
class SharedRegex {
 public:
  static Result<SharedRegex> compile(const std::string& pattern, int flags);
  // A pattern as Apache's PCRE reads it, compiled as its POSIX equivalent
  // (config/pcre_compat.h), or refused with the reason.
  static Result<SharedRegex> compile_pcre(const std::string& pattern, int flags);
  const regex_t* get() const { return compiled_ ? &compiled_->re : nullptr; }
  const std::string& pattern() const { return pattern_; }

 private:
  struct Compiled {
    regex_t re{};
    bool ok = false;
    Compiled() = default;
    Compiled(const Compiled&) = delete;
    Compiled& operator=(const Compiled&) = delete;
    ~Compiled() {
      if (ok) regfree(&re);
    }
  };
  std::shared_ptr<Compiled> compiled_;
  std::string pattern_;
};

// A Header value: literal text with mod_headers' %-specifiers. itkd knows %t (when the
// request was received, "t=" and microseconds since the epoch), %D (microseconds since
// then, "D=") and %%; other specifiers are refused when the config is read.
struct HeaderValuePart {
  enum class Kind { Text, RequestTime, Duration } kind = Kind::Text;
  std::string text;
};

struct HeaderRule {
  enum class Action { Set, Append, Add, Merge, SetIfEmpty, Unset, Edit, EditAll, Echo };
  Action action = Action::Set;
  // "always": every response, the server's own errors and redirects too; "onsuccess"
  // (the default): 2xx and 304 answers, and whatever a CGI or FastCGI script answers.
  bool always = false;
  std::string name;  // the header (Echo: unused, the regex names the request headers)
  std::vector<HeaderValuePart> value;  // Set, Append, Add, Merge, SetIfEmpty
  std::string replacement;             // Edit, EditAll: $0-$9 stand for the match's groups
  SharedRegex regex;                   // Edit, EditAll: on values; Echo: on request names
  // env=NAME / env=!NAME: only when the request's variable NAME is set (or not): HTTPS on
  // a TLS connection (mod_ssl's), and those SetEnvIf / BrowserMatch set for the request.
  enum class Condition { None, Set, Unset } condition = Condition::None;
  std::string condition_env;
};

// Parses "Header [always|onsuccess] action header [value] [replacement] [env=[!]NAME]"
// or, for the request (`for_request`), "RequestHeader action header [value] [replacement]
// [early|env=[!]NAME]" (the arguments after the directive's name, quotes removed). Error
// messages name the problem and what to write instead.
Result<HeaderRule> parse_header_rule(const std::vector<std::string>& args, bool for_request = false);

// Headers itkd writes itself after the rules ran (Date, Server) or that frame the
// message (Content-Length, Transfer-Encoding, Connection, Keep-Alive): a rule must not
// change them, or a client would read a broken response.
bool header_is_server_owned(std::string_view name);
// Request headers whose meaning the server took when it read the head (routing, framing,
// 100-continue): a RequestHeader rule changing them would leave the two disagreeing.
bool request_header_is_server_owned(std::string_view name);

}  // namespace itkd
