// The machine's floor: the least an HTTP server must do for bench/run.sh's static rows, so
// the summary can say which targets no server could reach on this machine. No files, no
// real parser, no logs, no limits: every request gets the same 1 KiB answer.
//
//   floor_server PORT direct [PROCS]
//       PROCS processes (default: one per core), each accepting on its own SO_REUSEPORT
//       socket and answering every request itself: a server with no isolation at all.
//   floor_server PORT switch [FRONTS] [WORKERS]
//       itkd's shape reduced to its cost: FRONTS fronts (default: one per core) accept,
//       read the head and pass the socket with SCM_RIGHTS to one of the WORKERS (default:
//       one per core) of the owner the Host names; a worker that reads a request for the
//       other owner passes the socket back to a front, which passes it on (workers of two
//       owners never talk to each other). Passes are batched per loop turn, as itkd does.
//   floor_server PORT switch-peer [FRONTS] [WORKERS]
//       The same, except that a worker passes a socket for the other owner straight to one
//       of that owner's workers: the shortcut itkd's invariant 4 forbids, measured to show
//       what the hop through the front costs.
//   floor_server PORT fpm SOCKET SCRIPT UID GID [PROCS]
//       PROCS processes (default: one per core) running as UID:GID, each accepting on its own
//       SO_REUSEPORT socket; every request becomes one FastCGI request for SCRIPT to the
//       php-fpm pool at SOCKET (a new connection each time, as nginx's and Apache's default)
//       and its output the answer: the least a server in front of php-fpm must do.
//
// Hosts starting with "alice" belong to owner 0, every other host to owner 1. Children drop
// to nobody after the sockets exist. A loopback benchmark tool, nothing more.
#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace {

constexpr size_t kMaxBatch = 16;  // sockets per message, as itkd's Handoff
constexpr uint64_t kListenerTag = 1ull << 40;
constexpr uint64_t kChannelTag = 2ull << 40;

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "floor_server: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

// "Server: floor-0" (owner 0's worker), "floor-1", or "floor" (answers every host).
std::string response(bool keep_alive, int owner) {
  std::string r = "HTTP/1.1 200 OK\r\nServer: floor" + (owner < 0 ? std::string() : "-" + std::to_string(owner)) +
                  "\r\nContent-Type: text/html\r\nContent-Length: 1024\r\n";
  r += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
  r.append(1024, 'x');
  return r;
}

int owner_of(std::string_view head) {
  size_t at = head.find("\r\nHost: ");
  return at != std::string_view::npos && head.substr(at + 8, 5) == "alice" ? 0 : 1;
}

int listener(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) die("bind");
  if (::listen(fd, 4096) < 0) die("listen");
  return fd;
}

uid_t g_uid = 65534;  // who the children run as: nobody, or fpm mode's UID:GID
gid_t g_gid = 65534;

void drop_root() {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::setgroups(0, nullptr) < 0 || ::setgid(g_gid) < 0 || ::setuid(g_uid) < 0) die("dropping root");
}

// A socket on its way between processes, with the request bytes already read from it.
struct Passed {
  int fd;
  std::string bytes;
};

// Message: uint32 count, count x uint32 length, the bytes; the sockets in SCM_RIGHTS.
void send_batch(int channel, std::vector<Passed>& batch) {
  for (size_t first = 0; first < batch.size(); first += kMaxBatch) {
    size_t n = std::min(kMaxBatch, batch.size() - first);
    std::string payload(4 + 4 * n, '\0');
    uint32_t count = static_cast<uint32_t>(n);
    std::memcpy(payload.data(), &count, 4);
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxBatch)] = {};
    int fds[kMaxBatch];
    for (size_t i = 0; i < n; ++i) {
      uint32_t len = static_cast<uint32_t>(batch[first + i].bytes.size());
      std::memcpy(payload.data() + 4 + 4 * i, &len, 4);
      payload += batch[first + i].bytes;
      fds[i] = batch[first + i].fd;
    }
    iovec iov{payload.data(), payload.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * n);
    std::memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
    while (::sendmsg(channel, &msg, MSG_NOSIGNAL) < 0)
      if (errno != EINTR) die("sendmsg");
    for (size_t i = 0; i < n; ++i) ::close(fds[i]);
  }
  batch.clear();
}

