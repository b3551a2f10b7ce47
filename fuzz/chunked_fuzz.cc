// Fuzzes the chunked decoder: input split at a fuzzer-chosen point must decode exactly
// like the whole input, and the decoder must never claim more bytes than it was given.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/request_head.h"

using itkd::http::ChunkedDecoder;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // The first byte picks the split point, the rest is the body.
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t split = input.empty() ? 0 : data[0] % (input.size() + 1);

  ChunkedDecoder whole;
  std::string whole_out;
  const ChunkedDecoder::Step w = whole.feed(input, whole_out);
  if (w.consumed > input.size()) std::abort();
  if (w.done && w.error) std::abort();
  if (w.error && w.reason.empty()) std::abort();
  if (whole.total_size() < whole_out.size()) std::abort();

  ChunkedDecoder parts;
  std::string parts_out;
  const ChunkedDecoder::Step first = parts.feed(input.substr(0, split), parts_out);
  if (first.consumed > split) std::abort();
  ChunkedDecoder::Step last = first;
  if (!first.done && !first.error) {
    last = parts.feed(input.substr(split), parts_out);
    if (last.done && first.consumed + last.consumed != w.consumed) std::abort();
  } else if (first.done && first.consumed != w.consumed) {
    std::abort();
  }
  if (last.done != w.done || last.error != w.error) std::abort();
  if (!w.error && parts_out != whole_out) std::abort();

  // Once done, more input is not consumed.
  if (w.done) {
    const ChunkedDecoder::Step after = whole.feed("x", whole_out);
    if (after.consumed != 0 || !after.done) std::abort();
  }
  return 0;
}
