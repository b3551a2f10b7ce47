// What an owner's processes may touch under OwnerConfinement: the paths its vhosts name,
// the system's programs and libraries, and the shared scratch directories.
//
// Read from the configuration, so an admin writes nothing new for an ordinary site: the
// DocumentRoot, Alias and ScriptAlias targets, AuthUserFile files, FcgidWrapper programs,
// the directories PHP settings name (session.save_path, upload_tmp_dir, open_basedir, ...)
// and, for a named user, its home directory if the user owns it. OwnerReadWritePaths and
// OwnerReadOnlyPaths add the rest (a framework's code above its public/ docroot).
#pragma once

#include <string>
#include <vector>

#include "config/server_config.h"

namespace itkd {

struct OwnerPathGrant {
  std::string path;
  bool writable = false;
  bool only_if_owned = false;  // granted only if the owner's uid owns it (home directories)
  std::string reason;          // "DocumentRoot of alice.test", "system": for itkd -t and logs
};

// The pool's grants, the system's first, without duplicates (the first reason is kept).
std::vector<OwnerPathGrant> owner_path_grants(const ServerConfig& config, const Pool& pool);

}  // namespace itkd
