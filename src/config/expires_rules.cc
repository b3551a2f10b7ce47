#include "config/expires_rules.h"

#include <charconv>
#include <vector>

#include "config/config_lexer.h"

namespace itkd {

void ExpiresSettings::merge(const ExpiresSettings& deeper) {
  if (deeper.active) active = deeper.active;
  if (deeper.default_rule) default_rule = deeper.default_rule;
  for (const auto& [type, rule] : deeper.by_type) by_type[type] = rule;
}

namespace {

constexpr int64_t kMaxSeconds = int64_t{100} * 365 * 24 * 3600;  // a century is "forever" enough

Result<int64_t> number(std::string_view text, std::string_view code) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < 0 || n > kMaxSeconds)
    return Error{"'" + std::string(code) + "': '" + std::string(text) + "' is not a number of seconds from 0 to " +
                 std::to_string(kMaxSeconds)};
  return n;
}

// A unit as Apache matches it: a prefix of the plural (so the singular too), at least its
// first letter, two for "months" and "minutes".
int64_t unit_seconds(std::string word) {
  word = ascii_lower(word);
  auto is = [&](std::string_view full, size_t least) {
    return word.size() >= least && word.size() <= full.size() && full.compare(0, word.size(), word) == 0;
  };
  if (is("years", 1)) return 365 * 24 * 3600;
  if (is("months", 2)) return 30 * 24 * 3600;
  if (is("weeks", 1)) return 7 * 24 * 3600;
  if (is("days", 1)) return 24 * 3600;
  if (is("hours", 1)) return 3600;
  if (is("minutes", 2)) return 60;
  if (is("seconds", 1)) return 1;
  return 0;
}

}  // namespace

Result<ExpiresRule> parse_expires_code(std::string_view code) {
  ExpiresRule rule;
  // "A3600"; "Access plus ..." is the other syntax (Apache would read it as A0).
  if (code.size() > 1 && (code[0] == 'A' || code[0] == 'M') && (code[1] == '-' || (code[1] >= '0' && code[1] <= '9'))) {
    rule.from_modification = code[0] == 'M';
    auto n = number(code.substr(1), code);
    if (!n) return n.error();
    rule.seconds = *n;
    return rule;
  }
  std::vector<std::string> words;
  size_t i = 0;
  while (i < code.size()) {
    while (i < code.size() && (code[i] == ' ' || code[i] == '\t')) ++i;
    size_t start = i;
    while (i < code.size() && code[i] != ' ' && code[i] != '\t') ++i;
    if (i > start) words.emplace_back(code.substr(start, i - start));
  }
  if (words.empty()) return Error{"an empty expiry code (write e.g. \"access plus 1 month\" or A2592000)"};
  std::string base = ascii_lower(words[0]);
  if (base == "access" || base == "now") {
    rule.from_modification = false;
  } else if (base == "modification") {
    rule.from_modification = true;
  } else {
    return Error{"'" + std::string(code) + "': the base '" + words[0] + "' is not access, now or modification"};
  }
  size_t w = 1;
  if (w < words.size() && iequals(words[w], "plus")) ++w;
  if (w == words.size()) return Error{"'" + std::string(code) + "': no interval after '" + words[w - 1] + "'"};
  int64_t total = 0;
  for (; w < words.size(); w += 2) {
    auto n = number(words[w], code);
    if (!n) return n.error();
    if (w + 1 == words.size()) return Error{"'" + std::string(code) + "': " + words[w] + " of what? (add e.g. days)"};
    int64_t unit = unit_seconds(words[w + 1]);
    if (unit == 0)
      return Error{"'" + std::string(code) + "': unknown unit '" + words[w + 1] +
                   "' (years, months, weeks, days, hours, minutes, seconds)"};
    if (*n > kMaxSeconds / unit || total + *n * unit > kMaxSeconds)
      return Error{"'" + std::string(code) + "' is more than a century"};
    total += *n * unit;
  }
  rule.seconds = total;
  return rule;
}

}  // namespace itkd
