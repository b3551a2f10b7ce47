#include "ipc/channel.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>

namespace itkd {

Result<void> enable_credentials(int fd) {
  int one = 1;
  if (::setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) != 0)
    return Error{errno_message("setsockopt(SO_PASSCRED)")};
  return ok();
}

Result<SocketPair> make_channel(bool nonblocking) {
  int fds[2];
  int type = SOCK_SEQPACKET | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0);
  if (::socketpair(AF_UNIX, type, 0, fds) != 0) return Error{errno_message("socketpair")};
  SocketPair pair{UniqueFd(fds[0]), UniqueFd(fds[1])};
  for (int fd : fds) {
    if (auto r = enable_credentials(fd); !r) return r.error();
    // Room for a few full handoffs queued at once.
    int size = 1 << 20;
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size);
  }
  return pair;
}

ChannelStatus send_message(int channel, std::string_view bytes, int fd_to_pass, std::string* error) {
  if (fd_to_pass < 0) return send_message(channel, bytes, std::span<const int>(), error);
  return send_message(channel, bytes, std::span<const int>(&fd_to_pass, 1), error);
}

ChannelStatus send_message(int channel, std::string_view bytes, std::span<const int> fds, std::string* error) {
  if (fds.size() > kMaxFdsPerMessage) {
    if (error) *error = "more than " + std::to_string(kMaxFdsPerMessage) + " fds in one message";
    return ChannelStatus::Failed;
  }
  iovec iov{const_cast<char*>(bytes.data()), bytes.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)];
  if (!fds.empty()) {
    std::memset(control, 0, sizeof control);
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  }
  for (;;) {
    ssize_t n = ::sendmsg(channel, &msg, MSG_NOSIGNAL);
    if (n >= 0) return ChannelStatus::Ok;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return ChannelStatus::WouldBlock;
    if (error) *error = errno_message("sendmsg");
    return (errno == EPIPE || errno == ECONNRESET) ? ChannelStatus::Closed : ChannelStatus::Failed;
  }
}

ChannelStatus receive_message(int channel, ReceivedMessage& out, std::string* error, size_t max_fds) {
  static char scratch[kMaxMessageBytes];  // copied out by size: no 72 KiB memset per message
  iovec iov{scratch, sizeof scratch};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  // Room for more fds than anyone may send, so an excess arrives (and is refused) rather
  // than being cut off silently.
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred)) + CMSG_SPACE(sizeof(int) * (kMaxFdsPerMessage + 4))];
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  for (;;) {
    n = ::recvmsg(channel, &msg, MSG_CMSG_CLOEXEC);
    if (n >= 0) break;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return ChannelStatus::WouldBlock;
    if (error) *error = errno_message("recvmsg");
    return errno == ECONNRESET ? ChannelStatus::Closed : ChannelStatus::Failed;
  }
  if (n == 0 && msg.msg_controllen == 0) return ChannelStatus::Closed;
  out.bytes.assign(scratch, static_cast<size_t>(n));
  out.fd.reset();
  out.more_fds.clear();
  bool have_creds = false;
  bool bad = (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
        c->cmsg_len == CMSG_LEN(sizeof(ucred))) {
      ucred cred;
      std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
      out.pid = cred.pid;
      out.uid = cred.uid;
      out.gid = cred.gid;
      have_creds = true;
    } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
        // More fds than this receiver allows is a protocol violation.
        if (out.fd_count() >= max_fds) {
          ::close(fd);
          bad = true;
        } else if (!out.fd) {
          out.fd.reset(fd);
        } else {
          out.more_fds.emplace_back(fd);
        }
      }
    } else {
      bad = true;
    }
  }
  if (bad) {
    if (error) *error = "malformed channel message (truncated, extra fds or foreign control data)";
    out.fd.reset();
    out.more_fds.clear();
    return ChannelStatus::Failed;
  }
  if (!have_creds) {
    if (error) *error = "channel message without sender credentials (SO_PASSCRED not set?)";
    out.fd.reset();
    out.more_fds.clear();
    return ChannelStatus::Failed;
  }
  return ChannelStatus::Ok;
}

}  // namespace itkd
