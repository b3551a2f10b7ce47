#include "config/pcre_compat.h"

#include <algorithm>
#include <iterator>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace itkd {

namespace {

constexpr std::string_view kEreSpecial = ".[]{}()*+?|^$\\";
constexpr std::string_view kWordMembers = "A-Za-z0-9_";

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_alnum(char c) { return is_digit(c) || is_letter(c); }

int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }
std::string where(size_t offset) { return " at offset " + std::to_string(offset); }

// The one shape every refusal of a PCRE-only construct takes.
Error lacks(std::string_view construct, size_t offset, std::string_view what, std::string_view advice) {
  std::string m = quoted(construct) + where(offset) + " is " + std::string(what) +
                  ", which POSIX regular expressions lack";
  if (!advice.empty()) m += "; " + std::string(advice);
  return Error{m};
}

// \d \w \s and their negations, outside brackets.
const char* class_escape(char c) {
  switch (c) {
    case 'd': return "[0-9]";
    case 'D': return "[^0-9]";
    case 'w': return "[A-Za-z0-9_]";
    case 'W': return "[^A-Za-z0-9_]";
    case 's': return "[[:space:]]";
    case 'S': return "[^[:space:]]";
    default: return nullptr;
  }
}

// \t \n \r \f: the control character itself; 0 for anything else. (PCRE's \v is a class.)
char control_escape(char c) {
  switch (c) {
    case 't': return '\t';
    case 'n': return '\n';
    case 'r': return '\r';
    case 'f': return '\f';
    default: return 0;
  }
}

struct Help {
  std::string_view key, what, advice;
};

constexpr Help kEscapeHelp[] = {
    {"A", "PCRE's start-of-subject anchor", "write '^' instead"},
    {"z", "PCRE's end-of-subject anchor", "write '$' instead"},
    {"Z", "PCRE's end-of-subject anchor", "write '$' instead"},
    {"G", "PCRE's first-match-position anchor", ""},
    {"h", "PCRE's horizontal-space class", "write '[[:blank:]]' instead if spaces and tabs will do"},
    {"H", "PCRE's non-horizontal-space class", "write '[^[:blank:]]' instead if spaces and tabs will do"},
    {"v", "PCRE's vertical-space class (not the vertical tab)", "write '[[:space:]]' if any white space will do"},
    {"V", "PCRE's non-vertical-space class", ""},
    {"R", "PCRE's any-line-ending sequence", "list the line endings you expect, e.g. '\\r?\\n'"},
    {"N", "PCRE's non-newline class", "write '[^\\n]' instead"},
    {"K", "PCRE's match-start reset", ""},
    {"p", "a PCRE Unicode property", "use a POSIX class such as '[[:alpha:]]' instead"},
    {"P", "a PCRE Unicode property", "use a POSIX class such as '[^[:alpha:]]' instead"},
    {"X", "PCRE's extended grapheme cluster", ""},
    {"C", "PCRE's single code unit", "write '.' instead"},
    {"Q", "PCRE's \\Q...\\E quoting", "escape each special character with '\\' instead"},
    {"E", "PCRE's \\Q...\\E quoting", "escape each special character with '\\' instead"},
    {"o", "a PCRE octal character code", "write the character itself"},
    {"0", "a PCRE octal character code", "write the character itself"},
    {"c", "a PCRE control-character escape", "write the character itself"},
    {"e", "PCRE's escape-character escape", "write the character itself"},
    {"a", "PCRE's bell-character escape", "write the character itself"},
    {"g", "a PCRE backreference", "match the repeated text explicitly"},
    {"k", "a PCRE named backreference", "match the repeated text explicitly"},
};

// \xHH and \x{HHHH}: names the whole code and, where it is printable, the character.
Error hex_error(std::string_view p, size_t at) {
  size_t j = at + 2;
  bool braced = j < p.size() && p[j] == '{';
  if (braced) ++j;
  unsigned value = 0;
  size_t digits = 0;
  while (j < p.size() && hex_value(p[j]) >= 0 && (braced || digits < 2)) {
    value = std::min(value * 16 + unsigned(hex_value(p[j++])), 0x110000u);
    ++digits;
  }
  if (braced && j < p.size() && p[j] == '}') ++j;
  std::string advice = "write the character itself";
  if (digits > 0 && value > 0x20 && value < 0x7f) {
    char ch = char(value);
    advice += ": " + quoted((kEreSpecial.find(ch) != std::string_view::npos ? "\\" : "") + std::string(1, ch));
  }
  return lacks(p.substr(at, j - at), at, "a PCRE hexadecimal character code", advice);
}

