// Starting children clean: spawn our own binary with a role, a fixed fd layout
// (fds[i] becomes 3+i, everything else closed), an empty signal mask and an environment
// that holds nothing of the master's.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/result.h"

namespace itkd {

// Path of the running executable, resolved once at startup (before any chroot).
const std::string& self_executable();
void remember_self_executable();

Result<pid_t> spawn_child(const std::vector<std::string>& argv, const std::vector<int>& fds);

}  // namespace itkd
