// The FastCGI 1.0 wire format as pure functions: record headers, name-value pairs, the
// BEGIN_REQUEST / END_REQUEST bodies, and an incremental record decoder over a byte stream.
// No sockets here, so unit tests and the fuzzer drive it directly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace itkd::fcgi {

inline constexpr uint8_t kVersion1 = 1;
inline constexpr size_t kHeaderLength = 8;
inline constexpr size_t kMaxContentLength = 0xffff;

enum RecordType : uint8_t {
  kBeginRequest = 1,
  kAbortRequest = 2,
  kEndRequest = 3,
  kParams = 4,
  kStdin = 5,
  kStdout = 6,
  kStderr = 7,
  kData = 8,
  kGetValues = 9,
  kGetValuesResult = 10,
  kUnknownType = 11,
};

inline constexpr uint16_t kRoleResponder = 1;
inline constexpr uint8_t kFlagKeepConn = 1;

enum ProtocolStatus : uint8_t {
  kRequestComplete = 0,
  kCantMpxConn = 1,
  kOverloaded = 2,
  kUnknownRole = 3,
};

struct RecordHeader {
  uint8_t version = kVersion1;
  uint8_t type = 0;
  uint16_t request_id = 0;
  uint16_t content_length = 0;
  uint8_t padding_length = 0;
};

void encode_header(const RecordHeader& header, unsigned char out[kHeaderLength]);
RecordHeader decode_header(const unsigned char in[kHeaderLength]);

// One record with `content` (at most kMaxContentLength bytes), padded to a multiple of 8
// as the spec recommends.
void append_record(std::string& out, uint8_t type, uint16_t request_id, std::string_view content);
// A stream (PARAMS, STDIN, ...) piece split into as many records as needed; empty `data`
// appends the empty record that ends the stream.
void append_stream(std::string& out, uint8_t type, uint16_t request_id, std::string_view data);
void append_begin_request(std::string& out, uint16_t request_id, uint16_t role, bool keep_conn);
void append_end_request(std::string& out, uint16_t request_id, uint32_t app_status,
                        uint8_t protocol_status);

// Name-value pairs: lengths below 128 take one byte, others four (high bit set).
void append_name_value(std::string& out, std::string_view name, std::string_view value);
using NameValues = std::vector<std::pair<std::string, std::string>>;
std::string encode_name_values(const NameValues& pairs);
Result<NameValues> decode_name_values(std::string_view data, size_t max_pairs = 1000);

struct EndRequest {
  uint32_t app_status = 0;
  uint8_t protocol_status = kRequestComplete;
};
Result<EndRequest> decode_end_request(std::string_view content);
std::string_view protocol_status_text(uint8_t status);

struct Record {
  uint8_t type = 0;
  uint16_t request_id = 0;
  std::string content;  // padding removed
};

// Splits a byte stream into records. Records are bounded by the format (64 KiB + 263), so
// the buffer never holds more than one record plus what the caller fed since.
class RecordDecoder {
 public:
  enum class Status { Record, NeedMore, Error };

  void append(std::string_view bytes);
  // The next complete record, NeedMore, or Error (bad version) with a reason; after an
  // error the stream is unusable.
  Status next(Record& out);
  const std::string& error() const { return error_; }
  size_t buffered() const { return buffer_.size() - offset_; }

 private:
  std::string buffer_;
  size_t offset_ = 0;
  std::string error_;
};

}  // namespace itkd::fcgi
