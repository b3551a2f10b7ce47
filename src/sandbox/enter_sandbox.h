// The one fixed order every child takes from root to its sandbox, shared by fronts and
// workers: drop privileges (and prove it), no_new_privs + not dumpable, signals handled
// through a signalfd, then the seccomp filter last (it refuses the calls made before it).
#pragma once

#include "common/result.h"
#include "common/unique_fd.h"
#include "sandbox/privileges.h"

namespace itkd {

// Returns a non-blocking signalfd for SIGTERM, SIGINT and SIGQUIT (which are blocked):
// TERM/INT stop now, QUIT stops gracefully (nginx's meaning). SIGPIPE, SIGHUP and SIGUSR1
// are ignored (reload and log reopening are the master's business).
// `compiled`, when given, is `profile` compiled beforehand (see SeccompProgram).
Result<UniqueFd> enter_sandbox(const Identity& identity, SeccompProfile profile,
                               const SeccompProgram* compiled = nullptr);

}  // namespace itkd