// A backslash and a letter or digit at p[at] that has no POSIX translation.
Error escape_error(std::string_view p, size_t at, bool in_bracket) {
  char c = p[at + 1];
  std::string_view construct = p.substr(at, 2);
  if (c == 'x') return hex_error(p, at);
  if (c >= '1' && c <= '9') return lacks(construct, at, "a PCRE backreference", "match the repeated text explicitly");
  if (c == 'b' && in_bracket) return lacks(construct, at, "PCRE's backspace character inside brackets", "");
  if (in_bracket && (c == 'D' || c == 'W' || c == 'S')) {
    return Error{quoted(construct) + where(at) + " inside brackets has no POSIX equivalent there; write " +
                 quoted(construct) + " outside brackets when it is all the bracket holds, else list the "
                 "characters wanted, e.g. '[^0-9]' for '[\\D]'"};
  }
  for (const Help& h : kEscapeHelp) {
    if (h.key[0] == c) return lacks(construct, at, h.what, h.advice);
  }
  return Error{quoted(construct) + where(at) + " is not a PCRE escape (Apache refuses it too); write " +
               quoted(std::string(1, c)) + " for the character itself"};
}

constexpr Help kGroupHelp[] = {
    {"(?:", "a PCRE non-capturing group", "write '(...)' and renumber the $N references after it"},
    {"(?=", "a PCRE lookahead assertion", ""},
    {"(?!", "a PCRE negative lookahead assertion", ""},
    {"(?<=", "a PCRE lookbehind assertion", ""},
    {"(?<!", "a PCRE negative lookbehind assertion", ""},
    {"(?<", "a PCRE named group", "write '(...)' and refer to it by number"},
    {"(?P<", "a PCRE named group", "write '(...)' and refer to it by number"},
    {"(?'", "a PCRE named group", "write '(...)' and refer to it by number"},
    {"(?P=", "a PCRE named backreference", "match the repeated text explicitly"},
    {"(?P>", "a PCRE recursion", ""},
    {"(?&", "a PCRE recursion", ""},
    {"(?R", "a PCRE recursion", ""},
    {"(?#", "a PCRE comment", "remove it"},
    {"(?>", "a PCRE atomic group", ""},
    {"(?|", "a PCRE branch-reset group", ""},
    {"(?(", "a PCRE conditional group", ""},
    {"(?C", "a PCRE callout", ""},
};

// "(?" at p[at]: every form of it is PCRE-only.
Error group_error(std::string_view p, size_t at) {
  std::string_view rest = p.substr(at);
  for (const Help& h : kGroupHelp) {
    if (rest.starts_with(h.key)) return lacks(h.key, at, h.what, h.advice);
  }
  // "(?1)", "(?+1)", "(?-1)" recurse; "(?-i)" sets a flag.
  std::string_view after = rest.substr(2);
  size_t sign = after.starts_with('+') || after.starts_with('-') ? 1 : 0;
  if (after.size() > sign && is_digit(after[sign])) return lacks(rest.substr(0, 3 + sign), at, "a PCRE recursion", "");
  size_t j = 2;
  while (j < rest.size() && (is_letter(rest[j]) || rest[j] == '-' || rest[j] == '^')) ++j;
  if (j < rest.size() && (rest[j] == ')' || rest[j] == ':')) {
    std::string_view flags = rest.substr(2, j - 2);
    std::string_view advice = flags.substr(0, flags.find('-')).find('i') != std::string_view::npos
                                  ? "use the [NC] flag for case-insensitive matching"
                                  : "remove it";
    return lacks(rest.substr(0, j + 1), at, "a PCRE inline flag setting", advice);
  }
  return lacks("(?", at, "PCRE-only group syntax", "");
}

