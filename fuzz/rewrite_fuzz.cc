// libFuzzer target: mod_rewrite lines (up to the first empty line, placed in a vhost
// whose DocumentRoot has a <Directory>) run over an arbitrary request head (the rest).
// A config may be refused; accepted rules must never crash or loop, a rewritten path
// must be a normalized absolute path, and a redirect's Location must stay one header
// value: no CR, LF, NUL or other control bytes, whatever the request carried.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config_parser.h"
#include "http/request_head.h"
#include "worker/rewrite_engine.h"
#include "worker/static/static_handler.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  size_t split = text.find("\n\n");
  if (split == std::string::npos) return 0;
  std::string rules = text.substr(0, split);
  std::string request = text.substr(split + 2);
  bool in_directory = !rules.empty() && rules[0] == 'D';
  if (in_directory) rules.erase(0, 1);
  std::string config = "Listen 80\nDocumentRoot /srv/main\n<VirtualHost *:80>\nServerName a.example\n"
                       "DocumentRoot /tmp/itkd-fuzz-www\nAlias /x /tmp/itkd-fuzz-x\n" +
                       (in_directory ? "<Directory /tmp/itkd-fuzz-www>\n" + rules + "\n</Directory>\n"
                                     : "RewriteEngine On\n" + rules + "\n") +
                       "</VirtualHost>\n";
  itkd::ParseOptions options;
  options.resolve_identities = false;
  auto parsed = itkd::parse_config_text(config, "f.conf", options);
  if (!parsed.ok() || parsed->vhosts.size() < 2) return 0;
  itkd::http::RequestHead head;
  if (itkd::http::parse_request_head(request, itkd::http::ParseLimits{}, head).status !=
      itkd::http::ParseStatus::Complete)
    return 0;
  std::string decoded, path;
  if (!itkd::percent_decode_path(head.path, decoded) || !itkd::remove_dot_segments(decoded, path)) return 0;
  itkd::RewriteRequest r{parsed->vhosts[1], head, "http", "a.example", "127.0.0.1", 80, "192.0.2.1", 4000, 0};
  itkd::RewriteOutcome out = itkd::apply_rewrite_rules(r, path, head.query, head.has_query);
  if (out.kind == itkd::RewriteOutcome::Kind::Rewritten) {
    std::string normalized;
    if (out.path.empty() || out.path[0] != '/' || !itkd::remove_dot_segments(out.path, normalized) ||
        normalized != out.path)
      __builtin_trap();
  }
  for (unsigned char c : out.location)
    if (c < 0x21 || c == 0x7f) __builtin_trap();
  for (const auto& [name, value] : out.env)
    for (char c : value)
      if (c == '\r' || c == '\n' || c == '\0') __builtin_trap();
  return 0;
}
