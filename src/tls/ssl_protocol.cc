#include "tls/ssl_protocol.h"

#include <string>

namespace itkd::tls {
namespace {

constexpr unsigned kBit12 = 1;
constexpr unsigned kBit13 = 2;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto fold = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
    if (fold(a[i]) != fold(b[i])) return false;
  }
  return true;
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

}  // namespace

Result<ProtocolRange> parse_ssl_protocol(std::string_view value) {
  // Apache starts from the empty set: "+TLSv1.2" alone means TLSv1.2 only.
  unsigned set = 0;
  bool any = false;
  size_t i = 0;
  while (true) {
    while (i < value.size() && is_blank(value[i])) ++i;
    if (i == value.size()) break;
    size_t end = i;
    while (end < value.size() && !is_blank(value[end])) ++end;
    std::string_view token = value.substr(i, end - i);
    const std::string shown(token);
    i = end;
    any = true;

    char op = '=';
    if (token.size() > 1 && (token[0] == '+' || token[0] == '-')) {
      op = token[0];
      token.remove_prefix(1);
    }
    unsigned bits = 0;
    if (iequals(token, "all")) {
      bits = kBit12 | kBit13;
    } else if (iequals(token, "TLSv1.2")) {
      bits = kBit12;
    } else if (iequals(token, "TLSv1.3")) {
      bits = kBit13;
    } else if (iequals(token, "SSLv2") || iequals(token, "SSLv3") || iequals(token, "TLSv1") ||
               iequals(token, "TLSv1.1")) {
      if (op == '-') continue;  // already off
      return Error{"SSLProtocol " + shown +
                   ": SSLv3 and TLSv1.0/1.1 are not supported; itkd allows TLSv1.2 and TLSv1.3"};
    } else {
      return Error{"SSLProtocol: unknown protocol '" + shown +
                   "' (expected all, TLSv1.2 or TLSv1.3, with an optional + or -)"};
    }
    // As in Apache, a token without + or - replaces whatever came before it.
    if (op == '=') {
      set = bits;
    } else if (op == '+') {
      set |= bits;
    } else {
      set &= ~bits;
    }
  }
  if (!any) return ProtocolRange{};
  if (set == 0) {
    return Error{"SSLProtocol '" + std::string(value) +
                 "' enables no protocol; use TLSv1.2 and/or TLSv1.3"};
  }
  ProtocolRange range;
  range.min_version = (set & kBit12) ? kTls12 : kTls13;
  range.max_version = (set & kBit13) ? kTls13 : kTls12;
  return range;
}

}  // namespace itkd::tls
