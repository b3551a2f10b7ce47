// Feeds arbitrary backend bytes to the FastCGI record decoder and the body decoders the
// handler runs on them (name-value pairs, END_REQUEST), in random-sized pieces, and
// checks that re-encoding what was decoded gives the same records back.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "worker/fastcgi/fcgi_record.h"

using namespace itkd::fcgi;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  RecordDecoder decoder;
  std::string reencoded;
  size_t consumed = 0;
  bool failed = false;
  size_t i = 0;
  while (i < in.size() && !failed) {
    // The first byte of each step picks the piece size, so the corpus explores splits.
    size_t piece = 1 + static_cast<unsigned char>(in[i]) % 64;
    decoder.append(in.substr(i, piece));
    i += piece;
    Record r;
    for (;;) {
      auto st = decoder.next(r);
      if (st == RecordDecoder::Status::Error) failed = true;
      if (st != RecordDecoder::Status::Record) break;
      if (r.content.size() > kMaxContentLength) std::abort();
      append_record(reencoded, r.type, r.request_id, r.content);
      ++consumed;
      if (r.type == kParams || r.type == kGetValues) {
        auto nv = decode_name_values(r.content);
        // Lengths may be sent in the long form, so compare decoded pairs, not bytes.
        if (nv.ok()) {
          auto back = decode_name_values(encode_name_values(*nv));
          if (!back.ok() || *back != *nv) std::abort();
        }
      }
      if (r.type == kEndRequest) (void)decode_end_request(r.content);
    }
  }
  // Every record we produced decodes back to itself.
  RecordDecoder again;
  again.append(reencoded);
  Record r;
  size_t n = 0;
  while (again.next(r) == RecordDecoder::Status::Record) ++n;
  if (n != consumed || again.buffered() != 0) std::abort();
  return 0;
}
