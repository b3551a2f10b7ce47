#include "worker/fastcgi/fcgi_record.h"

#include <algorithm>

namespace itkd::fcgi {

void encode_header(const RecordHeader& h, unsigned char out[kHeaderLength]) {
  out[0] = h.version;
  out[1] = h.type;
  out[2] = static_cast<unsigned char>(h.request_id >> 8);
  out[3] = static_cast<unsigned char>(h.request_id & 0xff);
  out[4] = static_cast<unsigned char>(h.content_length >> 8);
  out[5] = static_cast<unsigned char>(h.content_length & 0xff);
  out[6] = h.padding_length;
  out[7] = 0;
}

RecordHeader decode_header(const unsigned char in[kHeaderLength]) {
  RecordHeader h;
  h.version = in[0];
  h.type = in[1];
  h.request_id = static_cast<uint16_t>((in[2] << 8) | in[3]);
  h.content_length = static_cast<uint16_t>((in[4] << 8) | in[5]);
  h.padding_length = in[6];
  return h;
}

void append_record(std::string& out, uint8_t type, uint16_t request_id, std::string_view content) {
  RecordHeader h;
  h.type = type;
  h.request_id = request_id;
  h.content_length = static_cast<uint16_t>(std::min(content.size(), kMaxContentLength));
  h.padding_length = static_cast<uint8_t>((8 - h.content_length % 8) % 8);
  unsigned char head[kHeaderLength];
  encode_header(h, head);
  out.append(reinterpret_cast<const char*>(head), kHeaderLength);
  out.append(content.substr(0, h.content_length));
  out.append(h.padding_length, '\0');
}

void append_stream(std::string& out, uint8_t type, uint16_t request_id, std::string_view data) {
  if (data.empty()) {
    append_record(out, type, request_id, {});
    return;
  }
  // Chunks of 65528 bytes keep every record 8-aligned without padding.
  constexpr size_t kChunk = kMaxContentLength - 7;
  while (!data.empty()) {
    size_t n = std::min(data.size(), kChunk);
    append_record(out, type, request_id, data.substr(0, n));
    data.remove_prefix(n);
  }
}

void append_begin_request(std::string& out, uint16_t request_id, uint16_t role, bool keep_conn) {
  char body[8] = {static_cast<char>(role >> 8), static_cast<char>(role & 0xff),
                  static_cast<char>(keep_conn ? kFlagKeepConn : 0), 0, 0, 0, 0, 0};
  append_record(out, kBeginRequest, request_id, std::string_view(body, 8));
}

void append_end_request(std::string& out, uint16_t request_id, uint32_t app_status,
                        uint8_t protocol_status) {
  char body[8] = {static_cast<char>(app_status >> 24), static_cast<char>((app_status >> 16) & 0xff),
                  static_cast<char>((app_status >> 8) & 0xff), static_cast<char>(app_status & 0xff),
                  static_cast<char>(protocol_status), 0, 0, 0};
  append_record(out, kEndRequest, request_id, std::string_view(body, 8));
}

namespace {
void append_length(std::string& out, size_t n) {
  if (n < 128) {
    out += static_cast<char>(n);
    return;
  }
  out += static_cast<char>(((n >> 24) & 0x7f) | 0x80);
  out += static_cast<char>((n >> 16) & 0xff);
  out += static_cast<char>((n >> 8) & 0xff);
  out += static_cast<char>(n & 0xff);
}

bool read_length(std::string_view& in, size_t& n) {
  if (in.empty()) return false;
  auto b0 = static_cast<unsigned char>(in[0]);
  if (!(b0 & 0x80)) {
    n = b0;
    in.remove_prefix(1);
    return true;
  }
  if (in.size() < 4) return false;
  n = (static_cast<size_t>(b0 & 0x7f) << 24) | (static_cast<size_t>(static_cast<unsigned char>(in[1])) << 16) |
      (static_cast<size_t>(static_cast<unsigned char>(in[2])) << 8) | static_cast<unsigned char>(in[3]);
  in.remove_prefix(4);
  return true;
}
}  // namespace

void append_name_value(std::string& out, std::string_view name, std::string_view value) {
  append_length(out, name.size());
  append_length(out, value.size());
  out.append(name);
  out.append(value);
}

std::string encode_name_values(const NameValues& pairs) {
  std::string out;
  for (const auto& [n, v] : pairs) append_name_value(out, n, v);
  return out;
}

Result<NameValues> decode_name_values(std::string_view data, size_t max_pairs) {
  NameValues out;
  while (!data.empty()) {
    size_t nl = 0, vl = 0;
    if (!read_length(data, nl) || !read_length(data, vl)) {
      return Error{"FastCGI name-value pair: truncated length"};
    }
    if (nl > data.size() || vl > data.size() - nl) {
      return Error{"FastCGI name-value pair: length beyond the data"};
    }
    if (out.size() == max_pairs) return Error{"FastCGI name-value pairs: more than " + std::to_string(max_pairs)};
    out.emplace_back(std::string(data.substr(0, nl)), std::string(data.substr(nl, vl)));
    data.remove_prefix(nl + vl);
  }
  return out;
}

Result<EndRequest> decode_end_request(std::string_view c) {
  if (c.size() != 8) return Error{"FastCGI END_REQUEST body is " + std::to_string(c.size()) + " bytes, not 8"};
  auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(c[i])); };
  EndRequest e;
  e.app_status = (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
  e.protocol_status = static_cast<uint8_t>(b(4));
  return e;
}

std::string_view protocol_status_text(uint8_t status) {
  switch (status) {
    case kRequestComplete: return "request complete";
    case kCantMpxConn: return "cannot multiplex connections";
    case kOverloaded: return "overloaded";
    case kUnknownRole: return "unknown role";
    default: return "unknown protocol status";
  }
}

void RecordDecoder::append(std::string_view bytes) {
  // Drop consumed bytes before growing, so the buffer stays about one record long.
  if (offset_ > 0 && (offset_ == buffer_.size() || offset_ > 65536)) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  buffer_.append(bytes);
}

RecordDecoder::Status RecordDecoder::next(Record& out) {
  if (!error_.empty()) return Status::Error;
  if (buffered() < kHeaderLength) return Status::NeedMore;
  RecordHeader h = decode_header(reinterpret_cast<const unsigned char*>(buffer_.data() + offset_));
  if (h.version != kVersion1) {
    error_ = "FastCGI record with version " + std::to_string(h.version) + " (expected 1)";
    return Status::Error;
  }
  size_t total = kHeaderLength + h.content_length + h.padding_length;
  if (buffered() < total) return Status::NeedMore;
  out.type = h.type;
  out.request_id = h.request_id;
  out.content.assign(buffer_, offset_ + kHeaderLength, h.content_length);
  offset_ += total;
  return Status::Record;
}

}  // namespace itkd::fcgi
