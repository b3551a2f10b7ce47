// Fuzzes the request head parser with the default limits and with tiny ones (to reach
// every limit branch), then decodes whatever follows a complete head as a chunked body.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/request_head.h"
#include "http/response_head.h"

using itkd::http::ChunkedDecoder;
using itkd::http::ParseLimits;
using itkd::http::ParseOutcome;
using itkd::http::ParseStatus;
using itkd::http::RequestHead;

namespace {

// Invariants every outcome must satisfy, whatever the input.
void check(const ParseOutcome& outcome, const RequestHead& head, std::string_view input) {
  switch (outcome.status) {
    case ParseStatus::Complete:
      if (head.head_length < 4 || head.head_length > input.size()) std::abort();
      if (input.substr(head.head_length - 4, 4) != "\r\n\r\n") std::abort();
      if (head.path.empty() && head.form != itkd::http::TargetForm::Authority) std::abort();
      for (char c : head.host) {
        if (c >= 'A' && c <= 'Z') std::abort();
      }
      break;
    case ParseStatus::Error:
      if (outcome.reason.empty()) std::abort();
      if (itkd::http::reason_phrase(outcome.http_status) == "Unknown Status") std::abort();
      break;
    case ParseStatus::Incomplete:
      if (!outcome.reason.empty()) std::abort();
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  RequestHead head;
  const ParseOutcome outcome = itkd::http::parse_request_head(input, ParseLimits{}, head);
  check(outcome, head, input);

  ParseLimits tiny;
  tiny.max_request_line = 24;
  tiny.max_field_size = 16;
  tiny.max_fields = 3;
  RequestHead small;
  const ParseOutcome tiny_outcome = itkd::http::parse_request_head(input, tiny, small);
  check(tiny_outcome, small, input);

  if (outcome.status == ParseStatus::Error) {
    // The error page must be buildable from any reason the parser gives.
    const std::string page =
        itkd::http::simple_error_response(outcome.http_status, false, outcome.reason);
    if (page.empty()) std::abort();
  }

  if (outcome.status == ParseStatus::Complete) {
    // Whole-buffer and byte-at-a-time decoding must agree.
    const std::string_view rest = input.substr(head.head_length);
    ChunkedDecoder whole;
    std::string whole_out;
    const ChunkedDecoder::Step w = whole.feed(rest, whole_out);
    if (w.consumed > rest.size()) std::abort();

    ChunkedDecoder bytewise;
    std::string bytewise_out;
    bool done = false;
    bool error = false;
    for (size_t i = 0; i < rest.size() && !done && !error; ++i) {
      const ChunkedDecoder::Step s = bytewise.feed(rest.substr(i, 1), bytewise_out);
      done = s.done;
      error = s.error;
    }
    if (done != w.done || error != w.error) std::abort();
    if (!error && bytewise_out != whole_out) std::abort();
  }
  return 0;
}
