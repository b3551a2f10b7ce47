#include "common/read_fd.h"

#include <unistd.h>

#include <cerrno>

namespace itkd {

std::string read_up_to(int fd, size_t size) {
  std::string text(size, '\0');
  size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  text.resize(got);
  return text;
}

}  // namespace itkd
