#include "config/config_lexer.h"

#include <cctype>

namespace itkd {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

std::vector<LogicalLine> split_logical_lines(std::string_view contents) {
  std::vector<LogicalLine> out;
  std::string current;
  int line_no = 0;
  int start_line = 0;
  bool continuing = false;
  size_t pos = 0;
  while (pos < contents.size()) {
    size_t nl = contents.find('\n', pos);
    std::string_view phys =
        contents.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? contents.size() : nl + 1;
    ++line_no;
    if (!continuing) start_line = line_no;
    // Like ap_cfg_getline: a backslash as the last character (ignoring trailing
    // whitespace) joins the next physical line, even inside a comment.
    std::string_view body = phys;
    while (!body.empty() && is_space(body.back())) body.remove_suffix(1);
    bool cont = !body.empty() && body.back() == '\\';
    if (cont) body.remove_suffix(1);
    current.append(body);
    if (cont && pos < contents.size()) {
      continuing = true;
      continue;
    }
    continuing = false;
    std::string_view t = trim(current);
    if (!t.empty() && t.front() != '#') out.push_back({std::string(t), start_line});
    current.clear();
  }
  return out;
}

Result<std::string> expand_variables(std::string_view text,
                                     const std::map<std::string, std::string>& defines) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '{') {
      size_t close = text.find('}', i + 2);
      if (close == std::string_view::npos) {
        return Error{"unterminated ${ in '" + std::string(text) + "'"};
      }
      std::string name(text.substr(i + 2, close - i - 2));
      // ${map:key|default} is mod_rewrite's, not a Define (Apache leaves it alone too).
      if (name.find(':') != std::string::npos) {
        out += text.substr(i, close + 1 - i);
        i = close + 1;
        continue;
      }
      auto it = defines.find(name);
      if (it == defines.end()) {
        return Error{"variable ${" + name +
                     "} is not defined (itkd reads only Define, not the environment; add "
                     "'Define " + name + " value' before this line)"};
      }
      out += it->second;
      i = close + 1;
      continue;
    }
    out += text[i++];
  }
  return out;
}

Result<std::vector<std::string>> split_words(std::string_view text) {
  std::vector<std::string> words;
  size_t i = 0;
  while (true) {
    while (i < text.size() && is_space(text[i])) ++i;
    if (i >= text.size()) break;
    char quote = text[i];
    std::string word;
    if (quote == '"' || quote == '\'') {
      ++i;
      bool closed = false;
      while (i < text.size()) {
        char c = text[i];
        // As in ap_getword_conf, only a backslash before the quote character escapes.
        if (c == '\\' && i + 1 < text.size() && text[i + 1] == quote) {
          word += quote;
          i += 2;
          continue;
        }
        if (c == quote) {
          closed = true;
          ++i;
          break;
        }
        word += c;
        ++i;
      }
      if (!closed) return Error{std::string("unterminated ") + quote + " quote"};
    } else {
      while (i < text.size() && !is_space(text[i])) word += text[i++];
    }
    words.push_back(std::move(word));
  }
  return words;
}

}  // namespace itkd
