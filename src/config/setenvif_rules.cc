#include "config/setenvif_rules.h"

#include "config/config_lexer.h"
#include "config/rewrite_rules.h"

namespace itkd {

namespace {

struct Special {
  std::string_view name;
  SetEnvIfRule::Attribute attribute;
};

constexpr Special kSpecials[] = {
    {"remote_host", SetEnvIfRule::Attribute::RemoteAddr},
    {"remote_addr", SetEnvIfRule::Attribute::RemoteAddr},
    {"server_addr", SetEnvIfRule::Attribute::ServerAddr},
    {"request_method", SetEnvIfRule::Attribute::RequestMethod},
    {"request_protocol", SetEnvIfRule::Attribute::RequestProtocol},
    {"request_uri", SetEnvIfRule::Attribute::RequestUri},
};

bool is_name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string script_env_name(std::string_view name) {
  std::string out(name);
  for (char& c : out)
    if (!is_name_char(c)) c = '_';
  return out;
}

Result<SetEnvIfRule> parse_setenvif(const std::vector<std::string>& args, bool nocase) {
  if (args.size() < 3) return Error{"takes an attribute, a regular expression and at least one variable"};
  SetEnvIfRule rule;
  std::string lower = ascii_lower(args[0]);
  rule.name = args[0];
  for (const Special& s : kSpecials)
    if (lower == s.name) rule.attribute = s.attribute;
  // mod_setenvif reads a name with regex characters as a pattern over header names.
  if (rule.attribute == SetEnvIfRule::Attribute::Header &&
      (!is_token(args[0]) || args[0].find_first_of("^$.*+?()[]{}|\\") != std::string::npos)) {
    return Error{"attribute '" + args[0] + "': a regular expression over header names is not supported; name "
                 "the header (or Remote_Addr, Server_Addr, Request_Method, Request_Protocol, Request_URI)"};
  }
  auto regex = SharedRegex::compile_pcre(args[1], REG_EXTENDED | (nocase ? REG_ICASE : 0));
  if (!regex) return Error{regex.error().message};
  rule.regex = std::move(*regex);
  for (size_t i = 2; i < args.size(); ++i) {
    std::string_view spec = args[i];
    bool unset = !spec.empty() && spec[0] == '!';
    if (unset) spec.remove_prefix(1);
    size_t eq = spec.find('=');
    std::string name(spec.substr(0, eq));
    // Scripts get the name with other characters as '_' ("downgrade-1.0", Apache's
    // special variables, is downgrade_1_0 there); under that name it must not be one the
    // server sets from the request itself or that php-fpm reads as settings (PHP_VALUE):
    // SetEnv's list.
    if (auto c = check_rewrite_env_name(script_env_name(name)); !c)
      return Error{"variable '" + name + "': " + c.error().message};
    if (unset) {
      if (eq != std::string_view::npos) return Error{"'!" + std::string(spec) + "': an unset variable takes no value"};
      rule.sets.emplace_back(name, std::nullopt);
    } else {
      rule.sets.emplace_back(name, eq == std::string_view::npos ? std::string("1") : std::string(spec.substr(eq + 1)));
    }
  }
  return rule;
}

}  // namespace itkd
