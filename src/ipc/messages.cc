#include "ipc/messages.h"

#include "ipc/channel.h"

namespace itkd::ipc {

std::string encode_empty(MessageType type) {
  std::string out(sizeof(MsgHeader), '\0');
  MsgHeader header{type, 0};
  std::memcpy(out.data(), &header, sizeof header);
  return out;
}

std::optional<MessageType> message_type(std::string_view message) {
  if (message.size() < sizeof(MsgHeader)) return std::nullopt;
  MsgHeader header;
  std::memcpy(&header, message.data(), sizeof header);
  if (header.reserved != 0) return std::nullopt;
  auto t = static_cast<uint32_t>(header.type);
  if (t < 1 || t > static_cast<uint32_t>(MessageType::FinishedCounters)) return std::nullopt;
  return header.type;
}

std::string encode_done(const uint64_t* ids, uint32_t count) {
  std::string out(sizeof(MsgHeader) + 8 + sizeof(uint64_t) * count, '\0');
  MsgHeader header{MessageType::ConnectionsDone, 0};
  std::memcpy(out.data(), &header, sizeof header);
  std::memcpy(out.data() + sizeof header, &count, sizeof count);
  if (count) std::memcpy(out.data() + sizeof header + 8, ids, sizeof(uint64_t) * count);  // ids may be null
  return out;
}

bool decode_done(std::string_view message, std::vector<uint64_t>* ids) {
  if (message.size() < sizeof(MsgHeader) + 8) return false;
  uint32_t count, reserved;
  std::memcpy(&count, message.data() + sizeof(MsgHeader), sizeof count);
  std::memcpy(&reserved, message.data() + sizeof(MsgHeader) + sizeof count, sizeof reserved);
  if (reserved != 0 || count > DoneList::kMax || message.size() != sizeof(MsgHeader) + 8 + sizeof(uint64_t) * count) return false;
  ids->resize(count);
  if (count) std::memcpy(ids->data(), message.data() + sizeof(MsgHeader) + 8, sizeof(uint64_t) * count);
  return true;
}

bool is_empty_message(std::string_view message) { return message.size() == sizeof(MsgHeader); }

static_assert(kMaxHandoffs <= kMaxFdsPerMessage, "a full Handoff must fit in one message's fds");

std::string encode_handoffs(MessageType type, const std::vector<Handoff>& handoffs) {
  size_t bytes = 0;
  for (const Handoff& h : handoffs) bytes += h.bytes.size();
  std::string out(handoff_message_size(handoffs.size(), bytes), '\0');
  char* p = out.data();
  MsgHeader header{type, 0};
  std::memcpy(p, &header, sizeof header);
  p += sizeof header;
  HandoffCount count{static_cast<uint32_t>(handoffs.size()), 0};
  std::memcpy(p, &count, sizeof count);
  p += sizeof count;
  for (const Handoff& h : handoffs) {
    HandoffEntry entry{h.ref, static_cast<uint32_t>(h.bytes.size()), 0};
    std::memcpy(p, &entry, sizeof entry);
    p += sizeof entry;
  }
  for (const Handoff& h : handoffs) {
    if (!h.bytes.empty()) std::memcpy(p, h.bytes.data(), h.bytes.size());
    p += h.bytes.size();
  }
  return out;
}

std::optional<std::vector<Handoff>> decode_handoffs(std::string_view message) {
  if (message.size() < handoff_message_size(0, 0)) return std::nullopt;
  HandoffCount count;
  std::memcpy(&count, message.data() + sizeof(MsgHeader), sizeof count);
  if (count.count < 1 || count.count > kMaxHandoffs || count.reserved != 0) return std::nullopt;
  if (message.size() < handoff_message_size(count.count, 0)) return std::nullopt;
  std::vector<Handoff> out;
  out.reserve(count.count);
  size_t entries = sizeof(MsgHeader) + sizeof(HandoffCount);
  size_t at = handoff_message_size(count.count, 0);
  for (uint32_t i = 0; i < count.count; ++i) {
    HandoffEntry entry;
    std::memcpy(&entry, message.data() + entries + i * sizeof entry, sizeof entry);
    if (entry.reserved != 0 || entry.bytes_size > message.size() - at) return std::nullopt;
    out.push_back(Handoff{entry.ref, message.substr(at, entry.bytes_size)});
    at += entry.bytes_size;
  }
  if (at != message.size()) return std::nullopt;
  return out;
}

}  // namespace itkd::ipc
