#include "worker/access_log_buffer.h"

#include <unistd.h>

#include <cerrno>

namespace itkd {

namespace {

void write_all(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a full disk loses log lines, never requests
    done += static_cast<size_t>(n);
  }
}

}  // namespace

void AccessLogBuffer::append(int fd, std::string_view line) {
  Pending* p = nullptr;
  for (auto& q : pending_)
    if (q.fd == fd) p = &q;
  if (!p) p = &pending_.emplace_back(Pending{fd, {}});
  p->bytes.append(line);
  if (p->bytes.size() >= kFlushBytes) {
    write_all(p->fd, p->bytes);
    p->bytes.clear();
  }
}

void AccessLogBuffer::flush() {
  for (auto& p : pending_) {
    if (p.bytes.empty()) continue;
    write_all(p.fd, p.bytes);
    p.bytes.clear();
  }
}

}  // namespace itkd
