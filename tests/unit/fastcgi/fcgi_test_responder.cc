#include "fastcgi/fcgi_test_responder.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "worker/fastcgi/fcgi_record.h"

namespace itkd::test {

namespace {

bool write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// One connection; returns when the peer closes or keep-conn is off.
void serve(int fd, ResponderMode mode) {
  fcgi::RecordDecoder dec;
  std::string params, body;
  bool keep = false;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return;
    dec.append(std::string_view(buf, static_cast<size_t>(n)));
    fcgi::Record r;
    while (dec.next(r) == fcgi::RecordDecoder::Status::Record) {
      if (r.type == fcgi::kBeginRequest) {
        keep = r.content.size() == 8 && (r.content[2] & fcgi::kFlagKeepConn);
        params.clear();
        body.clear();
      } else if (r.type == fcgi::kParams) {
        params += r.content;
      } else if (r.type == fcgi::kStdin && !r.content.empty()) {
        body += r.content;
      } else if (r.type == fcgi::kStdin) {
        if (mode == ResponderMode::CloseEarly) return;
        if (mode == ResponderMode::Silent) {
          ::pause();
          return;
        }
        std::string out;
        if (mode == ResponderMode::Overloaded) {
          fcgi::append_end_request(out, r.request_id, 0, fcgi::kOverloaded);
          write_all(fd, out);
          return;
        }
        auto nv = fcgi::decode_name_values(params);
        std::string script, method;
        for (const auto& [k, v] : *nv) {
          if (k == "SCRIPT_FILENAME") script = v;
          if (k == "REQUEST_METHOD") method = v;
        }
        std::string resp = "Content-Type: text/plain\r\nX-Pid: " + std::to_string(::getpid()) +
                           "\r\n\r\n" + method + " " + script + " body=" + body;
        fcgi::append_stream(out, fcgi::kStderr, r.request_id, "note from the app\n");
        // Split the response over two records, as real backends do.
        fcgi::append_stream(out, fcgi::kStdout, r.request_id, resp.substr(0, 10));
        fcgi::append_stream(out, fcgi::kStdout, r.request_id, resp.substr(10));
        fcgi::append_stream(out, fcgi::kStdout, r.request_id, {});
        fcgi::append_end_request(out, r.request_id, 0, fcgi::kRequestComplete);
        if (!write_all(fd, out) || !keep || mode == ResponderMode::CloseAfterAnswer) return;
      }
    }
  }
}

}  // namespace

void run_responder(int listen_fd, ResponderMode mode) {
  for (;;) {
    int c = ::accept(listen_fd, nullptr, nullptr);
    if (c < 0) continue;
    serve(c, mode);
    ::close(c);
  }
}

pid_t start_responder(const std::string& path, ResponderMode mode) {
  int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  ::unlink(path.c_str());
  if (::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(s, 16) != 0) std::abort();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::signal(SIGPIPE, SIG_IGN);
    run_responder(s, mode);
  }
  ::close(s);
  return pid;
}

pid_t start_tcp_responder(uint16_t& port, ResponderMode mode) {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(s, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(s, 16) != 0 ||
      ::getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::abort();
  }
  port = ntohs(addr.sin_port);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::signal(SIGPIPE, SIG_IGN);
    run_responder(s, mode);
  }
  ::close(s);
  return pid;
}

// Started by FcgidProcessManager as "<this test binary>" with ITKD_TEST_FCGI_APP set: act
// as a FastCGI application on the listening socket at fd 0 (FCGI_LISTENSOCK_FILENO).
namespace {
struct AppMode {
  AppMode() {
    const char* mode = std::getenv("ITKD_TEST_FCGI_APP");
    if (mode) run_responder(0, std::string(mode) == "close-after-answer" ? ResponderMode::CloseAfterAnswer
                                                                          : ResponderMode::Normal);
  }
} app_mode;
}  // namespace

}  // namespace itkd::test
