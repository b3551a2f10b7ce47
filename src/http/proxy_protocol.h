// The PROXY protocol (HAProxy, versions 1 and 2) header a load balancer puts before the
// client's first byte, so that logs, `Require ip` and REMOTE_ADDR see the real client and
// not the balancer. Enabled per listener with mod_remoteip's `RemoteIPProxyProtocol On`;
// the front reads the header before the request head (or the ClientHello).
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace itkd::http {

// v1 is at most 107 bytes; v2 is 16 + a length we cap here (addresses and the TLVs
// balancers add: ALPN, authority, TLS details, a CRC). Anything longer is refused.
inline constexpr size_t kMaxProxyHeaderBytes = 16 + 1024;

enum class ProxyHeaderStatus {
  Incomplete,  // a prefix of a valid header: read more
  Complete,    // `length` bytes are the header
  Malformed,   // not a PROXY header, or a broken one: close the connection
};

struct ProxyHeader {
  ProxyHeaderStatus status = ProxyHeaderStatus::Incomplete;
  size_t length = 0;
  // The client's and the address it connected to, as the balancer saw them. Empty for
  // v1 UNKNOWN, v2 LOCAL (a health check from the balancer itself) and v2 UNSPEC: the
  // connection's own addresses stand.
  std::optional<sockaddr_storage> source;
  std::optional<sockaddr_storage> destination;
  int version = 0;
  std::string reason;  // for Malformed, a phrase for the error log
};

// Parses the start of what the client sent; never reads past `bytes`.
ProxyHeader parse_proxy_header(std::string_view bytes);

}  // namespace itkd::http
