#include "common/result.h"

#include <cerrno>
#include <cstring>

namespace itkd {

std::string errno_message(const std::string& what) { return errno_message(what, errno); }

std::string errno_message(const std::string& what, int err) {
  return what + ": " + std::strerror(err);
}

}  // namespace itkd
