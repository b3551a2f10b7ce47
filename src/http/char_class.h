// Byte classes of RFC 9110/9112 as one 256-entry table, so the hot scanning loops of the
// parser cost one load and one test per byte (no locale, no branches per class).
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace itkd::http::chars {

inline constexpr uint8_t kTchar = 1;       // token characters (method, field names)
inline constexpr uint8_t kTarget = 2;      // allowed in a request-target
inline constexpr uint8_t kFieldValue = 4;  // field-vchar / SP / HTAB (obs-text included)
inline constexpr uint8_t kHex = 8;         // HEXDIG
inline constexpr uint8_t kHostName = 16;   // allowed in a reg-name Host (strict subset)

constexpr std::array<uint8_t, 256> make_table() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    uint8_t v = 0;
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const bool digit = c >= '0' && c <= '9';
    if (alpha || digit) v |= kTchar | kHostName;
    if (std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos) {
      v |= kTchar;
    }
    if (c == '-' || c == '.' || c == '_') v |= kHostName;
    // Targets: any visible ASCII except '#' (a fragment never belongs in a request).
    if (c > 0x20 && c < 0x7f && c != '#') v |= kTarget;
    if (c == '\t' || c == ' ' || (c > 0x20 && c != 0x7f)) v |= kFieldValue;
    if (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) v |= kHex;
    t[static_cast<size_t>(c)] = v;
  }
  return t;
}

inline constexpr std::array<uint8_t, 256> kTable = make_table();

inline bool is(char c, uint8_t cls) { return (kTable[static_cast<unsigned char>(c)] & cls) != 0; }

// Index of the first byte that may not appear in a field value (CTLs except HTAB, DEL),
// or npos. Field values are most of a head's bytes, so this checks eight bytes per step
// (SWAR): a word with no byte below 0x20 and none equal to 0x7F is entirely valid.
inline size_t find_invalid_field_value_byte(std::string_view s) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    const uint64_t below_space = (w - kOnes * 0x20) & ~w & kHigh;
    const uint64_t x = w ^ (kOnes * 0x7f);
    const uint64_t is_del = (x - kOnes) & ~x & kHigh;
    if ((below_space | is_del) != 0) {
      // Maybe only a HTAB (or a borrow false positive): look at this word byte by byte.
      for (size_t j = i; j < i + 8; ++j) {
        if (!is(s[j], kFieldValue)) return j;
      }
    }
  }
  for (; i < s.size(); ++i) {
    if (!is(s[i], kFieldValue)) return i;
  }
  return std::string_view::npos;
}

inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

inline std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls fn(element) for each non-empty element of a comma-separated list (RFC 9110 5.6.1:
// empty elements are ignored), OWS trimmed. Stops early when fn returns false.
template <typename Fn>
bool for_each_list_element(std::string_view list, Fn&& fn) {
  while (true) {
    const size_t comma = list.find(',');
    const std::string_view element = trim_ows(list.substr(0, comma));
    if (!element.empty() && !fn(element)) return false;
    if (comma == std::string_view::npos) return true;
    list.remove_prefix(comma + 1);
  }
}

}  // namespace itkd::http::chars
