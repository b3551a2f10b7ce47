#include "master/listeners.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstring>

namespace itkd {

namespace {

Result<UniqueFd> bind_one(const std::string& host, uint16_t port) {
  sockaddr_storage addr{};
  socklen_t len = 0;
  int family;
  if (host.empty() || host == "*") {
    family = AF_INET6;
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&addr);
    a6->sin6_family = AF_INET6;
    a6->sin6_addr = in6addr_any;
    a6->sin6_port = htons(port);
    len = sizeof *a6;
  } else if (host.find(':') != std::string::npos) {
    family = AF_INET6;
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&addr);
    a6->sin6_family = AF_INET6;
    if (::inet_pton(AF_INET6, host.c_str(), &a6->sin6_addr) != 1)
      return Error{"invalid IPv6 address '" + host + "'"};
    a6->sin6_port = htons(port);
    len = sizeof *a6;
  } else {
    family = AF_INET;
    auto* a4 = reinterpret_cast<sockaddr_in*>(&addr);
    a4->sin_family = AF_INET;
    if (::inet_pton(AF_INET, host.c_str(), &a4->sin_addr) != 1)
      return Error{"invalid IPv4 address '" + host + "' (Listen takes addresses, not names)"};
    a4->sin_port = htons(port);
    len = sizeof *a4;
  }
  UniqueFd fd(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd && (host.empty() || host == "*")) {
    // No IPv6 on this machine: fall back to IPv4 any.
    return bind_one("0.0.0.0", port);
  }
  if (!fd) return Error{errno_message("socket")};
  int one = 1, zero = 0;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (family == AF_INET6)
    ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, (host.empty() || host == "*") ? &zero : &one, sizeof one);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    std::string where = (family == AF_INET6 ? "[" + (host.empty() ? std::string("::") : host) + "]" : host) +
                        ":" + std::to_string(port);
    return Error{errno_message("could not bind to address " + where)};
  }
  if (::listen(fd.get(), 4096) != 0) return Error{errno_message("listen")};
  // Apache's default AcceptFilter "data" (nginx's "deferred"): the kernel hands a
  // connection to accept() once the client's first bytes (request or ClientHello) are
  // there, so the front reads it at once instead of watching an empty socket, and a
  // client that connects and says nothing never reaches a front.
  int defer_s = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer_s, sizeof defer_s);
  return fd;
}

}  // namespace

Result<std::vector<BoundListener>> bind_listeners(const ServerConfig& config,
                                                  std::vector<BoundListener>* previous) {
  std::vector<BoundListener> out;
  for (const Listener& l : config.listeners) {
    BoundListener bound{l.host, l.port, UniqueFd()};
    if (previous) {
      for (auto& p : *previous) {
        if (p.fd && p.host == l.host && p.port == l.port) {
          bound.fd = UniqueFd(::fcntl(p.fd.get(), F_DUPFD_CLOEXEC, 0));
          break;
        }
      }
    }
    if (!bound.fd) {
      auto fd = bind_one(l.host, l.port);
      if (!fd) return Error{l.where.str() + ": " + fd.error().message};
      bound.fd = std::move(*fd);
    }
    out.push_back(std::move(bound));
  }
  return out;
}

}  // namespace itkd