// False when the channel's other end is gone.
template <typename F>
bool receive_batch(int channel, F&& each) {
  char payload[65536];
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxBatch)];
  iovec iov{payload, sizeof payload};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t got = ::recvmsg(channel, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  if (got < 0) return errno == EAGAIN || errno == EINTR;
  if (got == 0) return false;
  int fds[kMaxBatch];
  size_t nfds = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      std::memcpy(fds, CMSG_DATA(c), sizeof(int) * nfds);
    }
  uint32_t count;
  std::memcpy(&count, payload, 4);
  size_t at = 4 + 4 * size_t{count};
  for (size_t i = 0; i < count && i < nfds; ++i) {
    uint32_t len;
    std::memcpy(&len, payload + 4 + 4 * i, 4);
    each(Passed{fds[i], std::string(payload + at, len)});
    at += len;
  }
  return true;
}

struct Client {
  std::string in;
  std::string out;
  size_t sent = 0;
  bool close_after = false;
  int from_front = 0;
};

// A process that answers requests: `direct` processes answer every host; switch workers
// answer their owner's and give the others back to a front.
class Worker {
 public:
  // A socket for the other owner goes back to the front it came from or, with `peers`, to
  // one of the other owner's workers.
  Worker(int epoll, int owner, std::vector<int> fronts, std::vector<int> peers = {})
      : epoll_(epoll), owner_(owner), fronts_(std::move(fronts)), peers_(std::move(peers)),
        keep_alive_(response(true, owner)), close_(response(false, owner)) {
    handbacks_.resize(fronts_.size());
    to_peers_.resize(peers_.size());
  }

  void adopt(Passed p, int from_front) {
    int one = 1;
    ::setsockopt(p.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    Client& c = clients_[p.fd];
    c.in = std::move(p.bytes);
    c.from_front = from_front;
    epoll_event ev{EPOLLIN, {.u64 = static_cast<uint64_t>(p.fd)}};
    if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, p.fd, &ev) < 0) die("epoll_ctl add");
    serve(p.fd);
  }

  void on_client(int fd, uint32_t events) {
    auto it = clients_.find(fd);
    if (it == clients_.end()) return;
    if (events & EPOLLOUT) {
      write(fd);
      return;
    }
    char buf[16384];
    ssize_t got = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (got <= 0) {
      if (got < 0 && (errno == EAGAIN || errno == EINTR)) return;
      drop(fd);
      return;
    }
    it->second.in.append(buf, static_cast<size_t>(got));
    serve(fd);
  }

  void end_of_turn() {
    for (size_t f = 0; f < fronts_.size(); ++f)
      if (!handbacks_[f].empty()) send_batch(fronts_[f], handbacks_[f]);
    for (size_t k = 0; k < peers_.size(); ++k)
      if (!to_peers_[k].empty()) send_batch(peers_[k], to_peers_[k]);
  }

 private:
  void serve(int fd) {
    Client& c = clients_[fd];
    size_t end;
    while (!c.close_after && (end = c.in.find("\r\n\r\n")) != std::string::npos) {
      std::string_view head(c.in.data(), end + 4);
      if (owner_ >= 0 && owner_of(head) != owner_) {
        ::epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
        auto& queue = peers_.empty() ? handbacks_[static_cast<size_t>(c.from_front)] : to_peers_[next_peer_++ % peers_.size()];
        queue.push_back(Passed{fd, std::move(c.in)});
        clients_.erase(fd);
        return;
      }
      c.close_after = head.find("\r\nConnection: close") != std::string_view::npos;
      c.out += c.close_after ? close_ : keep_alive_;
      c.in.erase(0, end + 4);
    }
    write(fd);
  }

  void write(int fd) {
    Client& c = clients_[fd];
    while (c.sent < c.out.size()) {
      ssize_t n = ::send(fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) {
          epoll_event ev{EPOLLOUT, {.u64 = static_cast<uint64_t>(fd)}};
          ::epoll_ctl(epoll_, EPOLL_CTL_MOD, fd, &ev);
          return;
        }
        drop(fd);
        return;
      }
      c.sent += static_cast<size_t>(n);
    }
    c.out.clear();
    c.sent = 0;
    if (c.close_after) {
      drop(fd);
      return;
    }
    epoll_event ev{EPOLLIN, {.u64 = static_cast<uint64_t>(fd)}};
    ::epoll_ctl(epoll_, EPOLL_CTL_MOD, fd, &ev);
  }

  void drop(int fd) {
    ::epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    clients_.erase(fd);
  }

  int epoll_;
  int owner_;  // -1: answers every host
  std::vector<int> fronts_;
  std::vector<int> peers_;
  std::string keep_alive_, close_;
  std::vector<std::vector<Passed>> handbacks_;
  std::vector<std::vector<Passed>> to_peers_;
  size_t next_peer_ = 0;
  std::unordered_map<int, Client> clients_;
};

