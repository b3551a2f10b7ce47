#include "config/header_rules.h"

#include <array>

#include "config/config_lexer.h"
#include "config/pcre_compat.h"
#include "config/regex_cost.h"

namespace itkd {

Result<SharedRegex> SharedRegex::compile(const std::string& pattern, int flags) {
  if (auto cost = check_regex_cost(pattern); !cost)
    return Error{"bad regular expression '" + pattern + "': " + cost.error().message};
  auto compiled = std::make_shared<Compiled>();
  if (int rc = regcomp(&compiled->re, pattern.c_str(), flags); rc != 0) {
    std::array<char, 256> why{};
    regerror(rc, &compiled->re, why.data(), why.size());
    return Error{"bad regular expression '" + pattern + "': " + why.data()};
  }
  compiled->ok = true;
  SharedRegex out;
  out.compiled_ = std::move(compiled);
  out.pattern_ = pattern;
  return out;
}

Result<SharedRegex> SharedRegex::compile_pcre(const std::string& pattern, int flags) {
  auto ere = pcre_to_ere(pattern);
  if (!ere) return Error{"bad regular expression '" + pattern + "': " + ere.error().message};
  auto compiled = compile(*ere, flags);
  if (compiled) compiled->pattern_ = pattern;
  return compiled;
}

bool header_is_server_owned(std::string_view name) {
  for (std::string_view owned : {"Date", "Server", "Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive"})
    if (iequals(name, owned)) return true;
  return false;
}

bool request_header_is_server_owned(std::string_view name) {
  for (std::string_view owned : {"Host", "Content-Length", "Transfer-Encoding", "Connection", "Expect"})
    if (iequals(name, owned)) return true;
  return false;
}

namespace {

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos) return false;
  }
  return true;
}

Result<std::vector<HeaderValuePart>> parse_value(const std::string& text) {
  if (text.rfind("expr=", 0) == 0)
    return Error{"values computed with expr= are not supported yet; write the value itself"};
  std::vector<HeaderValuePart> parts;
  auto literal = [&](std::string_view s) {
    if (parts.empty() || parts.back().kind != HeaderValuePart::Kind::Text) parts.push_back({});
    parts.back().text.append(s);
  };
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      literal(std::string_view(&text[i], 1));
      continue;
    }
    if (i + 1 == text.size()) return Error{"value '" + text + "' ends with a lone %; write %% for a percent sign"};
    char c = text[++i];
    if (c == '%') {
      literal("%");
    } else if (c == 't') {
      parts.push_back({HeaderValuePart::Kind::RequestTime, {}});
    } else if (c == 'D') {
      parts.push_back({HeaderValuePart::Kind::Duration, {}});
    } else {
      std::string spec = c == '{' ? text.substr(i - 1, text.find('}', i) == std::string::npos
                                                           ? std::string::npos
                                                           : text.find('}', i) - i + 3)
                                  : text.substr(i - 1, 2);
      return Error{"value format " + spec + " is not supported (itkd knows %t, %D and %%; it has no "
                   "environment variables and does not pass SSL variables)"};
    }
  }
  return parts;
}

Result<void> parse_condition(const std::string& arg, HeaderRule& rule, bool for_request) {
  // A request's headers are edited before any handler runs either way: "early" (used in
  // the httpoxy advice, "RequestHeader unset Proxy early") changes nothing here.
  if (arg == "early" && for_request) return ok();
  if (arg == "early") return Error{"'early' is a testing aid Apache advises against in production; remove it"};
  if (arg.rfind("expr=", 0) == 0) return Error{"expr= conditions are not supported yet"};
  if (arg.rfind("env=", 0) == 0) {
    std::string_view name = std::string_view(arg).substr(4);
    bool negate = !name.empty() && name[0] == '!';
    if (negate) name.remove_prefix(1);
    if (name.empty() || name.find_first_of(" =") != std::string_view::npos)
      return Error{"condition " + arg + ": env= takes a variable name (HTTPS, or one SetEnvIf sets)"};
    rule.condition = negate ? HeaderRule::Condition::Unset : HeaderRule::Condition::Set;
    rule.condition_env = std::string(name);
  } else {
    return Error{"unexpected argument '" + arg + "' (expected env=[!]NAME, or quotes around a value with spaces)"};
  }
  return ok();
}

}  // namespace

