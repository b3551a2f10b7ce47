// Reading a file already opened (and fstat'ed) by the caller, whole: the worker reads
// tenant files (.htpasswd, .htaccess) through fds it opened as the owner.
#pragma once

#include <cstddef>
#include <string>

namespace itkd {

// Up to `size` bytes from `fd`, fewer if it ends sooner (a file shrinking under us) or a
// read fails; EINTR is retried.
std::string read_up_to(int fd, size_t size);

}  // namespace itkd