// One PCRE bracket expression "[...]", parsed into members and re-emitted in the order
// POSIX needs: backslash is an escape in PCRE brackets but an ordinary member in POSIX ones,
// and where ']', '^', '-' and '[' stand changes what they mean.
class Bracket {
 public:
  Bracket(std::string_view p, size_t open) : p_(p), open_(open), j_(open + 1) {}

  // Parses up to the closing ']' and returns the offset just past it.
  Result<size_t> parse() {
    if (j_ < p_.size() && p_[j_] == '^') {
      negated_ = true;
      ++j_;
    }
    first_ = j_;
    while (true) {
      if (j_ >= p_.size()) {
        return Error{"'[' at offset " + std::to_string(open_) + " is never closed; close it with ']' or write "
                     "'\\[' for a literal bracket"};
      }
      if (p_[j_] == ']' && j_ != first_) return ++j_;
      if (auto m = member(); !m) return m.error();
    }
  }

  // The ERE text: the original when nothing in it reads differently in POSIX.
  std::string emit() const {
    if (!translated_) return std::string(p_.substr(open_, j_ - open_));
    std::string s = negated_ ? "[^" : "[";
    if (rbracket_) s += ']';
    s += members_;
    if (lbracket_) s += '[';  // last, so it cannot start "[:", "[." or "[="
    if (backslash_) s += '\\';
    if (caret_ && s == "[") return hyphen_ ? "[-^]" : "\\^";  // a leading '^' would negate
    if (caret_) s += '^';
    if (hyphen_) s += '-';
    return s + ']';
  }

 private:
  struct Item {
    bool is_class = false;
    bool escaped = false;
    char ch = 0;
    std::string members;  // of a class

    static Item literal(char c, bool escaped) { return {false, escaped, c, {}}; }
    static Item of_class(std::string members) { return {true, false, 0, std::move(members)}; }
  };

  // One member: a character, a range or a class.
  Result<void> member() {
    size_t at = j_;
    auto item = next_item();
    if (!item) return item.error();
    if (item->is_class) {
      members_ += item->members;  // a '-' after it is literal, as in Perl and PCRE1
      return ok();
    }
    // A '-' before a class is literal too.
    bool range = j_ + 1 < p_.size() && p_[j_] == '-' && p_[j_ + 1] != ']' && !class_at(j_ + 1);
    if (range) return add_range(at, *item);
    add_char(item->ch, at);
    return ok();
  }

  Result<Item> next_item() {
    char c = p_[j_];
    if (c == '\\') return escape();
    if (c == '[' && j_ + 1 < p_.size()) {
      char kind = p_[j_ + 1];
      if (kind == ':') {
        if (auto cls = posix_class(); !cls || cls->is_class) return cls;
      } else if ((kind == '.' || kind == '=') && closes(j_, kind)) {
        return Error{quoted(p_.substr(j_, 2)) + where(j_) + " opens a POSIX collating element, which PCRE (and so "
                     "Apache) refuses; list the characters instead"};
      }
      // A literal '[' before ':', '.' or '=' would open a class in POSIX.
      if (kind == ':' || kind == '.' || kind == '=') translated_ = true;
    }
    ++j_;
    return Item::literal(c, false);
  }

  // Whether "[" kind at k is closed by kind "]" before any other ']', as PCRE reads it.
  bool closes(size_t k, char kind) const {
    size_t end = p_.find(']', k + 2);
    return end != std::string_view::npos && end > k + 2 && p_[end - 1] == kind;
  }

  // Whether a class (\d \w \s and negations, "[:name:]") starts at k.
  bool class_at(size_t k) const {
    if (k + 1 >= p_.size()) return false;
    if (p_[k] == '\\') return std::string_view("dwsDWS").find(p_[k + 1]) != std::string_view::npos;
    return p_[k] == '[' && p_[k + 1] == ':' && closes(k, ':');
  }