Result<HeaderRule> parse_header_rule(const std::vector<std::string>& args, bool for_request) {
  HeaderRule rule;
  rule.always = for_request;  // a request has no "success" yet
  const std::string directive = for_request ? "RequestHeader" : "Header";
  size_t i = 0;
  if (!for_request && !args.empty() && (iequals(args[0], "always") || iequals(args[0], "onsuccess"))) {
    rule.always = iequals(args[0], "always");
    ++i;
  }
  if (i >= args.size()) return Error{directive + " needs an action (set, append, add, merge, setifempty, unset, edit, edit*" + (for_request ? ")" : ", echo)")};
  std::string action = ascii_lower(args[i++]);
  using A = HeaderRule::Action;
  size_t values = 1;  // arguments after the header name, before the condition
  if (action == "set") rule.action = A::Set;
  else if (action == "append") rule.action = A::Append;
  else if (action == "add") rule.action = A::Add;
  else if (action == "merge") rule.action = A::Merge;
  else if (action == "setifempty") rule.action = A::SetIfEmpty;
  else if (action == "unset") rule.action = A::Unset, values = 0;
  else if (action == "echo" && !for_request) rule.action = A::Echo, values = 0;
  else if (action == "edit") rule.action = A::Edit, values = 2;
  else if (action == "edit*") rule.action = A::EditAll, values = 2;
  else if (action == "note") return Error{directive + " note is not supported: itkd has no request notes"};
  else
    return Error{"unknown " + std::string(for_request ? "RequestHeader" : "Header") + " action '" + args[i - 1] +
                 (for_request ? "' (set, append, add, merge, setifempty, unset, edit, edit*)"
                              : "' (set, append, add, merge, setifempty, unset, edit, edit*, echo)")};

  if (i >= args.size()) return Error{directive + " " + action + " needs a header name"};
  std::string name = args[i++];
  if (rule.action == A::Echo) {
    auto re = SharedRegex::compile_pcre(name, REG_EXTENDED | REG_ICASE | REG_NOSUB);
    if (!re) return Error{"Header echo: " + re.error().message};
    rule.regex = std::move(*re);
  } else {
    // "Header set X-Foo: bar", as Apache 1.3 documented it, still works there.
    if (name.size() > 1 && name.back() == ':') name.pop_back();
    if (!is_token(name)) return Error{directive + " " + action + ": '" + name + "' is not a valid header name"};
    rule.name = name;
  }
  if (args.size() - i < values) {
    return Error{directive + " " + action + " " + name +
                 (values == 2 ? " needs a regular expression and a replacement" : " needs a value")};
  }
  if (rule.action == A::Edit || rule.action == A::EditAll) {
    auto re = SharedRegex::compile_pcre(args[i], REG_EXTENDED);
    if (!re) return Error{directive + " " + action + " " + name + ": " + re.error().message};
    rule.regex = std::move(*re);
    rule.replacement = args[i + 1];
  } else if (values == 1) {
    auto value = parse_value(args[i]);
    if (!value) return Error{directive + " " + action + " " + name + ": " + value.error().message};
    rule.value = std::move(*value);
  }
  i += values;
  if (i < args.size()) {
    if (auto c = parse_condition(args[i], rule, for_request); !c) return Error{directive + " " + action + " " + name + ": " + c.error().message};
    ++i;
  }
  if (i < args.size()) return Error{directive + " " + action + " " + name + ": too many arguments from '" + args[i] + "' on"};
  return rule;
}

}  // namespace itkd
