// Fuzzes the PROXY header parser. Properties the front relies on: a complete header is
// never longer than what was given nor than kMaxProxyHeaderBytes; every prefix of a
// complete header is Incomplete (so reading in pieces gives the same answer), and the
// answer doesn't change when more bytes follow; a refusal always says why; addresses are
// IPv4 or IPv6 only.
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http/proxy_protocol.h"

using namespace itkd::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const ProxyHeader h = parse_proxy_header(input);
  if (h.status == ProxyHeaderStatus::Malformed && h.reason.empty()) std::abort();
  if (h.status != ProxyHeaderStatus::Complete) return 0;
  if (h.length == 0 || h.length > size || h.length > kMaxProxyHeaderBytes) std::abort();
  if (h.source.has_value() != h.destination.has_value()) std::abort();
  if (h.source && h.source->ss_family != AF_INET && h.source->ss_family != AF_INET6) std::abort();
  const ProxyHeader exact = parse_proxy_header(input.substr(0, h.length));
  if (exact.status != ProxyHeaderStatus::Complete || exact.length != h.length) std::abort();
  for (size_t n = 0; n < h.length; ++n)
    if (parse_proxy_header(input.substr(0, n)).status == ProxyHeaderStatus::Complete) std::abort();
  return 0;
}