  // "[:name:]" at j_; a non-class item when PCRE reads the '[' literally.
  Result<Item> posix_class() {
    if (!closes(j_, ':')) return Item::literal('[', false);
    size_t end = p_.find(']', j_ + 2);
    std::string_view whole = p_.substr(j_, end + 1 - j_);
    std::string_view name = p_.substr(j_ + 2, end - 1 - (j_ + 2));
    size_t at = j_;
    j_ = end + 1;
    static constexpr std::string_view kShared[] = {"alnum", "alpha", "blank", "cntrl", "digit", "graph",
                                                   "lower", "print", "punct", "space", "upper", "xdigit"};
    if (std::find(std::begin(kShared), std::end(kShared), name) != std::end(kShared)) {
      return Item::of_class(std::string(whole));
    }
    if (name == "word") {
      translated_ = true;
      return Item::of_class(std::string(kWordMembers));
    }
    if (name == "<" || name == ">") return lacks(whole, at, "PCRE's word-boundary class", "write '\\b' instead");
    if (name == "ascii" || name.starts_with('^')) {
      return lacks(whole, at, "a PCRE-only class", "list the characters instead");
    }
    return Error{quoted(whole) + where(at) + " is not a known character class; the known ones are [:alnum:], "
                 "[:alpha:], [:blank:], [:cntrl:], [:digit:], [:graph:], [:lower:], [:print:], [:punct:], "
                 "[:space:], [:upper:], [:xdigit:] and [:word:]"};
  }

  // "\X" inside the brackets.
  Result<Item> escape() {
    size_t at = j_;
    if (j_ + 1 >= p_.size()) {
      return Error{"'[' at offset " + std::to_string(open_) + " is never closed; close it with ']'"};
    }
    char c = p_[j_ + 1];
    j_ += 2;
    translated_ = true;
    if (c == 'd') return Item::of_class("0-9");
    if (c == 'w') return Item::of_class(std::string(kWordMembers));
    if (c == 's') return Item::of_class("[:space:]");
    if (char ctl = control_escape(c)) return Item::literal(ctl, true);
    if (is_alnum(c)) return escape_error(p_, at, true);
    return Item::literal(c, true);
  }

  Result<void> add_range(size_t at, const Item& start) {
    size_t end_at = j_ + 1;
    char end = p_[end_at];
    std::string_view text = p_.substr(at, end_at + (end == '\\' ? 2 : 1) - at);
    if (start.escaped || end == '\\') {
      return Error{"the range " + quoted(text) + where(at) + " has an escaped end point, which POSIX brackets "
                   "cannot express; write both end points as plain characters"};
    }
    if (std::string_view("]^-[").find(start.ch) != std::string_view::npos ||
        std::string_view("]^-[").find(end) != std::string_view::npos) {
      return Error{"the range " + quoted(text) + where(at) + " has ']', '^', '-' or '[' as an end point, which "
                   "POSIX brackets read differently; list those characters on their own"};
    }
    if (static_cast<unsigned char>(start.ch) > static_cast<unsigned char>(end)) {
      return Error{"the range " + quoted(text) + where(at) + " runs backwards; write the lower end point first"};
    }
    members_ += text;
    j_ = end_at + 1;
    return ok();
  }

  void add_char(char c, size_t at) {
    switch (c) {
      case ']': rbracket_ = true; break;
      case '[': lbracket_ = true; break;
      case '\\': backslash_ = true; break;
      case '^': caret_ = true; break;
      case '-':
        hyphen_ = true;
        // Only a first or last '-' is surely literal in POSIX ("[a-b-c]" is an error there).
        if (at != first_ && j_ < p_.size() && p_[j_] != ']') translated_ = true;
        break;
      default: members_ += c;
    }
  }

  std::string_view p_;
  size_t open_, j_, first_ = 0;
  bool negated_ = false, translated_ = false;
  bool rbracket_ = false, lbracket_ = false, backslash_ = false, caret_ = false, hyphen_ = false;
  std::string members_;
};

// Walks the pattern once, copying what means the same in ERE and rewriting the rest.
class Translator {
 public:
  explicit Translator(std::string_view p) : p_(p) {}

  Result<std::string> run() {
    if (size_t nul = p_.find('\0'); nul != std::string_view::npos) {
      return Error{"a NUL byte" + where(nul) + " cannot be part of a pattern"};
    }
    while (i_ < p_.size()) {
      if (auto r = step(); !r) return r.error();
    }
    if (!opens_.empty()) {
      return Error{"'('" + where(opens_.back().at) + " is never closed; add ')' or write '\\(' for a literal "
                   "parenthesis"};
    }
    return std::move(out_);
  }

