// An open file that more than one owner may send from: a response alone, or a response
// and the worker's open-file cache. Safe to share because every reader passes its own
// offset (sendfile with an offset pointer, pread); the fd closes with its last owner.
#pragma once

#include <memory>
#include <utility>

#include "common/unique_fd.h"

namespace itkd {

class SharedFd {
 public:
  SharedFd() = default;
  explicit SharedFd(UniqueFd fd) : fd_(std::make_shared<UniqueFd>(std::move(fd))) {}
  explicit SharedFd(std::shared_ptr<UniqueFd> fd) : fd_(std::move(fd)) {}

  int get() const { return fd_ ? fd_->get() : -1; }
  bool valid() const { return get() >= 0; }
  explicit operator bool() const { return valid(); }
  void reset() { fd_.reset(); }
  const std::shared_ptr<UniqueFd>& shared() const { return fd_; }

 private:
  std::shared_ptr<UniqueFd> fd_;
};

}  // namespace itkd
