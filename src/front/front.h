// The front: an unprivileged, chrooted, seccomp-filtered process that accepts
// connections, reads and checks the request head, picks the vhost by listener address
// and Host, and passes the socket plus the bytes read to a worker of that vhost's owner.
#pragma once

namespace itkd {

struct FrontOptions {
  unsigned index = 0;
  unsigned listener_count = 0;
  unsigned front_count = 1;
};

// Runs the front until SIGTERM; returns the exit code.
int run_front(const FrontOptions& options);

}  // namespace itkd
