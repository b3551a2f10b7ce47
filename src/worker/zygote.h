// The zygote: one process per configuration generation that has already parsed the
// configuration snapshot and loaded MIME types, and forks each new worker on the master's
// request. A cold owner's first request then waits for a fork and the sandbox, not for an
// exec, dynamic linking and a parse of every vhost (~0.2 s with 10 000 vhosts), and the
// parsed configuration is shared copy-on-write by all the workers forked from it.
//
// It runs as root (a forked worker must still be able to become any pool's owner) but
// never touches the network: it holds the snapshot, the error log, every pool's log
// files and its channel to the master, and reads nothing but the master's messages. Each
// worker is created with CLONE_PARENT, so it is the master's child (the master reaps it
// and checks its messages exactly as for an exec'd worker), keeps only its own pool's
// logs, and drops to the owner before it reads anything of the tenant's.
#pragma once

namespace itkd {

struct ZygoteOptions {
  unsigned fronts = 1;
  // The process's argument area, rewritten in each worker to read like an exec'd
  // worker's command line (`--role=worker --pool=N ...`), so ps and tests see the pool.
  char** argv = nullptr;
  int argc = 0;
};

int run_zygote(const ZygoteOptions& options);

}  // namespace itkd
