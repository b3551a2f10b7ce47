#include "worker/fastcgi/fcgi_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

namespace itkd {

namespace {
Error backend_error(const FcgiBackend& b, int err) {
  return Error{"FastCGI backend " + b.describe() + ": " + std::strerror(err)};
}
}  // namespace

Result<BackendConnect> connect_backend(const FcgiBackend& b) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  int family = AF_UNIX;
  if (!b.unix_path.empty()) {
    auto* un = reinterpret_cast<sockaddr_un*>(&ss);
    if (b.unix_path.size() >= sizeof un->sun_path) {
      return Error{"FastCGI backend " + b.describe() + ": socket path too long"};
    }
    un->sun_family = AF_UNIX;
    std::memcpy(un->sun_path, b.unix_path.c_str(), b.unix_path.size() + 1);
    len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + b.unix_path.size() + 1);
  } else {
    // Literal addresses only: a DNS lookup would block the worker's loop.
    auto* in4 = reinterpret_cast<sockaddr_in*>(&ss);
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
    std::string host = b.host == "localhost" ? "127.0.0.1" : b.host;
    if (inet_pton(AF_INET, host.c_str(), &in4->sin_addr) == 1) {
      family = in4->sin_family = AF_INET;
      in4->sin_port = htons(b.port);
      len = sizeof *in4;
    } else if (inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) == 1) {
      family = in6->sin6_family = AF_INET6;
      in6->sin6_port = htons(b.port);
      len = sizeof *in6;
    } else {
      return Error{"FastCGI backend " + b.describe() +
                   ": not an IP address (itkd does not resolve names here; write the address)"};
    }
  }
  UniqueFd fd(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return backend_error(b, errno);
  if (family != AF_UNIX) {
    int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  BackendConnect out;
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    if (errno != EINPROGRESS) return backend_error(b, errno);
    out.in_progress = true;
  }
  out.fd = std::move(fd);
  return out;
}

Result<void> finish_connect(int fd, const FcgiBackend& b) {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return backend_error(b, errno);
  if (err != 0) return backend_error(b, err);
  return ok();
}

BackendPool& BackendPool::instance() {
  static BackendPool pool;
  return pool;
}

UniqueFd BackendPool::take(const std::string& key, uint64_t now_ms) {
  auto it = idle_.find(key);
  if (it == idle_.end()) return {};
  auto& list = it->second;
  while (!list.empty()) {
    Idle idle = std::move(list.back());
    list.pop_back();
    if (now_ms - idle.since_ms > kMaxIdleMs) continue;
    // The backend may have closed it meanwhile (recycled child): EOF or an error here.
    char c;
    ssize_t n = ::recv(idle.fd.get(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return std::move(idle.fd);
  }
  return {};
}

void BackendPool::put(const std::string& key, UniqueFd fd, uint64_t now_ms, size_t max_idle) {
  auto& list = idle_[key];
  // Drop the oldest: each idle connection holds a backend process (php-fpm child).
  while (!list.empty() && list.size() >= max_idle) list.erase(list.begin());
  if (max_idle == 0) return;
  list.push_back({std::move(fd), now_ms});
}

size_t BackendPool::idle_count(const std::string& key) const {
  auto it = idle_.find(key);
  return it == idle_.end() ? 0 : it->second.size();
}

}  // namespace itkd
