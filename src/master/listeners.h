// Binding the configured Listen addresses (root may bind ports below 1024; the children
// only ever receive the bound sockets).
#pragma once

#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"
#include "config/server_config.h"

namespace itkd {

// One listening socket per ServerConfig::listeners entry, in order. Sockets already bound
// for the same address in `previous` (a running generation) are reused, so a reload
// never closes a port.
struct BoundListener {
  std::string host;
  uint16_t port = 0;
  UniqueFd fd;
};
Result<std::vector<BoundListener>> bind_listeners(const ServerConfig& config,
                                                  std::vector<BoundListener>* previous);

}  // namespace itkd
