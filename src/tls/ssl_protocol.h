// Apache's SSLProtocol syntax ("all -SSLv3 -TLSv1", "+TLSv1.2", "TLSv1.3"), restricted to
// what itkd allows: TLS 1.2 and 1.3. Pure, no OpenSSL, so `itkd -t` and the config code can
// check it without linking the TLS library.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/result.h"

namespace itkd::tls {

// Wire version numbers; equal to OpenSSL's TLS1_2_VERSION / TLS1_3_VERSION.
inline constexpr uint16_t kTls12 = 0x0303;
inline constexpr uint16_t kTls13 = 0x0304;

struct ProtocolRange {
  uint16_t min_version = kTls12;
  uint16_t max_version = kTls13;
  bool operator==(const ProtocolRange&) const = default;
};

// Tokens are case-insensitive, separated by blanks. As in Apache the set starts empty, a
// bare token replaces it, "+" adds, "-" removes (so "+TLSv1.2" alone is TLSv1.2 only). "all"
// means every protocol itkd supports (TLSv1.2 and TLSv1.3), so
// Debian's stock "all -SSLv3" keeps working. Removing SSLv3/TLSv1/TLSv1.1 is a no-op;
// enabling them is an error. An empty value gives the default (TLSv1.2 + TLSv1.3).
Result<ProtocolRange> parse_ssl_protocol(std::string_view value);

}  // namespace itkd::tls
