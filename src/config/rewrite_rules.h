// mod_rewrite's directives as the config states them: RewriteEngine, RewriteCond,
// RewriteRule, RewriteBase and RewriteOptions, at vhost level and in <Directory>. The
// worker applies them (worker/rewrite_engine.h). Everything is parsed and checked here,
// so a rule that could not work is a config error with file:line, never a rule that
// silently does nothing after a move from Apache.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "config/header_rules.h"
#include "config/regex_shortcut.h"
#include "config/source_location.h"

namespace itkd {

// A TestString or Substitution: text with $N (the rule's groups), %N (the last matched
// condition's groups) and %{NAME} (a server variable, %{HTTP:Header}, %{ENV:name}).
struct RewritePart {
  enum class Kind { Text, RuleGroup, CondGroup, Variable, Header, Env } kind = Kind::Text;
  std::string text;  // Text: the text; Variable: its name (upper case); Header, Env: the name
  int group = 0;     // RuleGroup, CondGroup: 0-9
};
using RewriteTemplate = std::vector<RewritePart>;

struct RewriteCondition {
  enum class Test {
    Regex,        // CondPattern
    File,         // -f: a regular file
    Directory,    // -d
    NonEmptyFile, // -s: a regular file with a size
    Symlink,      // -l, -L, -h
    Executable,   // -x
    StringEqual,  // =text
    StringLess,   // <text
    StringGreater,// >text
    StringLessEq, // <=text
    StringGreaterEq, // >=text
    IntEq, IntNe, IntLt, IntLe, IntGt, IntGe,  // -eq -ne -lt -le -gt -ge
  };
  RewriteTemplate input;  // TestString
  Test test = Test::Regex;
  bool negate = false;    // !CondPattern
  std::string operand;    // the comparison's right side (string and integer tests)
  SharedRegex regex;      // Regex: compiled from the pattern (PCRE as written, translated)
  RegexShortcut shortcut; // decides literal patterns without regexec
  bool groups_used = true; // some %N of its rule reads the groups (else regexec skips them)
  bool nocase = false;    // [NC]
  bool or_next = false;   // [OR]: this condition or the next one
  std::string pattern;    // as written, for messages
  SourceLocation where;
};

struct RewriteRuleSpec {
  std::string pattern;        // as written
  SharedRegex regex;
  RegexShortcut shortcut;     // decides literal patterns without regexec
  bool groups_used = true;    // some $N reads the groups (else regexec skips them)
  bool negate = false;        // !Pattern: $N are then empty
  bool no_substitution = false;  // "-": the URL is left as it is
  RewriteTemplate substitution;
  std::vector<RewriteCondition> conditions;  // the RewriteCond lines before it
  // Flags.
  bool last = false;          // L
  bool end = false;           // END: also no per-directory round after an internal redirect
  bool nocase = false;        // NC
  bool qsa = false;           // QSA: keep the request's query, after the new one
  bool qsd = false;           // QSD: drop the request's query
  bool no_escape = false;     // NE: a redirect's Location is sent as built
  bool chain = false;         // C: the next rule runs only if this one matched
  int skip = 0;               // S=n: skip the next n rules when this one matches
  int status = 0;             // R=3xx: redirect; F: 403; G: 410; R=4xx/5xx: that error
  bool redirect = false;      // R given (status 302 unless R=code)
  std::vector<std::pair<std::string, std::optional<RewriteTemplate>>> env;  // E=NAME:VALUE, E=!NAME
  SourceLocation where;
};

struct RewriteSettings {
  std::optional<bool> engine;            // RewriteEngine On|Off (unset: off, or the parent's in <Directory>)
  std::vector<RewriteRuleSpec> rules;    // in config order
  std::optional<std::string> base;       // RewriteBase (in <Directory>)
  bool inherit = false;                  // RewriteOptions Inherit: the parent's rules after these
  bool inherit_before = false;           // RewriteOptions InheritBefore: the parent's rules first
  bool inherit_down = false;             // RewriteOptions InheritDown (main server): every vhost inherits
  // While parsing: RewriteCond lines waiting for their RewriteRule.
  std::vector<RewriteCondition> pending;
  bool configured() const { return engine.has_value() || !rules.empty() || base || inherit || inherit_before; }
};

// RewriteCond TestString CondPattern [flags]
Result<RewriteCondition> parse_rewrite_condition(const std::vector<std::string>& args);
// RewriteRule Pattern Substitution [flags]
Result<RewriteRuleSpec> parse_rewrite_rule(const std::vector<std::string>& args);
// Once a rule has its conditions: whether anything reads $N or %N, so the worker can
// ask regexec for no group positions when nothing does.
void note_group_use(RewriteRuleSpec& rule);
// RewriteOptions: Inherit, InheritBefore, InheritDown (main server); the others are refused.
Result<void> parse_rewrite_options(const std::vector<std::string>& args, RewriteSettings& into);
// Parses a TestString or a Substitution.
Result<RewriteTemplate> parse_rewrite_template(std::string_view text);

// Env names a rule may set with [E=...]: those SetEnv may set, and HTTP_AUTHORIZATION
// (the usual way to hand the Authorization header to PHP behind CGI or FastCGI).
Result<void> check_rewrite_env_name(std::string_view name);

}  // namespace itkd