 private:
  // What stands before i_, which decides whether a repetition has something to repeat.
  enum class Prev { kNothing, kAtom, kRepeat };

  struct Open {
    size_t at;
    bool at_start;                  // whether the group began where nothing could have matched yet
    std::optional<size_t> dollar;   // a '$' ending one of its earlier alternatives
  };

  Result<void> step() {
    char c = p_[i_];
    if (c == '*' || c == '+' || c == '?') return repeat(1);
    if (c == '{') return brace();
    if (c == ')') return close_group();
    if (c == '$') return dollar();
    if (c == '|') return bar();
    if (auto r = before_consuming(); !r) return r;
    switch (c) {
      case '\\': return escape();
      case '(': return open_group();
      case '[': return bracket();
      case '^': return caret();
      default: return atom(p_.substr(i_, 1), 1);
    }
  }

  // Emits text for the next len pattern characters, as something a repetition may follow.
  Result<void> atom(std::string_view text, size_t len) {
    out_ += text;
    i_ += len;
    prev_ = Prev::kAtom;
    at_start_ = false;
    return ok();
  }

  // glibc lets a '$' that is not at the pattern's end match before a newline (and a '^' not
  // at its start after one): "$\s" matches "\n", where PCRE's never match.
  Result<void> before_consuming() {
    if (!open_dollar_) return ok();
    return Error{"'$'" + where(*open_dollar_) + " is followed by more pattern; PCRE matches it only at the "
                 "end of the subject, POSIX also before a newline there; move it to the end"};
  }

  Result<void> caret() {
    if (!at_start_) {
      return Error{"'^'" + where(i_) + " is not where the pattern or one of its alternatives starts; PCRE "
                   "matches it only at the start of the subject, POSIX also after a newline there; move it to "
                   "the start, or write '\\^' for a literal '^'"};
    }
    out_ += p_[i_++];
    prev_ = Prev::kNothing;
    return ok();
  }

  Result<void> dollar() {
    open_dollar_ = i_;
    out_ += p_[i_++];
    prev_ = Prev::kNothing;
    return ok();
  }

  // The next alternative starts where the group did; a '$' ending this one waits for the ')'.
  Result<void> bar() {
    at_start_ = opens_.empty() || opens_.back().at_start;
    if (!opens_.empty() && open_dollar_) opens_.back().dollar = open_dollar_;
    open_dollar_.reset();
    out_ += p_[i_++];
    prev_ = Prev::kNothing;
    return ok();
  }

  Result<void> escape() {
    size_t at = i_;
    if (i_ + 1 >= p_.size()) {
      return Error{"the '\\'" + where(at) + " ends the pattern; write '\\\\' for a literal backslash"};
    }
    char c = p_[i_ + 1];
    if (const char* cls = class_escape(c)) return atom(cls, 2);
    if (char ctl = control_escape(c)) return atom(std::string{'[', ctl, ']'}, 2);
    if (c == 'b' || c == 'B') {  // word boundaries mean the same in glibc
      out_ += p_.substr(i_, 2);
      i_ += 2;
      prev_ = Prev::kNothing;
      return ok();
    }
    if (is_alnum(c)) return escape_error(p_, at, false);
    if (kEreSpecial.find(c) != std::string_view::npos) return atom(p_.substr(i_, 2), 2);
    return atom(p_.substr(i_ + 1, 1), 2);  // glibc gives "\<", "\>", "\`" and "\'" meanings of their own
  }

  Result<void> open_group() {
    if (i_ + 1 < p_.size() && p_[i_ + 1] == '?') return group_error(p_, i_);
    if (i_ + 2 < p_.size() && p_[i_ + 1] == '*' && p_[i_ + 2] >= 'A' && p_[i_ + 2] <= 'Z') {
      return lacks("(*", i_, "a PCRE control verb", "remove it");
    }
    opens_.push_back({i_, at_start_, std::nullopt});
    out_ += p_[i_++];
    prev_ = Prev::kNothing;
    return ok();
  }

