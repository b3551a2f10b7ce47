#include "config/rewrite_rules.h"

#include "config/config_lexer.h"
#include "config/pcre_compat.h"
#include "config/script_env.h"

namespace itkd {

namespace {

// The server variables mod_rewrite documents (HTTP_* beyond its list are read as headers).
constexpr std::string_view kVariables[] = {
    "REMOTE_ADDR", "REMOTE_HOST", "REMOTE_PORT", "REMOTE_USER", "REMOTE_IDENT", "REQUEST_METHOD",
    "SCRIPT_FILENAME", "PATH_INFO", "QUERY_STRING", "AUTH_TYPE", "DOCUMENT_ROOT", "SERVER_ADMIN",
    "SERVER_NAME", "SERVER_ADDR", "SERVER_PORT", "SERVER_PROTOCOL", "SERVER_SOFTWARE", "TIME_YEAR",
    "TIME_MON", "TIME_DAY", "TIME_HOUR", "TIME_MIN", "TIME_SEC", "TIME_WDAY", "TIME", "API_VERSION",
    "CONN_REMOTE_ADDR", "CONTEXT_DOCUMENT_ROOT", "CONTEXT_PREFIX", "HTTPS", "IS_SUBREQ",
    "REQUEST_FILENAME", "REQUEST_SCHEME", "REQUEST_URI", "THE_REQUEST"};

bool known_variable(std::string_view name) {
  if (name.starts_with("HTTP_") && name.size() > 5) return true;
  for (std::string_view v : kVariables)
    if (v == name) return true;
  return false;
}

std::string ascii_upper(std::string s) {
  for (char& c : s)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return s;
}

bool is_env_name(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

Result<void> add_variable(std::string_view inner, RewriteTemplate& out) {
  std::string upper = ascii_upper(std::string(inner));
  RewritePart part;
  if (upper.starts_with("HTTP:")) {
    part.kind = RewritePart::Kind::Header;
    part.text = std::string(inner.substr(5));
    if (part.text.empty()) return Error{"%{HTTP:} names no header"};
  } else if (upper.starts_with("ENV:")) {
    part.kind = RewritePart::Kind::Env;
    part.text = std::string(inner.substr(4));
    if (!is_env_name(part.text)) return Error{"%{ENV:" + part.text + "}: not a variable name"};
  } else if (upper.starts_with("SSL:")) {
    return Error{"%{" + std::string(inner) + "}: mod_ssl variables are not available to rewrite rules in itkd; "
                 "test %{HTTPS} for TLS"};
  } else if (upper.starts_with("LA-U:") || upper.starts_with("LA-F:")) {
    return Error{"%{" + std::string(inner) + "}: look-ahead sub-requests are not supported"};
  } else if (known_variable(upper)) {
    part.kind = RewritePart::Kind::Variable;
    part.text = std::move(upper);
  } else {
    return Error{"%{" + std::string(inner) + "} is not a variable mod_rewrite knows"};
  }
  out.push_back(std::move(part));
  return ok();
}

void add_text(RewriteTemplate& out, char c) {
  if (out.empty() || out.back().kind != RewritePart::Kind::Text) out.push_back({});
  out.back().text += c;
}

// "[L,R=301,NC]" -> {"L", "R=301", "NC"}
Result<std::vector<std::string>> split_flags(const std::string& arg) {
  if (arg.size() < 2 || arg.front() != '[' || arg.back() != ']')
    return Error{"flags must be written in brackets, as [L,R=301], not '" + arg + "'"};
  std::vector<std::string> flags;
  std::string current;
  for (char c : std::string_view(arg).substr(1, arg.size() - 2)) {
    if (c == ',') {
      if (!current.empty()) flags.push_back(std::move(current));
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) flags.push_back(std::move(current));
  return flags;
}

Result<SharedRegex> compile_pattern(const std::string& pattern, bool nocase, RegexShortcut& shortcut) {
  auto regex = SharedRegex::compile_pcre(pattern, REG_EXTENDED | (nocase ? REG_ICASE : 0));
  if (regex) shortcut = RegexShortcut::of(*pcre_to_ere(pattern), nocase);
  return regex;
}

Result<int> parse_redirect_status(std::string_view value) {
  std::string v = ascii_lower(std::string(value));
  if (v.empty()) return 302;
  if (v == "permanent") return 301;
  if (v == "temp") return 302;
  if (v == "seeother") return 303;
  int code = 0;
  for (char c : v) {
    if (c < '0' || c > '9' || code > 999) return Error{"R=" + std::string(value) + ": not a status code"};
    code = code * 10 + (c - '0');
  }
  if (code < 300 || code > 599) return Error{"R=" + std::string(value) + ": a redirect takes a 3xx status (or 4xx/5xx to refuse)"};
  return code;
}

}  // namespace

Result<RewriteTemplate> parse_rewrite_template(std::string_view text) {
  RewriteTemplate out;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\' && i + 1 < text.size()) {
      add_text(out, text[++i]);
    } else if (c == '$' && i + 1 < text.size() && text[i + 1] >= '0' && text[i + 1] <= '9') {
      out.push_back({RewritePart::Kind::RuleGroup, {}, text[++i] - '0'});
    } else if (c == '$' && i + 1 < text.size() && text[i + 1] == '{') {
      return Error{"${map:key} needs RewriteMap, which itkd does not support"};
    } else if (c == '%' && i + 1 < text.size() && text[i + 1] >= '0' && text[i + 1] <= '9') {
      out.push_back({RewritePart::Kind::CondGroup, {}, text[++i] - '0'});
    } else if (c == '%' && i + 1 < text.size() && text[i + 1] == '{') {
      size_t close = text.find('}', i + 2);
      if (close == std::string_view::npos) return Error{"'%{' without its '}' in '" + std::string(text) + "'"};
      if (auto r = add_variable(text.substr(i + 2, close - i - 2), out); !r) return Error{r.error().message};
      i = close;
    } else {
      add_text(out, c);
    }
  }
  return out;
}

Result<void> check_rewrite_env_name(std::string_view name) {
  if (name == "HTTP_AUTHORIZATION") return ok();
  return check_script_env_name(name);
}

Result<RewriteCondition> parse_rewrite_condition(const std::vector<std::string>& args) {
  if (args.size() < 2 || args.size() > 3)
    return Error{"RewriteCond takes a test string, a pattern and optional [flags]"};
  RewriteCondition cond;
  auto input = parse_rewrite_template(args[0]);
  if (!input) return Error{"RewriteCond: " + input.error().message};
  cond.input = std::move(*input);
  if (args.size() == 3) {
    auto flags = split_flags(args[2]);
    if (!flags) return Error{"RewriteCond: " + flags.error().message};
    for (const std::string& f : *flags) {
      std::string l = ascii_lower(f);
      if (l == "nc" || l == "nocase") cond.nocase = true;
      else if (l == "or" || l == "ornext") cond.or_next = true;
      else if (l == "nv" || l == "novary") continue;  // only changes Vary, which itkd does not add for rewrites
      else return Error{"RewriteCond: unknown flag '" + f + "' (itkd knows NC, OR, NV)"};
    }
  }
  std::string_view p = args[1];
  cond.pattern = args[1];
  if (!p.empty() && p[0] == '!') {
    cond.negate = true;
    p.remove_prefix(1);
  }
  using T = RewriteCondition::Test;
  struct Named { std::string_view word; T test; };
  static constexpr Named kFileTests[] = {{"-f", T::File}, {"-F", T::File}, {"-d", T::Directory},
      {"-s", T::NonEmptyFile}, {"-l", T::Symlink}, {"-L", T::Symlink}, {"-h", T::Symlink}, {"-x", T::Executable}};
  for (const Named& n : kFileTests)
    if (p == n.word) {
      cond.test = n.test;
      return cond;
    }
  if (p == "-U") return Error{"RewriteCond -U (a URL checked by a sub-request) is not supported; test the file with -f"};
  static constexpr Named kIntTests[] = {{"-eq", T::IntEq}, {"-ne", T::IntNe}, {"-lt", T::IntLt},
      {"-le", T::IntLe}, {"-gt", T::IntGt}, {"-ge", T::IntGe}};
  for (const Named& n : kIntTests)
    if (p.starts_with(n.word)) {
      cond.test = n.test;
      cond.operand = std::string(p.substr(n.word.size()));
      return cond;
    }
  static constexpr Named kStringTests[] = {{"<=", T::StringLessEq}, {">=", T::StringGreaterEq},
      {"=", T::StringEqual}, {"<", T::StringLess}, {">", T::StringGreater}};
  for (const Named& n : kStringTests)
    if (p.starts_with(n.word)) {
      cond.test = n.test;
      cond.operand = std::string(p.substr(n.word.size()));
      // Apache reads ="" as the empty string.
      if (cond.operand == "\"\"") cond.operand.clear();
      return cond;
    }
  if (p.empty()) return Error{"RewriteCond: empty pattern"};
  auto regex = compile_pattern(std::string(p), cond.nocase, cond.shortcut);
  if (!regex) return Error{"RewriteCond " + regex.error().message};
  cond.regex = std::move(*regex);
  return cond;
}

Result<RewriteRuleSpec> parse_rewrite_rule(const std::vector<std::string>& args) {
  if (args.size() < 2 || args.size() > 3)
    return Error{"RewriteRule takes a pattern, a substitution and optional [flags]"};
  RewriteRuleSpec rule;
  rule.pattern = args[0];
  std::string_view p = args[0];
  if (!p.empty() && p[0] == '!') {
    rule.negate = true;
    p.remove_prefix(1);
  }
  if (args.size() == 3) {
    auto flags = split_flags(args[2]);
    if (!flags) return Error{"RewriteRule: " + flags.error().message};
    for (const std::string& f : *flags) {
      size_t eq = f.find('=');
      std::string name = ascii_lower(f.substr(0, eq));
      std::string value = eq == std::string::npos ? std::string() : f.substr(eq + 1);
      if (name == "l" || name == "last") rule.last = true;
      else if (name == "end") rule.end = rule.last = true;
      else if (name == "nc" || name == "nocase") rule.nocase = true;
      else if (name == "qsa" || name == "qsappend") rule.qsa = true;
      else if (name == "qsd" || name == "qsdiscard") rule.qsd = true;
      else if (name == "ne" || name == "noescape") rule.no_escape = true;
      else if (name == "c" || name == "chain") rule.chain = true;
      else if (name == "pt" || name == "passthrough" || name == "ns" || name == "nosubreq" ||
               name == "dpi" || name == "discardpath") continue;  // itkd maps every rewritten URL through Alias, and has no sub-requests
      else if (name == "f" || name == "forbidden") rule.status = 403, rule.last = true;
      else if (name == "g" || name == "gone") rule.status = 410, rule.last = true;
      else if (name == "r" || name == "redirect") {
        auto status = parse_redirect_status(value);
        if (!status) return Error{"RewriteRule: " + status.error().message};
        rule.status = *status;
        rule.redirect = *status < 400;
      } else if (name == "s" || name == "skip") {
        if (value.empty() || value.size() > 3 || value.find_first_not_of("0123456789") != std::string::npos)
          return Error{"RewriteRule: S=" + value + ": skip takes a number of rules"};
        rule.skip = std::stoi(value);
      } else if (name == "e" || name == "env") {
        bool unset = !value.empty() && value[0] == '!';
        std::string spec = unset ? value.substr(1) : value;
        size_t colon = spec.find(':');
        std::string var = spec.substr(0, colon);
        if (auto c = check_rewrite_env_name(var); !c) return Error{"RewriteRule: E=" + var + ": " + c.error().message};
        if (unset) {
          rule.env.emplace_back(var, std::nullopt);
        } else {
          auto val = parse_rewrite_template(colon == std::string::npos ? std::string_view() : std::string_view(spec).substr(colon + 1));
          if (!val) return Error{"RewriteRule: E=" + var + ": " + val.error().message};
          rule.env.emplace_back(var, std::move(*val));
        }
      } else if (name == "p" || name == "proxy") {
        return Error{"RewriteRule [P] (proxying) is not supported: itkd proxies only to FastCGI (ProxyPassMatch)"};
      } else if (name == "n" || name == "next") {
        return Error{"RewriteRule [N] (restart the rules) is not supported: a loop that never ends would hang the "
                     "owner's worker; write the rule so one pass does it"};
      } else {
        return Error{"RewriteRule: flag '" + f + "' is not supported (itkd knows L, END, NC, R[=code], F, G, QSA, "
                     "QSD, NE, C, S=n, E=var:value, PT, NS, DPI)"};
      }
    }
  }
  if (rule.qsa && rule.qsd) return Error{"RewriteRule: QSA and QSD together: keep the query or drop it"};
  if (p.empty()) return Error{"RewriteRule: empty pattern"};
  auto regex = compile_pattern(std::string(p), rule.nocase, rule.shortcut);
  if (!regex) return Error{"RewriteRule " + regex.error().message};
  rule.regex = std::move(*regex);
  if (args[1] == "-") {
    rule.no_substitution = true;
  } else {
    auto sub = parse_rewrite_template(args[1]);
    if (!sub) return Error{"RewriteRule: " + sub.error().message};
    rule.substitution = std::move(*sub);
  }
  if (rule.redirect && rule.no_substitution)
    return Error{"RewriteRule: [R] with '-' as substitution has nowhere to redirect to"};
  return rule;
}

namespace {

bool uses(const RewriteTemplate& t, RewritePart::Kind kind) {
  for (const RewritePart& p : t)
    if (p.kind == kind) return true;
  return false;
}

}  // namespace

void note_group_use(RewriteRuleSpec& rule) {
  auto used = [&](RewritePart::Kind kind) {
    if (uses(rule.substitution, kind)) return true;
    for (const auto& e : rule.env)
      if (e.second && uses(*e.second, kind)) return true;
    for (const RewriteCondition& c : rule.conditions)
      if (uses(c.input, kind)) return true;
    return false;
  };
  rule.groups_used = used(RewritePart::Kind::RuleGroup);
  bool cond_groups = used(RewritePart::Kind::CondGroup);
  for (RewriteCondition& c : rule.conditions) c.groups_used = cond_groups;
}

Result<void> parse_rewrite_options(const std::vector<std::string>& args, RewriteSettings& into) {
  for (const std::string& a : args) {
    std::string l = ascii_lower(a);
    if (l == "inherit") into.inherit = true;
    else if (l == "inheritbefore") into.inherit_before = true;
    else if (l == "inheritdown" || l == "inheritdownbefore") into.inherit_down = true;
    else if (l == "ignoreinherit") into.inherit = into.inherit_before = false;
    else if (l.starts_with("maxredirects=")) continue;  // Apache 2.2's; 2.4 ignores it too
    else return Error{"RewriteOptions " + a + " is not supported (itkd knows Inherit, InheritBefore, InheritDown)"};
  }
  if (into.inherit && into.inherit_before) return Error{"RewriteOptions: Inherit and InheritBefore together"};
  return ok();
}

}  // namespace itkd
