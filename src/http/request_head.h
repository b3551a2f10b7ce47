// HTTP/1.x request head parsing (RFC 9112), as pure functions over byte spans: the front
// and the worker both run it, unit tests and the fuzzer drive it without sockets.
// Strict by design: every shape that could desynchronize us from another parser
// (request smuggling) is an error, never a guess.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace itkd::http {

enum class Method { Get, Head, Post, Put, Delete, Options, Trace, Connect, Patch, Other };

enum class TargetForm { Origin, Absolute, Authority, Asterisk };

struct HeaderField {
  std::string_view name;   // as sent (compare case-insensitively)
  std::string_view value;  // leading/trailing OWS trimmed
};

enum class BodyFraming { None, ContentLength, Chunked };

struct RequestHead {
  std::string_view method_text;
  Method method = Method::Other;
  std::string_view target;     // raw request-target
  TargetForm form = TargetForm::Origin;
  int version_major = 1;
  int version_minor = 1;
  std::vector<HeaderField> fields;

  // Derived during parsing:
  std::string host;            // normalized authority host: lowercase, no port, no trailing
                               // dot; from the absolute-form target if present, else Host
  std::string_view path;       // raw path part of the target ("/a%20b"), "*" for asterisk
  std::string_view query;      // after '?', without it; empty if none
  bool has_query = false;
  BodyFraming framing = BodyFraming::None;
  uint64_t content_length = 0;
  bool keep_alive = true;      // from version + Connection
  bool expect_continue = false;
  size_t head_length = 0;      // bytes of the head including the final CRLF CRLF

  // First field with this name (case-insensitive), or nullptr.
  const HeaderField* find(std::string_view name) const;
};

struct ParseLimits {
  size_t max_request_line = 8190;   // LimitRequestLine -> 414
  size_t max_field_size = 8190;     // LimitRequestFieldSize -> 431
  size_t max_fields = 100;          // LimitRequestFields -> 431
};

enum class ParseStatus { Complete, Incomplete, Error };

struct ParseOutcome {
  ParseStatus status = ParseStatus::Incomplete;
  int http_status = 0;       // on Error: 400, 414, 431, 501, 505
  std::string reason;        // on Error: for the log ("Content-Length with Transfer-Encoding")
};

// Parses the head at the start of `buffer`. Incomplete means "read more"; it is returned
// only while the bytes so far are a valid prefix within the limits (so an over-long line
// is an Error as soon as it is over the limit, without waiting for its end).
// `out` holds views into `buffer`, valid while the buffer is unchanged.
ParseOutcome parse_request_head(std::string_view buffer, const ParseLimits& limits,
                                RequestHead& out);

// Normalizes a Host header or authority: lowercases, strips ":port" and one trailing dot;
// IPv6 literals keep their brackets. Returns false for an invalid host (-> 400).
bool normalize_host(std::string_view authority, std::string& out);

// Incremental chunked transfer-coding decoder (RFC 9112 section 7.1), equally strict:
// chunk-size hex only (no sign, no overflow), chunk extensions allowed but bounded,
// CRLF required everywhere (no bare LF or CR), trailer fields parsed and discarded.
class ChunkedDecoder {
 public:
  struct Step {
    size_t consumed = 0;   // bytes of input used
    bool done = false;     // the last chunk and trailers were read
    bool error = false;
    std::string reason;
  };
  // Appends decoded data to `out`. Call again with more input until done or error.
  Step feed(std::string_view input, std::string& out);
  uint64_t total_size() const { return total_; }

 private:
  enum class State {
    Size, SizeExt, SizeLf, Data, DataCr, DataLf, Trailer, TrailerLf, TrailerLine,
    TrailerLineLf, Done, Failed
  };
  Step fail(Step step, const char* reason);

  State state_ = State::Size;
  uint64_t remaining_ = 0;
  uint64_t total_ = 0;
  size_t size_digits_ = 0;
  size_t line_length_ = 0;       // bytes of the current chunk-ext or trailer line
  size_t trailer_bytes_ = 0;     // whole trailer section, bounded
  bool ext_started_ = false;     // a ';' was seen after the chunk size
  bool trailer_in_value_ = false;  // past the ':' of the current trailer field
};

std::string_view reason_phrase(int status);

}  // namespace itkd::http
