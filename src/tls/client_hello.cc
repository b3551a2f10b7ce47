#include "tls/client_hello.h"

#include <algorithm>

namespace itkd::tls {
namespace {

constexpr uint8_t kContentHandshake = 0x16;
constexpr uint8_t kHandshakeClientHello = 0x01;
constexpr size_t kMaxRecordPayload = 16384;  // RFC 8446 5.1: 2^14
constexpr uint16_t kExtServerName = 0;
constexpr uint16_t kExtAlpn = 16;
constexpr uint16_t kExtSupportedVersions = 43;
constexpr uint8_t kNameTypeHostName = 0;

// Bounds-checked reader over one buffer; every read fails cleanly past the end.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  size_t remaining() const { return data_.size() - pos_; }
  bool u8(uint8_t& out) {
    if (remaining() < 1) return false;
    out = static_cast<uint8_t>(data_[pos_++]);
    return true;
  }
  bool u16(uint16_t& out) {
    if (remaining() < 2) return false;
    out = static_cast<uint16_t>((byte(0) << 8) | byte(1));
    pos_ += 2;
    return true;
  }
  bool bytes(size_t n, std::string_view& out) {
    if (remaining() < n) return false;
    out = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  // A vector with a 1- or 2-byte length prefix (RFC 8446 3.4).
  bool vec8(std::string_view& out) {
    uint8_t n = 0;
    return u8(n) && bytes(n, out);
  }
  bool vec16(std::string_view& out) {
    uint16_t n = 0;
    return u16(n) && bytes(n, out);
  }

 private:
  unsigned byte(size_t i) const { return static_cast<uint8_t>(data_[pos_ + i]); }
  std::string_view data_;
  size_t pos_ = 0;
};

ClientHelloResult fail(ClientHelloStatus status, std::string reason) {
  ClientHelloResult r;
  r.status = status;
  r.reason = std::move(reason);
  return r;
}

ClientHelloResult incomplete(size_t needed) {
  ClientHelloResult r;
  r.status = ClientHelloStatus::Incomplete;
  r.needed = needed;
  return r;
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// RFC 6066 section 3: exactly one host_name entry (OpenSSL refuses anything else too).
bool parse_server_name(std::string_view ext, ClientHelloResult& out) {
  Reader r(ext);
  std::string_view list;
  if (!r.vec16(list) || r.remaining() != 0) return false;
  Reader entries(list);
  uint8_t type = 0;
  std::string_view name;
  if (!entries.u8(type) || type != kNameTypeHostName || !entries.vec16(name) ||
      entries.remaining() != 0 || name.empty()) {
    return false;
  }
  std::string host(name);
  std::transform(host.begin(), host.end(), host.begin(), lower);
  if (!host.empty() && host.back() == '.') host.pop_back();
  if (is_valid_sni_host(host)) {
    out.sni = std::move(host);
  } else {
    out.reason = "ignored invalid server_name (not a DNS host name)";
  }
  return true;
}

// RFC 7301 3.1: ProtocolNameList protocol_name_list<2..2^16-1>, names <1..2^8-1>.
bool parse_alpn(std::string_view ext, ClientHelloResult& out) {
  Reader r(ext);
  std::string_view list;
  if (!r.vec16(list) || r.remaining() != 0 || list.size() < 2) return false;
  Reader names(list);
  while (names.remaining() > 0) {
    std::string_view name;
    if (!names.vec8(name) || name.empty()) return false;
    out.alpn.emplace_back(name);
  }
  return true;
}

// RFC 8446 4.2.1: ProtocolVersion versions<2..254>.
bool parse_supported_versions(std::string_view ext, ClientHelloResult& out) {
  Reader r(ext);
  std::string_view list;
  if (!r.vec8(list) || r.remaining() != 0 || list.size() < 2 || list.size() % 2 != 0) {
    return false;
  }
  Reader versions(list);
  uint16_t v = 0;
  while (versions.u16(v)) out.supported_versions.push_back(v);
  return true;
}

// RFC 8446 4.1.2 ClientHello body (also the TLS 1.2 shape, where extensions may be absent).
ClientHelloResult parse_body(std::string_view body, size_t record_bytes) {
  ClientHelloResult out;
  Reader r(body);
  std::string_view random, session_id, suites, compression;
  if (!r.u16(out.legacy_version) || !r.bytes(32, random)) {
    return fail(ClientHelloStatus::Malformed, "ClientHello too short");
  }
  if (!r.vec8(session_id) || session_id.size() > 32) {
    return fail(ClientHelloStatus::Malformed, "bad legacy_session_id");
  }
  if (!r.vec16(suites) || suites.size() < 2 || suites.size() % 2 != 0) {
    return fail(ClientHelloStatus::Malformed, "bad cipher_suites");
  }
  if (!r.vec8(compression) || compression.empty()) {
    return fail(ClientHelloStatus::Malformed, "bad legacy_compression_methods");
  }
  if (r.remaining() > 0) {
    std::string_view extensions;
    if (!r.vec16(extensions) || r.remaining() != 0) {
      return fail(ClientHelloStatus::Malformed, "bad extensions length");
    }
    Reader ext(extensions);
    std::vector<uint16_t> seen;
    while (ext.remaining() > 0) {
      uint16_t type = 0;
      std::string_view data;
      if (!ext.u16(type) || !ext.vec16(data)) {
        return fail(ClientHelloStatus::Malformed, "truncated extension");
      }
      // RFC 8446 4.2: no extension type may appear twice.
      if (std::find(seen.begin(), seen.end(), type) != seen.end()) {
        return fail(ClientHelloStatus::Malformed,
                    "duplicate extension " + std::to_string(type));
      }
      seen.push_back(type);
      if (type == kExtServerName && !parse_server_name(data, out)) {
        return fail(ClientHelloStatus::Malformed, "bad server_name extension");
      }
      if (type == kExtAlpn && !parse_alpn(data, out)) {
        return fail(ClientHelloStatus::Malformed, "bad application_layer_protocol_negotiation");
      }
      if (type == kExtSupportedVersions && !parse_supported_versions(data, out)) {
        return fail(ClientHelloStatus::Malformed, "bad supported_versions extension");
      }
    }
  }
  out.status = ClientHelloStatus::Complete;
  out.needed = record_bytes;
  return out;
}

}  // namespace

ClientHelloResult read_client_hello(std::string_view bytes) {
  // Reassemble the handshake message from as many records as it takes (RFC 8446 5.1 lets a
  // client fragment it), checking each record header before trusting its length.
  std::string message;
  size_t pos = 0;
  size_t records = 0;
  size_t message_length = 0;  // known once the 4-byte handshake header is in
  bool have_length = false;
  while (true) {
    if (have_length && message.size() == message_length) break;
    if (records == kMaxClientHelloRecords) {
      return fail(ClientHelloStatus::Malformed, "ClientHello split over too many records");
    }
    if (bytes.size() - pos < 1) return incomplete(pos + kRecordHeader);
    if (static_cast<uint8_t>(bytes[pos]) != kContentHandshake) {
      if (records == 0) return fail(ClientHelloStatus::NotTls, "first byte is not a TLS handshake record");
      return fail(ClientHelloStatus::Malformed, "ClientHello interrupted by a non-handshake record");
    }
    if (bytes.size() - pos < 2) return incomplete(pos + kRecordHeader);
    if (static_cast<uint8_t>(bytes[pos + 1]) != 0x03) {
      if (records == 0) return fail(ClientHelloStatus::NotTls, "record version is not 3.x");
      return fail(ClientHelloStatus::Malformed, "bad record version");
    }
    if (bytes.size() - pos < kRecordHeader) return incomplete(pos + kRecordHeader);
    const size_t length = (static_cast<size_t>(static_cast<uint8_t>(bytes[pos + 3])) << 8) |
                          static_cast<uint8_t>(bytes[pos + 4]);
    if (length == 0) return fail(ClientHelloStatus::Malformed, "empty handshake record");
    if (length > kMaxRecordPayload) return fail(ClientHelloStatus::Malformed, "record too long");
    const size_t payload_start = pos + kRecordHeader;
    if (bytes.size() < payload_start + length) return incomplete(payload_start + length);
    message.append(bytes.substr(payload_start, length));
    pos = payload_start + length;
    ++records;

    if (!have_length && message.size() >= 4) {
      if (static_cast<uint8_t>(message[0]) != kHandshakeClientHello) {
        return fail(ClientHelloStatus::Malformed, "first handshake message is not a ClientHello");
      }
      const size_t body = (static_cast<size_t>(static_cast<uint8_t>(message[1])) << 16) |
                          (static_cast<size_t>(static_cast<uint8_t>(message[2])) << 8) |
                          static_cast<uint8_t>(message[3]);
      message_length = body + 4;
      if (message_length > kMaxHandshakeMessage) {
        return fail(ClientHelloStatus::Malformed, "ClientHello larger than 16 KiB");
      }
      have_length = true;
    }
    // The ClientHello must end on a record boundary: TLS 1.3 switches keys right after it
    // (early data), and no client sends another handshake message in its first flight.
    if (have_length && message.size() > message_length) {
      return fail(ClientHelloStatus::Malformed, "trailing data after the ClientHello");
    }
  }
  return parse_body(std::string_view(message).substr(4), pos);
}

bool is_valid_sni_host(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  size_t label_start = 0;
  bool label_all_digits = true;
  for (size_t i = 0; i <= host.size(); ++i) {
    if (i == host.size() || host[i] == '.') {
      const size_t label = i - label_start;
      if (label == 0 || label > 63) return false;
      if (host[label_start] == '-' || host[i - 1] == '-') return false;
      if (i == host.size() && label_all_digits) return false;  // IPv4 literal or numeric TLD
      label_start = i + 1;
      label_all_digits = true;
      continue;
    }
    const char c = host[i];
    const bool digit = c >= '0' && c <= '9';
    const bool ok = digit || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
                    c == '_';
    if (!ok) return false;
    if (!digit) label_all_digits = false;
  }
  return true;
}

std::string_view status_name(ClientHelloStatus status) {
  switch (status) {
    case ClientHelloStatus::Incomplete: return "incomplete";
    case ClientHelloStatus::NotTls: return "not TLS";
    case ClientHelloStatus::Malformed: return "malformed ClientHello";
    case ClientHelloStatus::Complete: return "complete";
  }
  return "unknown";
}

}  // namespace itkd::tls
