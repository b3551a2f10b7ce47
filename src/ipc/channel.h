// Message channels between itkd processes: SOCK_SEQPACKET socketpairs, one message per
// send, at most one fd per message except where the receiver allows more (a front's
// Handoff of several connections). Every received message carries the sender's
// kernel-verified pid/uid/gid (SO_PASSCRED / SCM_CREDENTIALS), so each end checks who
// really sent it, message by message; every fd received is checked for MSG_CTRUNC,
// cmsg_len and SCM_RIGHTS (nginx ngx_channel.c).
#pragma once

#include <sys/types.h>

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

namespace itkd {

// Big enough for a message header plus a full request head (kMaxHeadBytes).
inline constexpr size_t kMaxMessageBytes = 72 * 1024;

// The most fds one message may carry (a Handoff of ipc::kMaxHandoffs connections).
inline constexpr size_t kMaxFdsPerMessage = 16;

struct ReceivedMessage {
  std::string bytes;
  UniqueFd fd;                     // the first fd, if any
  std::vector<UniqueFd> more_fds;  // the others, only where the receiver allowed them
  size_t fd_count() const { return (fd ? 1 : 0) + more_fds.size(); }
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

enum class ChannelStatus { Ok, WouldBlock, Closed, Failed };

struct SocketPair {
  UniqueFd first;
  UniqueFd second;
};
// Close-on-exec SOCK_SEQPACKET pair with SO_PASSCRED on both ends and large buffers.
Result<SocketPair> make_channel(bool nonblocking);
// Enables SO_PASSCRED on an end received from elsewhere.
Result<void> enable_credentials(int fd);

// Sends one message, optionally with one fd. WouldBlock if the peer's queue is full.
ChannelStatus send_message(int channel, std::string_view bytes, int fd_to_pass, std::string* error);
// Sends one message with up to kMaxFdsPerMessage fds, received in this order.
ChannelStatus send_message(int channel, std::string_view bytes, std::span<const int> fds, std::string* error);
// Receives one message. Failed (with *error, every fd closed) on truncation, foreign
// control data, more than max_fds fds or a missing credential; Closed on EOF.
ChannelStatus receive_message(int channel, ReceivedMessage& out, std::string* error, size_t max_fds = 1);

}  // namespace itkd
