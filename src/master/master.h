// The master: root, small, boring. Parses the configuration, binds every Listen, opens
// the log files, starts the fronts, starts workers when a front asks for a pool, reaps
// and replaces children, and handles SIGHUP (graceful reload), SIGUSR1 (reopen logs)
// and SIGTERM. It never reads a byte from a client.
#pragma once

#include <string>
#include <vector>

namespace itkd {

struct MasterOptions {
  std::string config_file;
  std::vector<std::string> defines;
};

// `itkd -t`: parse, resolve, print the description. Returns the process exit code.
int check_config(const MasterOptions& options);
// `itkd -f FILE`: run until SIGTERM. Returns the process exit code.
int run_master(const MasterOptions& options);

}  // namespace itkd
