// Fuzzes the ClientHello reader the front runs on unauthenticated bytes, checking the
// invariants the front relies on, and that every prefix of a complete hello is Incomplete
// with a `needed` that makes progress.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tls/client_hello.h"

using itkd::tls::ClientHelloResult;
using itkd::tls::ClientHelloStatus;

namespace {

void check(const ClientHelloResult& r, std::string_view input) {
  switch (r.status) {
    case ClientHelloStatus::Incomplete:
      if (r.needed <= input.size()) std::abort();
      break;
    case ClientHelloStatus::Complete:
      if (r.needed > input.size() || r.needed > itkd::tls::kMaxClientHelloBytes) std::abort();
      if (r.sni && !itkd::tls::is_valid_sni_host(*r.sni)) std::abort();
      if (r.sni) {
        for (char c : *r.sni) {
          if (c >= 'A' && c <= 'Z') std::abort();
        }
      }
      for (const auto& p : r.alpn) {
        if (p.empty() || p.size() > 255) std::abort();
      }
      break;
    case ClientHelloStatus::NotTls:
    case ClientHelloStatus::Malformed:
      if (r.reason.empty()) std::abort();
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const ClientHelloResult r = itkd::tls::read_client_hello(input);
  check(r, input);
  if (r.status == ClientHelloStatus::Complete) {
    // The verdict only depends on the first `needed` bytes.
    const ClientHelloResult exact = itkd::tls::read_client_hello(input.substr(0, r.needed));
    if (exact.status != ClientHelloStatus::Complete || exact.sni != r.sni ||
        exact.alpn != r.alpn) {
      std::abort();
    }
    const ClientHelloResult shorter = itkd::tls::read_client_hello(input.substr(0, r.needed - 1));
    if (shorter.status != ClientHelloStatus::Incomplete) std::abort();
  }
  if (r.status == ClientHelloStatus::Incomplete && size > 0) {
    // Feeding fewer bytes never gives a different verdict than Incomplete.
    check(itkd::tls::read_client_hello(input.substr(0, size / 2)), input.substr(0, size / 2));
  }
  return 0;
}
