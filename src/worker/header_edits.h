// mod_headers in the worker: which Header rules apply to a response, and what they do
// to its header fields; and the RequestHeader rules, applied to a request's fields once
// its vhost is known, before any handler sees them. Rules run in Apache's merge order (server, vhost, <Directory>,
// <Files>, <Location>), each on the result of the ones before.
//
// One difference from Apache, on purpose: Apache keeps "always" and "onsuccess" headers
// in two tables, so `Header always unset X-Powered-By` misses the header PHP sets and
// `Header always set` next to a script's own header sends both. itkd keeps one list, so
// a rule sees every header of the response, which is what the line says.
#pragma once

#include <cstdint>
#include <forward_list>
#include <string>
#include <string_view>
#include <vector>

#include "config/server_config.h"
#include "http/request_head.h"

namespace itkd {

struct HeaderRuleContext {
  // The handler's own answer (a 2xx or 304 file, anything a script sends): the
  // "onsuccess" rules apply too. False for the server's errors and redirects.
  bool success = false;
  bool https = false;                         // env=HTTPS
  const ScriptEnv* env = nullptr;             // the request's variables (SetEnvIf), for env=NAME
  const http::RequestHead* request = nullptr;  // for echo; null when no head was read
  int64_t request_start_us = 0;               // %t, microseconds since the epoch
  int64_t now_us = 0;                         // %D is now - start
};

// The rules for a response: the vhost's, those of the <Directory> blocks of `fs_path`'s
// directory and of the <Files> blocks of its name (none when `fs_path` is empty), then
// those of the <Location> blocks matching the decoded URL path (none when empty).
std::vector<const HeaderRule*> header_rules_for(const VirtualHost& vhost, std::string_view fs_path,
                                                std::string_view url_path);

// Applies `rules` to `field_lines` ("Name: value\r\n" each) and returns the new lines.
std::string apply_header_rules(std::string_view field_lines, const std::vector<const HeaderRule*>& rules,
                               const HeaderRuleContext& context);

// The values the rules make (formatted, appended, edited): the fields' views point into
// them, so the store lives as long as the fields are used. Plain values point into the
// rules themselves, which live as long as the config, and cost nothing.
using HeaderStore = std::forward_list<std::string>;
// The same on a list of fields, in place (RequestHeader: the request's own fields).
void apply_header_rules(std::vector<http::HeaderField>& fields, HeaderStore& store,
                        const std::vector<const HeaderRule*>& rules, const HeaderRuleContext& context);

// RequestHeader rules for a request: the vhost's, then those of the <Location> blocks
// matching the decoded URL path.
std::vector<const HeaderRule*> request_header_rules_for(const VirtualHost& vhost, std::string_view url_path);

}  // namespace itkd
