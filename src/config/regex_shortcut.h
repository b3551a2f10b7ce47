// Most rewrite patterns are a literal anchored at the start ("^/wp-config\.php",
// "^/post/(\d+)$", "^index\.php$") or match anything ("." and ".*"). glibc's regexec
// costs about a microsecond per call, and every request runs every rule of its vhost:
// such patterns are decided (or ruled out) by comparing strings, before any regexec.
#pragma once

#include <regex.h>

#include <string>
#include <string_view>

namespace itkd {

class RegexShortcut {
 public:
  enum class Verdict { NoMatch, Match, Unknown };

  // From the POSIX ERE that is compiled (config/pcre_compat.h's output) and REG_ICASE.
  static RegexShortcut of(std::string_view ere, bool nocase);

  // Match: `m[0]` is set as regexec would set it, and the pattern has no groups; NoMatch:
  // regexec would not match; Unknown: ask regexec.
  Verdict check(std::string_view subject, regmatch_t* m) const;

 private:
  enum class Kind {
    None,        // no shortcut
    AnyEmpty,    // "^": matches, m[0] empty at 0
    AnyWhole,    // ".*", "^.*", "^.*$": matches, m[0] the whole subject
    NonEmpty,    // ".": any non-empty subject, m[0] its first character
    Prefix,      // "^lit" then more pattern: a subject without the prefix can't match
    PrefixOnly,  // "^lit": matches exactly the subjects with the prefix, m[0] the prefix
    Exact,       // "^lit$": matches the literal alone
  };
  Kind kind_ = Kind::None;
  std::string literal_;
  bool nocase_ = false;
};

}  // namespace itkd
