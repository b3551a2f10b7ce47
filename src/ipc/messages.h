// Every message between itkd processes, one row each: who sends it, to whom, its exact
// size, whether it carries an fd. Anything else is a protocol violation and the receiver
// drops the sender (OpenSSH monitor.c). See docs/architecture.md for the table.
//
//   type            sender -> receiver   body                         fd
//   FrontReady      front  -> master     MsgHeader                     -
//   StartPool       front  -> master     MsgHeader + PoolRequest       -
//   WorkerChannel   worker -> master     MsgHeader + ChannelOffer      channel end for one front
//   WorkerChannel   master -> front      MsgHeader + ChannelOffer      the same end, forwarded
//   WorkerGone      master -> front      MsgHeader + WorkerRef         -
//   Handoff         front  -> worker     MsgHeader + HandoffCount + count x       count client
//                                        HandoffEntry + their request bytes   sockets, in order
//   Handback        worker -> front      as Handoff: the connections whose next   count client
//                                        request is another owner's, unread bytes sockets, in order
//   ConnectionsDone worker -> front      MsgHeader + DoneList (count + ids) - (MaxClientsVHost
//                                                                          vhosts only)
//   FinishedCounters worker -> front     MsgHeader                     the worker's sealed memfd
//                                                                     of finished counts
//   RetireRequest   worker -> front      MsgHeader                     -
//   RetireAck       front  -> worker     MsgHeader                     -
//   NewFront        master -> worker     MsgHeader + FrontRef              - (a front was replaced:
//                                                                          offer it a channel)
//   PoolSecrets     master -> worker     MsgHeader + PoolSecrets           - (queued before the
//                                                                          worker starts)
//   ForkWorker      master -> zygote     MsgHeader + ForkRequest           the new worker's
//                                                                          control channel end
//   WorkerForked    zygote -> master     MsgHeader + ForkReply             -
//   ZygoteReady     zygote -> master     MsgHeader                         - (parsed, waiting)
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace itkd::ipc {

enum class MessageType : uint32_t {
  FrontReady = 1,
  StartPool = 2,
  WorkerChannel = 3,
  WorkerGone = 4,
  Handoff = 5,
  Handback = 6,
  ConnectionsDone = 7,
  RetireRequest = 8,
  RetireAck = 9,
  NewFront = 10,
  PoolSecrets = 11,
  ForkWorker = 12,
  WorkerForked = 13,
  ZygoteReady = 14,
  FinishedCounters = 15,  // the last: message_type() refuses anything above
};

struct MsgHeader {
  MessageType type;
  uint32_t reserved = 0;
};

struct PoolRequest {
  uint32_t pool;
};

struct ChannelOffer {
  uint32_t pool;
  uint32_t worker_id;
  uint32_t front_index;
  int32_t pid;
  uint32_t uid;
};

struct WorkerRef {
  uint32_t pool;
  uint32_t worker_id;
};

// ConnectionRef::flags
inline constexpr uint32_t kHandoffTls = 1;  // TLS: the ClientHello is still in the socket
// TCP_NODELAY is already on (a socket keeps it across processes): saves a setsockopt per
// owner switch. A lying front only costs that connection some latency.
inline constexpr uint32_t kHandoffNoDelay = 2;

struct FrontRef {
  uint32_t front_index;
};

// What every worker of one pool shares and no other pool knows: the session ticket keys
// (OpenSSL's 80-byte block: name, HMAC key, AES key), so a ticket one worker issued
// resumes in its siblings, as nginx's workers share theirs. New with each generation.
struct PoolSecrets {
  unsigned char ticket_keys[80];
};

// The zygote (a process that has parsed the configuration and waits, as root and off the
// network, to fork workers) is asked for one worker; it answers with the new pid (0: none).
struct ForkRequest {
  uint32_t pool;
  uint32_t worker_id;
  uint32_t uid;
  uint32_t gid;
};

struct ForkReply {
  uint32_t worker_id;
  int32_t pid;
};

// Handoff carries the addresses the front already knows (from accept), so the worker
// needs no getpeername/getsockname; a lying front could only mislabel its own handoffs.
struct ConnectionRef {
  uint64_t connection_id;  // the front's id for the connection
  uint32_t vhost;          // routed vhost (Handoff) / vhost that was served (Done)
  uint32_t flags;
  sockaddr_storage local;
  sockaddr_storage peer;
};

// Connections that ended, batched per turn of the worker's loop.
struct DoneList {
  static constexpr uint32_t kMax = 1024;
  uint32_t count;
  uint32_t reserved;
  uint64_t ids[kMax];
};
std::string encode_done(const uint64_t* ids, uint32_t count);
// Returns false unless the message is exactly a DoneList of its stated count, reserved 0.
bool decode_done(std::string_view message, std::vector<uint64_t>* ids);

// Fixed-size messages: header + one struct.
template <typename Body>
std::string encode(MessageType type, const Body& body) {
  std::string out(sizeof(MsgHeader) + sizeof(Body), '\0');
  MsgHeader header{type, 0};
  std::memcpy(out.data(), &header, sizeof header);
  std::memcpy(out.data() + sizeof header, &body, sizeof body);
  return out;
}
std::string encode_empty(MessageType type);

std::optional<MessageType> message_type(std::string_view message);

// Decodes a fixed-size message: exact size required.
template <typename Body>
std::optional<Body> decode(std::string_view message) {
  if (message.size() != sizeof(MsgHeader) + sizeof(Body)) return std::nullopt;
  Body body;
  std::memcpy(&body, message.data() + sizeof(MsgHeader), sizeof body);
  return body;
}
bool is_empty_message(std::string_view message);

// Handoff: what a front routed to one worker in one turn of its loop, up to kMaxHandoffs
// connections in one message, so a busy front pays one sendmsg and the worker one
// recvmsg and one wake-up for all of them. The i-th fd of the message is the i-th
// connection's socket. Handback has the same form: the connections a worker gives back
// in one turn (their next request is another owner's), with the bytes it read of it.
inline constexpr uint32_t kMaxHandoffs = 16;
struct HandoffCount {
  uint32_t count;
  uint32_t reserved;
};
struct HandoffEntry {
  ConnectionRef ref;
  uint32_t bytes_size;  // request bytes the front already read, stored after all entries
  uint32_t reserved;
};
struct Handoff {
  ConnectionRef ref;
  std::string_view bytes;
};
// The message size for `count` connections carrying `bytes` request bytes in all.
inline constexpr size_t handoff_message_size(size_t count, size_t bytes) {
  return sizeof(MsgHeader) + sizeof(HandoffCount) + count * sizeof(HandoffEntry) + bytes;
}
// type is Handoff or Handback.
std::string encode_handoffs(MessageType type, const std::vector<Handoff>& handoffs);
// Views into message (of either type); nullopt unless it is exactly 1..kMaxHandoffs
// entries and their bytes.
std::optional<std::vector<Handoff>> decode_handoffs(std::string_view message);

}  // namespace itkd::ipc
