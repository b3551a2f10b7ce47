// mod_remoteip's RemoteIPHeader, per request: when the connection comes from a listed
// proxy, the client address it wrote into the header (X-Forwarded-For) becomes the one
// logs, `Require ip` and scripts see.
#pragma once

#include <sys/socket.h>

#include <optional>

#include "config/server_config.h"
#include "http/request_head.h"

namespace itkd {

// Walks the header's addresses from the right, as Apache does, while the address they came
// from is a listed proxy; an address a RemoteIPTrustedProxy names that is private
// (10/8, 172.16/12, 192.168/16, 169.254/16, 127/8, IPv6 outside 2000::/3) stops the walk.
// Returns the client (with the connection's port), or nullopt when nothing changes.
std::optional<sockaddr_storage> client_from_proxy_header(const RemoteIpSettings& settings,
                                                         const sockaddr_storage& peer,
                                                         const http::RequestHead& head);

}  // namespace itkd
