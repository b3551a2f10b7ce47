#include "config/regex_shortcut.h"

#include <strings.h>

namespace itkd {

namespace {

constexpr std::string_view kSpecial = ".[]{}()*+?|^$\\";

bool has_prefix(std::string_view s, std::string_view prefix, bool nocase) {
  if (s.size() < prefix.size()) return false;
  if (!nocase) return s.substr(0, prefix.size()) == prefix;
  return ::strncasecmp(s.data(), prefix.data(), prefix.size()) == 0;
}

}  // namespace

RegexShortcut RegexShortcut::of(std::string_view ere, bool nocase) {
  RegexShortcut s;
  s.nocase_ = nocase;
  if (ere == "^") s.kind_ = Kind::AnyEmpty;
  else if (ere == ".*" || ere == "^.*" || ere == "^.*$") s.kind_ = Kind::AnyWhole;
  else if (ere == ".") s.kind_ = Kind::NonEmpty;
  if (s.kind_ != Kind::None) return s;
  // An alternative anywhere could start differently: no shortcut.
  if (ere.size() < 2 || ere[0] != '^' || ere.find('|') != std::string_view::npos) return s;
  size_t i = 1;
  size_t last_start = 0;  // where the last literal character began in `ere`
  std::string literal;
  while (i < ere.size()) {
    char c = ere[i];
    if (c == '\\') {
      if (i + 1 >= ere.size() || kSpecial.find(ere[i + 1]) == std::string_view::npos) break;  // \b, \w, ...
      last_start = i;
      literal += ere[i + 1];
      i += 2;
    } else if (kSpecial.find(c) == std::string_view::npos) {
      last_start = i;
      literal += c;
      ++i;
    } else {
      break;
    }
  }
  // "x?" "x*" "x{0,1}" make the last character optional: it is not part of the prefix.
  if (i < ere.size() && (ere[i] == '?' || ere[i] == '*' || ere[i] == '{') && !literal.empty()) {
    literal.pop_back();
    i = last_start;
  }
  if (literal.empty()) return s;
  s.literal_ = std::move(literal);
  if (i == ere.size()) s.kind_ = Kind::PrefixOnly;
  else if (ere.substr(i) == "$") s.kind_ = Kind::Exact;
  else s.kind_ = Kind::Prefix;
  return s;
}

RegexShortcut::Verdict RegexShortcut::check(std::string_view subject, regmatch_t* m) const {
  auto matched = [&](regoff_t end) {
    m[0].rm_so = 0;
    m[0].rm_eo = end;
    return Verdict::Match;
  };
  switch (kind_) {
    case Kind::None: return Verdict::Unknown;
    case Kind::AnyEmpty: return matched(0);
    case Kind::AnyWhole: return matched(static_cast<regoff_t>(subject.size()));
    case Kind::NonEmpty: return subject.empty() ? Verdict::NoMatch : matched(1);
    case Kind::Prefix: return has_prefix(subject, literal_, nocase_) ? Verdict::Unknown : Verdict::NoMatch;
    case Kind::PrefixOnly:
      return has_prefix(subject, literal_, nocase_) ? matched(static_cast<regoff_t>(literal_.size())) : Verdict::NoMatch;
    case Kind::Exact:
      return subject.size() == literal_.size() && has_prefix(subject, literal_, nocase_)
                 ? matched(static_cast<regoff_t>(literal_.size()))
                 : Verdict::NoMatch;
  }
  return Verdict::Unknown;
}

}  // namespace itkd
