// Apache's configuration syntax at the character level: logical lines (backslash-newline
// continuation, `#` comment lines), `${VAR}` expansion, and ap_getword_conf-style words
// ("..." and '...' quoting with \" escapes). Kept apart from the directive logic so both
// the parser and the tests can use it.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace itkd {

struct LogicalLine {
  std::string text;  // continuation joined, leading/trailing whitespace trimmed
  int line = 0;      // physical line where it starts
};

// Splits file contents into non-empty, non-comment logical lines.
std::vector<LogicalLine> split_logical_lines(std::string_view contents);

// Replaces every ${NAME} with defines[NAME]; an undefined name is an error naming it.
Result<std::string> expand_variables(std::string_view text,
                                     const std::map<std::string, std::string>& defines);

// Splits arguments into words; quotes group words and are removed. An unterminated
// quote is an error.
Result<std::vector<std::string>> split_words(std::string_view text);

std::string ascii_lower(std::string_view s);
bool iequals(std::string_view a, std::string_view b);

}  // namespace itkd
