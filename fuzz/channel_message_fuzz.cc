// Feeds arbitrary bytes to the decoders of what a worker and a front read from each
// other (Handoff, Handback, ConnectionsDone): anything they accept must re-encode to the
// same bytes, so a decoder can't accept a message that means something else than it says.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "ipc/messages.h"

using namespace itkd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view message(reinterpret_cast<const char*>(data), size);
  auto type = ipc::message_type(message);
  if (!type) return 0;
  if (*type == ipc::MessageType::Handoff || *type == ipc::MessageType::Handback) {
    auto entries = ipc::decode_handoffs(message);
    if (!entries) return 0;
    if (entries->empty() || entries->size() > ipc::kMaxHandoffs) std::abort();
    for (const ipc::Handoff& h : *entries) {
      // Every view lies inside the message.
      if (h.bytes.data() < message.data() || h.bytes.data() + h.bytes.size() > message.data() + message.size())
        std::abort();
    }
    if (ipc::encode_handoffs(*type, *entries) != message) std::abort();
  } else if (*type == ipc::MessageType::ConnectionsDone) {
    std::vector<uint64_t> ids;
    if (!ipc::decode_done(message, &ids)) return 0;
    if (ids.size() > ipc::DoneList::kMax) std::abort();
    if (ipc::encode_done(ids.data(), static_cast<uint32_t>(ids.size())) != message) std::abort();
  }
  return 0;
}
