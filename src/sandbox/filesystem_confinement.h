// Confining a process to the paths its owner may use, with Landlock (Linux 5.13+).
//
// File permissions decide what a uid may open; they can't keep alice's PHP out of bob's
// world-readable docroot (0755 homes are the norm on shared hosts), and a symlink in
// alice's tree to a readable file anywhere is served. Landlock adds a second wall that
// the process builds around itself: after confine_filesystem(), this process and
// everything it starts (CGI, php-cgi) can open, list, execute or change files only
// beneath the granted paths, whatever their modes. Like the uid drop it can't be undone.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "common/result.h"

namespace itkd {

enum class PathAccess {
  ReadOnly,   // read files, list directories, execute programs
  ReadWrite,  // also create, write, truncate, rename and remove
};

struct PathGrant {
  std::string path;  // absolute; a directory grants everything beneath it
  PathAccess access = PathAccess::ReadOnly;
};

// The Landlock ABI version the kernel offers, 0 if it has none (too old, or disabled
// with lsm=). Version 2 adds renames between directories, 3 truncate, 6 the IPC scopes.
int landlock_abi();

struct ConfinementReport {
  int abi = 0;                        // 0: the kernel has no Landlock; nothing was done
  size_t granted = 0;                 // paths that became rules
  // Granted paths left out: they don't exist, can't be reached, or Landlock refused them
  // (then with the reason).
  std::vector<std::string> missing;
};

// Restricts this process for good. Needs no_new_privs (harden_process). Paths are opened
// (O_PATH) by the calling process, so they are resolved with its own rights. From ABI 6,
// also keeps the process from signalling, or connecting to abstract unix sockets of,
// processes outside its domain. On a kernel without Landlock, returns abi 0 and changes
// nothing; any other failure is an error and the caller must not go on.
Result<ConfinementReport> confine_filesystem(std::span<const PathGrant> grants);

}  // namespace itkd
