// Reads the SNI and ALPN offer out of a TLS ClientHello without decrypting anything, so the
// front can route a TLS connection by name while the handshake (and the key) stays with the
// owner's worker. Pure function over the bytes peeked from the socket: no OpenSSL, no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace itkd::tls {

// A ClientHello handshake message is at most 16 KiB (plus its 4-byte header); larger ones
// are refused (RFC 8446 5.1 bounds one record's plaintext the same way). A client may split
// it over several records, but more than kMaxClientHelloRecords is treated as an attack.
inline constexpr size_t kMaxHandshakeMessage = 16384 + 4;
inline constexpr size_t kMaxClientHelloRecords = 64;
inline constexpr size_t kRecordHeader = 5;
// The most bytes the front ever has to peek to get a verdict.
inline constexpr size_t kMaxClientHelloBytes =
    kMaxHandshakeMessage + kMaxClientHelloRecords * kRecordHeader;

enum class ClientHelloStatus {
  Incomplete,  // need more bytes: at least `needed` in total
  NotTls,      // first record isn't a TLS handshake record (e.g. plain HTTP on a TLS port)
  Malformed,   // a TLS record, but not a well-formed ClientHello within the caps
  Complete,    // parsed; `needed` is the byte length of the records carrying it
};

struct ClientHelloResult {
  ClientHelloStatus status = ClientHelloStatus::Incomplete;
  // Incomplete: total input size needed before another call can say more (> bytes.size()).
  // Complete: bytes the ClientHello's records occupy (everything after is not ours).
  size_t needed = 0;
  // Malformed / NotTls: why, for the error log. Complete: a note when a server_name was
  // present but not a valid host name (it is then ignored, like an absent one).
  std::string reason;

  uint16_t legacy_version = 0;              // ClientHello.legacy_version (0x0303 for 1.2/1.3)
  std::optional<std::string> sni;           // valid host_name, lowercased, no trailing dot
  std::vector<std::string> alpn;            // protocols offered, in the client's order
  std::vector<uint16_t> supported_versions;  // from supported_versions, if sent
};

ClientHelloResult read_client_hello(std::string_view bytes);

// What the front may write before closing on Malformed: a fatal decode_error alert record
// (RFC 8446 6), so the client reports a TLS error rather than a reset. Plaintext, no keys.
inline constexpr std::string_view kDecodeErrorAlert{"\x15\x03\x03\x00\x02\x02\x32", 7};

// True for a host name acceptable as SNI: LDH labels (underscore tolerated) of 1..63
// characters, at most 253 in all, no trailing dot, not all-numeric last label (IP literals
// are not allowed in SNI, RFC 6066 section 3).
bool is_valid_sni_host(std::string_view host);

std::string_view status_name(ClientHelloStatus status);

}  // namespace itkd::tls
