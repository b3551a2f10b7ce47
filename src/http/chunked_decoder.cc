// Chunked transfer coding decoder (RFC 9112 7.1). A byte-driven state machine, so input
// may arrive split anywhere (even one byte per read) and the result is the same.
#include <algorithm>
#include <string>
#include <string_view>

#include "http/char_class.h"
#include "http/request_head.h"

namespace itkd::http {

namespace {

constexpr size_t kMaxSizeDigits = 16;         // 16 hex digits fill a uint64_t exactly
constexpr size_t kMaxExtensionLine = 4096;    // chunk-ext bytes after the size, per line
constexpr size_t kMaxTrailerLine = 8190;      // like LimitRequestFieldSize
constexpr size_t kMaxTrailerSection = 32768;  // all trailer fields together

unsigned hex_value(char c) {
  if (c >= '0' && c <= '9') return static_cast<unsigned>(c - '0');
  return static_cast<unsigned>(chars::lower(c) - 'a' + 10);
}

}  // namespace

ChunkedDecoder::Step ChunkedDecoder::fail(Step step, const char* reason) {
  state_ = State::Failed;
  step.error = true;
  step.reason = reason;
  return step;
}

ChunkedDecoder::Step ChunkedDecoder::feed(std::string_view input, std::string& out) {
  Step step;
  if (state_ == State::Failed) return fail(step, "chunked decoder already failed");
  size_t i = 0;
  const size_t n = input.size();
  while (i < n) {
    const char c = input[i];
    switch (state_) {
      case State::Size:
        if (chars::is(c, chars::kHex)) {
          if (++size_digits_ > kMaxSizeDigits) {
            return fail(step, "chunk size has more than 16 hex digits");
          }
          remaining_ = (remaining_ << 4) | hex_value(c);
          ++i;
          break;
        }
        if (size_digits_ == 0) return fail(step, "chunk size is not a hex number");
        if (c == '\r') {
          state_ = State::SizeLf;
        } else if (c == ';' || c == ' ' || c == '\t') {
          // BWS may precede the ';' of a chunk extension (RFC 9112 7.1.1).
          state_ = State::SizeExt;
          ext_started_ = c == ';';
          line_length_ = 1;
        } else if (c == '\n') {
          return fail(step, "bare LF after chunk size (CRLF required)");
        } else {
          return fail(step, "invalid character after chunk size");
        }
        ++i;
        break;

      case State::SizeExt:
        if (c == '\r') {
          state_ = State::SizeLf;
        } else if (++line_length_ > kMaxExtensionLine) {
          return fail(step, "chunk extension too long (limit 4096)");
        } else if (!ext_started_) {
          if (c == ';') {
            ext_started_ = true;
          } else if (c != ' ' && c != '\t') {
            return fail(step, "whitespace after chunk size without an extension");
          }
        } else if (!chars::is(c, chars::kFieldValue)) {
          return fail(step, c == '\n' ? "bare LF in chunk extension (CRLF required)"
                                      : "control character in chunk extension");
        }
        ++i;
        break;

      case State::SizeLf:
        if (c != '\n') return fail(step, "bare CR after chunk size");
        if (!ext_started_ && line_length_ > 0) {
          return fail(step, "whitespace after chunk size without an extension");
        }
        ++i;
        size_digits_ = 0;
        line_length_ = 0;
        ext_started_ = false;
        if (remaining_ == 0) {
          state_ = State::Trailer;
        } else {
          if (remaining_ > UINT64_MAX - total_) return fail(step, "chunked body size overflows");
          total_ += remaining_;
          state_ = State::Data;
        }
        break;

      case State::Data: {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, n - i));
        out.append(input.data() + i, take);
        i += take;
        remaining_ -= take;
        if (remaining_ == 0) state_ = State::DataCr;
        break;
      }

      case State::DataCr:
        if (c != '\r') return fail(step, "chunk data not followed by CRLF");
        state_ = State::DataLf;
        ++i;
        break;

      case State::DataLf:
        if (c != '\n') return fail(step, "chunk data followed by a bare CR");
        state_ = State::Size;
        ++i;
        break;

      case State::Trailer:
        // Start of a trailer line, or the CRLF that ends the body.
        if (c == '\r') {
          state_ = State::TrailerLf;
        } else if (chars::is(c, chars::kTchar)) {
          state_ = State::TrailerLine;
          trailer_in_value_ = false;
          line_length_ = 1;
          ++trailer_bytes_;
        } else if (c == ' ' || c == '\t') {
          return fail(step, "obsolete line folding in trailer");
        } else {
          return fail(step, c == '\n' ? "bare LF in trailer section (CRLF required)"
                                      : "invalid character in trailer field name");
        }
        ++i;
        break;

      case State::TrailerLine:
        if (c == '\r') {
          if (!trailer_in_value_) return fail(step, "trailer field without colon");
          state_ = State::TrailerLineLf;
        } else {
          if (++line_length_ > kMaxTrailerLine) return fail(step, "trailer field too long");
          if (++trailer_bytes_ > kMaxTrailerSection) return fail(step, "trailer section too large");
          if (trailer_in_value_) {
            if (!chars::is(c, chars::kFieldValue)) {
              return fail(step, "control character in trailer field value");
            }
          } else if (c == ':') {
            trailer_in_value_ = true;
          } else if (!chars::is(c, chars::kTchar)) {
            return fail(step, "invalid character in trailer field name");
          }
        }
        ++i;
        break;

      case State::TrailerLineLf:
        if (c != '\n') return fail(step, "bare CR in trailer field");
        state_ = State::Trailer;
        ++i;
        break;

      case State::TrailerLf:
        if (c != '\n') return fail(step, "bare CR at the end of the chunked body");
        state_ = State::Done;
        ++i;
        break;

      case State::Done:
      case State::Failed:
        break;
    }
    // Stop right after the body: what follows belongs to the next request.
    if (state_ == State::Done) break;
  }
  step.consumed = i;
  step.done = state_ == State::Done;
  return step;
}

}  // namespace itkd::http
