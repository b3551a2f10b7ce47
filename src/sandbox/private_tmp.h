// OwnerPrivateTmp: an owner's processes see <OwnerTmpDirectory>/<uid> as /tmp, in a
// mount namespace of their own, as systemd's PrivateTmp does for a service. /tmp is the
// one place every owner may write (uploads, sessions, caches, sockets): shared, a file
// one tenant leaves there with a loose mode is another's to read, and a predictable name
// is another's to plant first.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/result.h"

namespace itkd {

// Must run as root, before the privilege drop (the worker's first sandbox step).
// `base` must be a directory owned by root that nobody else can write: then only root
// can replace <base>/<uid>, which is created 0700 for uid/gid if missing and must be a
// directory owned by uid. Mounted nosuid, nodev; mounts made outside later still
// propagate into the namespace (slave), none made inside leak out.
Result<void> enter_private_tmp(const std::string& base, uid_t uid, gid_t gid);

// The master's check when the configuration is loaded: creates `base` (0711, root) and
// its missing parents (0755), and refuses one someone else could write.
Result<void> prepare_private_tmp_base(const std::string& base);

}  // namespace itkd