int make_epoll() {
  int e = ::epoll_create1(EPOLL_CLOEXEC);
  if (e < 0) die("epoll_create1");
  return e;
}

void watch(int epoll, int fd, uint64_t tag) {
  epoll_event ev{EPOLLIN, {.u64 = tag}};
  if (::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
}

// Accepts every connection waiting on the listener.
template <typename F>
void accept_all(int lfd, F&& each) {
  int fd;
  while ((fd = ::accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) each(fd);
}

[[noreturn]] void run_direct(int lfd) {
  int ep = make_epoll();
  watch(ep, lfd, kListenerTag);
  Worker w(ep, -1, {});
  epoll_event evs[64];
  for (;;) {
    int n = ::epoll_wait(ep, evs, 64, -1);
    for (int i = 0; i < n; ++i) {
      if (evs[i].data.u64 == kListenerTag) {
        accept_all(lfd, [&](int fd) { w.adopt(Passed{fd, {}}, 0); });
      } else {
        w.on_client(static_cast<int>(evs[i].data.u64), evs[i].events);
      }
    }
  }
}

[[noreturn]] void run_switch_worker(int owner, const std::vector<int>& fronts, const std::vector<int>& peers) {
  int ep = make_epoll();
  std::vector<int> inbound = fronts;
  inbound.insert(inbound.end(), peers.begin(), peers.end());
  for (size_t f = 0; f < inbound.size(); ++f) watch(ep, inbound[f], kChannelTag | f);
  Worker w(ep, owner, fronts, peers);
  epoll_event evs[64];
  for (;;) {
    int n = ::epoll_wait(ep, evs, 64, -1);
    for (int i = 0; i < n; ++i) {
      uint64_t tag = evs[i].data.u64;
      if (tag & kChannelTag) {
        auto f = static_cast<size_t>(tag & 0xffff);
        int origin = f < fronts.size() ? static_cast<int>(f) : 0;
        if (!receive_batch(inbound[f], [&](Passed p) { w.adopt(std::move(p), origin); })) std::exit(0);
      } else {
        w.on_client(static_cast<int>(tag), evs[i].events);
      }
    }
    w.end_of_turn();
  }
}

// workers[o] = this front's channels to owner o's workers.
[[noreturn]] void run_front(int lfd, const std::vector<std::vector<int>>& workers) {
  int ep = make_epoll();
  watch(ep, lfd, kListenerTag);
  std::vector<int> all;
  for (const auto& ws : workers) all.insert(all.end(), ws.begin(), ws.end());
  for (size_t i = 0; i < all.size(); ++i) watch(ep, all[i], kChannelTag | i);
  std::vector<std::vector<Passed>> out(all.size());
  std::vector<size_t> next(workers.size(), 0);
  std::unordered_map<int, std::string> reading;
  auto route = [&](Passed p) {
    size_t o = static_cast<size_t>(owner_of(p.bytes));
    size_t w = next[o]++ % workers[o].size();
    size_t index = 0;
    for (size_t k = 0; k < o; ++k) index += workers[k].size();
    out[index + w].push_back(std::move(p));
  };
  epoll_event evs[64];
  for (;;) {
    int n = ::epoll_wait(ep, evs, 64, -1);
    for (int i = 0; i < n; ++i) {
      uint64_t tag = evs[i].data.u64;
      if (tag == kListenerTag) {
        accept_all(lfd, [&](int fd) {
          reading[fd];
          watch(ep, fd, static_cast<uint64_t>(fd));
        });
      } else if (tag & kChannelTag) {
        if (!receive_batch(all[tag & 0xffff], route)) std::exit(0);
      } else {
        int fd = static_cast<int>(tag);
        char buf[16384];
        ssize_t got = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        std::string& in = reading[fd];
        if (got > 0) in.append(buf, static_cast<size_t>(got));
        if (got <= 0 || in.find("\r\n\r\n") != std::string::npos) {
          // The socket leaves this front's epoll set before it leaves the process: a passed
          // socket stays open elsewhere, and epoll would go on reporting it here.
          ::epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
          if (got <= 0) {
            ::close(fd);
          } else {
            route(Passed{fd, std::move(in)});
          }
          reading.erase(fd);
        }
      }
    }
    for (size_t k = 0; k < out.size(); ++k)
      if (!out[k].empty()) send_batch(all[k], out[k]);
  }
}

// FastCGI name-value pair with one-byte or four-byte lengths (FastCGI 1.0, 3.4).
void fcgi_pair(std::string& out, std::string_view name, std::string_view value) {
  for (size_t len : {name.size(), value.size()}) {
    if (len < 128) {
      out += static_cast<char>(len);
    } else {
      out += static_cast<char>(0x80 | (len >> 24));
      out += static_cast<char>((len >> 16) & 0xff);
      out += static_cast<char>((len >> 8) & 0xff);
      out += static_cast<char>(len & 0xff);
    }
  }
  out += name;
  out += value;
}

void fcgi_record(std::string& out, uint8_t type, std::string_view content) {
  const char header[8] = {1, static_cast<char>(type), 0, 1, static_cast<char>(content.size() >> 8),
                          static_cast<char>(content.size() & 0xff), 0, 0};
  out.append(header, 8);
  out += content;
}

// BEGIN_REQUEST (responder, no keep-conn), the PARAMS of a GET, empty PARAMS and STDIN.
std::string fcgi_request(const std::string& script) {
  std::string params;
  fcgi_pair(params, "SCRIPT_FILENAME", script);
  fcgi_pair(params, "SCRIPT_NAME", "/hello.php");
  fcgi_pair(params, "REQUEST_URI", "/hello.php");
  fcgi_pair(params, "DOCUMENT_URI", "/hello.php");
  fcgi_pair(params, "REQUEST_METHOD", "GET");
  fcgi_pair(params, "QUERY_STRING", "");
  fcgi_pair(params, "SERVER_PROTOCOL", "HTTP/1.1");
  fcgi_pair(params, "GATEWAY_INTERFACE", "CGI/1.1");
  fcgi_pair(params, "SERVER_SOFTWARE", "floor");
  fcgi_pair(params, "SERVER_NAME", "alice.test");
  fcgi_pair(params, "SERVER_ADDR", "127.0.0.1");
  fcgi_pair(params, "SERVER_PORT", "80");
  fcgi_pair(params, "REMOTE_ADDR", "127.0.0.1");
  fcgi_pair(params, "REMOTE_PORT", "40000");
  fcgi_pair(params, "HTTP_HOST", "alice.test");
  std::string r;
  fcgi_record(r, 1, std::string_view("\0\1\0\0\0\0\0\0", 8));
  fcgi_record(r, 4, params);
  fcgi_record(r, 4, {});
  fcgi_record(r, 5, {});
  return r;
}

struct FpmClient {
  std::string in;
  int backend = -1;
  std::string from_backend;
  bool keep_alive = true;
};

[[noreturn]] void run_fpm(int lfd, const std::string& socket_path, const std::string& script) {
  constexpr uint64_t kBackendTag = 4ull << 40;
  const std::string request = fcgi_request(script);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket_path.c_str());
  int ep = make_epoll();
  watch(ep, lfd, kListenerTag);
  std::unordered_map<int, FpmClient> clients;
  std::unordered_map<int, int> client_of;  // backend fd -> client fd
  auto drop = [&](int fd) {
    FpmClient& c = clients[fd];
    if (c.backend >= 0) {
      client_of.erase(c.backend);
      ::close(c.backend);
    }
    ::close(fd);
    clients.erase(fd);
  };
  auto start = [&](int fd) {
    FpmClient& c = clients[fd];
    size_t end = c.in.find("\r\n\r\n");
    if (c.backend >= 0 || end == std::string::npos) return;
    c.keep_alive = std::string_view(c.in.data(), end).find("\r\nConnection: close") == std::string_view::npos;
    c.in.erase(0, end + 4);
    int b = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (b < 0 || ::connect(b, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 ||
        ::send(b, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
      if (b >= 0) ::close(b);
      drop(fd);
      return;
    }
    c.backend = b;
    c.from_backend.clear();
    client_of[b] = fd;
    watch(ep, b, kBackendTag | static_cast<uint64_t>(b));
  };
  // The answer is complete at END_REQUEST: STDOUT's content becomes the HTTP response.
  auto on_backend = [&](int b) {
    int fd = client_of[b];
    FpmClient& c = clients[fd];
    char buf[16384];
    ssize_t got = ::recv(b, buf, sizeof buf, MSG_DONTWAIT);
    if (got < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (got <= 0) {
      drop(fd);
      return;
    }
    c.from_backend.append(buf, static_cast<size_t>(got));
    std::string out;
    size_t at = 0;
    bool ended = false;
    const std::string& r = c.from_backend;
    while (r.size() - at >= 8) {
      size_t len = (static_cast<uint8_t>(r[at + 4]) << 8) | static_cast<uint8_t>(r[at + 5]);
      size_t pad = static_cast<uint8_t>(r[at + 6]);
      if (r.size() - at < 8 + len + pad) break;
      if (r[at + 1] == 6) out.append(r, at + 8, len);
      if (r[at + 1] == 3) ended = true;
      at += 8 + len + pad;
    }
    if (!ended) return;
    client_of.erase(b);
    ::close(b);
    c.backend = -1;
    size_t split = out.find("\r\n\r\n");
    std::string headers = split == std::string::npos ? std::string() : out.substr(0, split + 2);
    std::string body = split == std::string::npos ? out : out.substr(split + 4);
    std::string resp = "HTTP/1.1 200 OK\r\nServer: floor\r\n" + headers + "Content-Length: " +
                       std::to_string(body.size()) + (c.keep_alive ? "\r\nConnection: keep-alive\r\n\r\n" : "\r\nConnection: close\r\n\r\n") + body;
    if (::send(fd, resp.data(), resp.size(), MSG_DONTWAIT | MSG_NOSIGNAL) != static_cast<ssize_t>(resp.size()) || !c.keep_alive) {
      drop(fd);
      return;
    }
    start(fd);
  };
  epoll_event evs[64];
  for (;;) {
    int n = ::epoll_wait(ep, evs, 64, -1);
    for (int i = 0; i < n; ++i) {
      uint64_t tag = evs[i].data.u64;
      if (tag == kListenerTag) {
        accept_all(lfd, [&](int fd) {
          int one = 1;
          ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          clients[fd];
          watch(ep, fd, static_cast<uint64_t>(fd));
        });
      } else if (tag & kBackendTag) {
        int b = static_cast<int>(tag & 0xffffffff);
        if (client_of.count(b)) on_backend(b);
      } else {
        int fd = static_cast<int>(tag);
        if (!clients.count(fd)) continue;
        char buf[16384];
        ssize_t got = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (got <= 0) {
          drop(fd);
          continue;
        }
        clients[fd].in.append(buf, static_cast<size_t>(got));
        start(fd);
      }
    }
  }
}

std::vector<pid_t> children;

void stop_children(int) {
  for (pid_t p : children) ::kill(p, SIGKILL);
}

template <typename F>
void spawn(F&& body) {
  pid_t p = ::fork();
  if (p < 0) die("fork");
  if (p == 0) {
    drop_root();
    body();
    std::_Exit(0);
  }
  children.push_back(p);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: floor_server PORT direct [PROCS] | PORT switch|switch-peer [FRONTS] [WORKERS]\n"
                         "       floor_server PORT fpm SOCKET SCRIPT UID GID [PROCS]\n");
    return 2;
  }
  auto port = static_cast<uint16_t>(std::atoi(argv[1]));
  std::string mode = argv[2];
  long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
  size_t a = argc > 3 ? static_cast<size_t>(std::atoi(argv[3])) : static_cast<size_t>(cores);
  size_t b = argc > 4 ? static_cast<size_t>(std::atoi(argv[4])) : static_cast<size_t>(cores);
  ::signal(SIGPIPE, SIG_IGN);
  if (mode == "direct") {
    for (size_t i = 0; i < a; ++i) {
      int lfd = listener(port);
      spawn([lfd] { run_direct(lfd); });
      ::close(lfd);
    }
  } else if (mode == "fpm" && argc >= 7) {
    std::string socket_path = argv[3], script = argv[4];
    g_uid = static_cast<uid_t>(std::atoi(argv[5]));
    g_gid = static_cast<gid_t>(std::atoi(argv[6]));
    size_t procs = argc > 7 ? static_cast<size_t>(std::atoi(argv[7])) : static_cast<size_t>(cores);
    for (size_t i = 0; i < procs; ++i) {
      int lfd = listener(port);
      spawn([lfd, socket_path, script] { run_fpm(lfd, socket_path, script); });
      ::close(lfd);
    }
  } else if (mode == "switch" || mode == "switch-peer") {
    size_t fronts = a, per_owner = b;
    auto pair = [] {
      int sv[2];
      if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) die("socketpair");
      int size = 1 << 20;
      ::setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
      ::setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
      return std::pair<int, int>(sv[0], sv[1]);
    };
    // peer[i][j]: worker (0, i)'s end (first) and worker (1, j)'s end (second).
    std::vector<std::vector<std::pair<int, int>>> peer(mode == "switch-peer" ? per_owner : 0);
    for (auto& row : peer)
      for (size_t j = 0; j < per_owner; ++j) row.push_back(pair());
    // channel[f][o][w]: front f's end (first) and worker (o, w)'s end (second).
    std::vector<std::vector<std::vector<std::pair<int, int>>>> channel(fronts);
    for (auto& byowner : channel) {
      byowner.resize(2);
      for (auto& ws : byowner)
        for (size_t w = 0; w < per_owner; ++w) ws.push_back(pair());
    }
    for (int o = 0; o < 2; ++o)
      for (size_t w = 0; w < per_owner; ++w) {
        std::vector<int> mine;
        for (size_t f = 0; f < fronts; ++f) mine.push_back(channel[f][static_cast<size_t>(o)][w].second);
        std::vector<int> peers;
        for (size_t k = 0; k < peer.size(); ++k) peers.push_back(o == 0 ? peer[w][k].first : peer[k][w].second);
        spawn([o, mine, peers] { run_switch_worker(o, mine, peers); });
      }
    for (size_t f = 0; f < fronts; ++f) {
      int lfd = listener(port);
      std::vector<std::vector<int>> ws(2);
      for (int o = 0; o < 2; ++o)
        for (auto& [front_end, worker_end] : channel[f][static_cast<size_t>(o)]) ws[static_cast<size_t>(o)].push_back(front_end);
      spawn([lfd, ws] { run_front(lfd, ws); });
      ::close(lfd);
    }
    for (auto& byowner : channel)
      for (auto& ws : byowner)
        for (auto& [x, y] : ws) {
          ::close(x);
          ::close(y);
        }
    for (auto& row : peer)
      for (auto& [x, y] : row) {
        ::close(x);
        ::close(y);
      }
  } else {
    std::fprintf(stderr, "floor_server: unknown mode %s\n", mode.c_str());
    return 2;
  }
  ::signal(SIGTERM, stop_children);
  ::signal(SIGINT, stop_children);
  while (::wait(nullptr) > 0 || errno == EINTR) {
  }
  return 0;
}