  Result<void> close_group() {
    if (opens_.empty()) {
      return Error{"')'" + where(i_) + " has no matching '('; write '\\)' for a literal parenthesis"};
    }
    if (!open_dollar_) open_dollar_ = opens_.back().dollar;
    opens_.pop_back();
    out_ += p_[i_++];
    prev_ = Prev::kAtom;
    at_start_ = false;
    return ok();
  }

  Result<void> bracket() {
    // "[:alpha:]", "[.a.]", "[=a=]" outside brackets: PCRE refuses what POSIX takes as a set.
    if (i_ + 1 < p_.size() && std::string_view(":.=").find(p_[i_ + 1]) != std::string_view::npos) {
      size_t end = p_.find(std::string{p_[i_ + 1], ']'}, i_ + 2);
      if (end != std::string_view::npos && p_.substr(i_ + 2, end - i_ - 2).find(']') == std::string_view::npos) {
        std::string_view cls = p_.substr(i_, end + 2 - i_);
        return Error{quoted(cls) + where(i_) + " is POSIX class syntax outside brackets, which PCRE refuses; "
                     "write it inside brackets, as in " + quoted("[" + std::string(cls) + "]")};
      }
    }
    Bracket b(p_, i_);
    auto end = b.parse();
    if (!end) return end.error();
    return atom(b.emit(), *end - i_);
  }

  size_t skip_digits(size_t& j) const {
    size_t start = j;
    while (j < p_.size() && is_digit(p_[j])) ++j;
    return j - start;
  }

  // "{n}", "{n,}", "{n,m}" repeat; PCRE reads any other '{' as itself, glibc refuses it.
  Result<void> brace() {
    size_t j = i_ + 1;
    size_t low = skip_digits(j);
    bool comma = j < p_.size() && p_[j] == ',';
    if (comma) ++j;
    size_t high_at = j;
    size_t high = comma ? skip_digits(j) : 0;
    bool closed = j < p_.size() && p_[j] == '}';
    if (closed && low > 0) return repeat(j + 1 - i_);
    if (closed && comma && high > 0) {
      return Error{quoted(p_.substr(i_, j + 1 - i_)) + where(i_) + " repeats in newer PCRE but is literal text "
                   "in older; write '{0," + std::string(p_.substr(high_at, high)) + "}' to repeat or '\\{' "
                   "for the text"};
    }
    if (auto r = before_consuming(); !r) return r;
    return atom("\\{", 1);
  }

  // A repetition of len characters at i_: "*", "+", "?" or a bound.
  Result<void> repeat(size_t len) {
    size_t start = i_;
    if (prev_ != Prev::kAtom) {
      return Error{quoted(p_.substr(i_, len)) + where(i_) + " has nothing before it to repeat (PCRE refuses "
                   "this too); write '\\" + p_[i_] + "' for a literal '" + p_[i_] + "'"};
    }
    out_ += p_.substr(i_, len);
    i_ += len;
    prev_ = Prev::kRepeat;
    return after_quantifier(start);
  }

  // A '?' or '+' right after a repetition makes it lazy or possessive in PCRE.
  Result<void> after_quantifier(size_t start) {
    if (i_ >= p_.size() || (p_[i_] != '?' && p_[i_] != '+')) return ok();
    std::string_view with = p_.substr(start, i_ + 1 - start);
    std::string plain(p_.substr(start, i_ - start));
    if (p_[i_] == '?') {
      return lacks(with, start, "a PCRE lazy quantifier",
                   "POSIX always repeats as much as it can: write " + quoted(plain) +
                       " and narrow what it repeats, e.g. '[^/]*' for '.*?'");
    }
    return lacks(with, start, "a PCRE possessive quantifier", "write " + quoted(plain) + " instead");
  }

  std::string_view p_;
  size_t i_ = 0;
  std::string out_;
  Prev prev_ = Prev::kNothing;
  bool at_start_ = true;              // nothing before i_ can have matched a character
  std::vector<Open> opens_;           // groups not yet closed
  std::optional<size_t> open_dollar_; // a '$' after which nothing may match a character
};

}  // namespace

Result<std::string> pcre_to_ere(std::string_view pattern) { return Translator(pattern).run(); }

}  // namespace itkd
