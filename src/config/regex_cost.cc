#include "config/regex_cost.h"

#include <algorithm>
#include <string>

namespace itkd {

namespace {

constexpr size_t kMaxCost = 20000;  // atoms after expanding repetitions
constexpr int kMaxDepth = 64;       // nested groups

// A recursive-descent walk over ERE syntax that only counts: the cost of a sequence is
// the sum of its atoms', an atom's is multiplied by its repetition's upper bound (+1, as
// regcomp keeps an optional copy), a group's is that of its alternatives together.
class CostWalk {
 public:
  explicit CostWalk(std::string_view p) : p_(p) {}

  Result<size_t> run() {
    size_t total = 0;
    while (true) {
      auto cost = alternatives(0);
      if (!cost) return cost;
      total = saturate(total + *cost);
      if (i_ >= p_.size()) return total;
      ++i_;  // an unmatched ')', which glibc takes as a literal
    }
  }

 private:
  static size_t saturate(size_t v) { return v > kMaxCost ? kMaxCost + 1 : v; }

  Result<size_t> alternatives(int depth) {
    if (depth > kMaxDepth) return Error{"groups nested more than " + std::to_string(kMaxDepth) + " deep"};
    size_t total = 0;
    while (true) {
      auto seq = sequence(depth);
      if (!seq) return seq;
      total = saturate(total + *seq);
      if (i_ < p_.size() && p_[i_] == '|') {
        ++i_;
        continue;
      }
      return total;
    }
  }

  Result<size_t> sequence(int depth) {
    size_t total = 0;
    while (i_ < p_.size() && p_[i_] != '|' && p_[i_] != ')') {
      auto cost = atom(depth);
      if (!cost) return cost;
      size_t c = *cost;
      bool repeated = false;
      while (i_ < p_.size() && is_repetition(p_[i_])) {
        size_t at = i_;
        size_t factor = repetition();
        if (factor == 0) break;  // "{" that is not a bound: let regcomp judge it
        if (repeated) {
          return Error{"'" + std::string(p_.substr(at, i_ - at)) + "' right after another repetition is undefined "
                       "in POSIX extended regular expressions (PCRE's lazy '*?' and possessive '++' do not exist "
                       "there); write one repetition"};
        }
        repeated = true;
        c = saturate(c * factor);
      }
      total = saturate(total + c);
    }
    if (total > kMaxCost) {
      return Error{"too complex: its repetitions expand to more than " + std::to_string(kMaxCost) +
                   " copies of its parts when compiled"};
    }
    return total;
  }

  static bool is_repetition(char c) { return c == '*' || c == '+' || c == '?' || c == '{'; }

  // The upper bound + 1 of the repetition at i_, which it consumes; 0 if '{' is not one.
  size_t repetition() {
    char c = p_[i_];
    if (c != '{') {
      ++i_;
      return 2;
    }
    size_t j = i_ + 1;
    size_t low = 0, high = 0;
    bool has_low = false, has_comma = false, has_high = false;
    while (j < p_.size() && p_[j] >= '0' && p_[j] <= '9') low = saturate(low * 10 + size_t(p_[j++] - '0')), has_low = true;
    if (j < p_.size() && p_[j] == ',') {
      has_comma = true;
      ++j;
      while (j < p_.size() && p_[j] >= '0' && p_[j] <= '9') high = saturate(high * 10 + size_t(p_[j++] - '0')), has_high = true;
    }
    if (!has_low || j >= p_.size() || p_[j] != '}') return 0;
    i_ = j + 1;
    size_t bound = has_comma ? (has_high ? high : low) : low;
    return saturate(bound + 1);
  }

  Result<size_t> atom(int depth) {
    char c = p_[i_];
    if (c == '(') {
      ++i_;
      auto inner = alternatives(depth + 1);
      if (!inner) return inner;
      if (i_ < p_.size() && p_[i_] == ')') ++i_;
      return *inner > 0 ? *inner : 1;
    }
    if (c == '\\') {
      i_ = std::min(p_.size(), i_ + 2);
      return size_t{1};
    }
    if (c == '[') {
      skip_bracket();
      return size_t{1};
    }
    ++i_;  // a literal, '.', '^', '$', or a repetition with nothing before it
    return size_t{1};
  }

  // [abc], [^]a], [[:alpha:]], [[.-.]]: up to the ']' that closes it.
  void skip_bracket() {
    size_t j = i_ + 1;
    if (j < p_.size() && p_[j] == '^') ++j;
    if (j < p_.size() && p_[j] == ']') ++j;
    while (j < p_.size() && p_[j] != ']') {
      if (p_[j] == '[' && j + 1 < p_.size() && (p_[j + 1] == ':' || p_[j + 1] == '.' || p_[j + 1] == '=')) {
        char kind = p_[j + 1];
        size_t end = p_.find(std::string{kind, ']'}, j + 2);
        j = end == std::string_view::npos ? p_.size() : end + 2;
      } else {
        ++j;
      }
    }
    i_ = std::min(p_.size(), j + 1);
  }

  std::string_view p_;
  size_t i_ = 0;
};

}  // namespace

Result<void> check_regex_cost(std::string_view pattern) {
  auto cost = CostWalk(pattern).run();
  if (!cost) return Error{cost.error().message};
  if (*cost > kMaxCost) {
    return Error{"too complex: its repetitions expand to more than " + std::to_string(kMaxCost) +
                 " copies of its parts when compiled"};
  }
  return ok();
}

}  // namespace itkd
