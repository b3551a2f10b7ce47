// Pieces both log formats share: Apache's log escaping and its English, locale-free
// day and month names.
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace itkd::log_text {

inline constexpr std::array<const char*, 7> kDayNames = {"Sun", "Mon", "Tue", "Wed",
                                                        "Thu", "Fri", "Sat"};
inline constexpr std::array<const char*, 12> kMonthNames = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Which bytes Apache's ap_escape_logitem rewrites: controls, DEL, 8-bit bytes, '"' and
// '\\'. A log reader must never see a raw newline or a quote that ends a field early.
inline constexpr std::array<bool, 256> kNeedsEscape = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c) table[c] = c < 0x20 || c >= 0x7f || c == '"' || c == '\\';
  return table;
}();

// Appends s escaped as ap_escape_logitem does (\n \t \" \\ \xhh, lowercase hex). With
// escape_quote false it is ap_escape_errorlog_item, which leaves '"' alone.
inline void append_escaped(std::string& out, std::string_view s, bool escape_quote = true) {
  static constexpr char kHex[] = "0123456789abcdef";
  size_t plain_from = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (!kNeedsEscape[c] || (c == '"' && !escape_quote)) continue;
    out.append(s.data() + plain_from, i - plain_from);
    plain_from = i + 1;
    out.push_back('\\');
    switch (c) {
      case '\b': out.push_back('b'); break;
      case '\n': out.push_back('n'); break;
      case '\r': out.push_back('r'); break;
      case '\t': out.push_back('t'); break;
      case '\v': out.push_back('v'); break;
      case '\\':
      case '"': out.push_back(static_cast<char>(c)); break;
      default:
        out.push_back('x');
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xf]);
    }
  }
  out.append(s.data() + plain_from, s.size() - plain_from);
}

}  // namespace itkd::log_text
