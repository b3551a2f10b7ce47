// itkd: one binary, four roles. Without --role it is the master (root); the master
// re-executes this binary as `--role=front`, `--role=zygote` (which forks workers) and,
// when no zygote is there, `--role=worker` children.
#include <linux/close_range.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "front/front.h"
#include "master/master.h"
#include "worker/worker.h"
#include "worker/zygote.h"

namespace {

constexpr const char* kUsage =
    "Usage: itkd [-f FILE] [-t] [-D NAME]... [-v]\n"
    "  -f FILE   configuration file (default /etc/itkd/itkd.conf); runs in the foreground\n"
    "  -t        check the configuration and print the vhosts, pools and identities\n"
    "  -D NAME   define NAME for <IfDefine NAME>\n"
    "  -v        print the version\n";

bool value_of(std::string_view arg, std::string_view key, unsigned long* out) {
  if (arg.substr(0, key.size()) != key) return false;
  std::string digits(arg.substr(key.size()));
  char* end = nullptr;
  errno = 0;
  *out = std::strtoul(digits.c_str(), &end, 10);
  return !digits.empty() && *end == '\0' && errno == 0;
}

int run_child_role(int argc, char** argv) {
  std::string_view role = argv[1];
  unsigned long v = 0;
  if (role == "--role=front") {
    itkd::FrontOptions options;
    for (int i = 2; i < argc; ++i) {
      if (value_of(argv[i], "--front-index=", &v)) options.index = static_cast<unsigned>(v);
      else if (value_of(argv[i], "--listeners=", &v)) options.listener_count = static_cast<unsigned>(v);
      else if (value_of(argv[i], "--fronts=", &v)) options.front_count = static_cast<unsigned>(v);
      else return 2;
    }
    return itkd::run_front(options);
  }
  if (role == "--role=worker") {
    itkd::WorkerOptions options;
    for (int i = 2; i < argc; ++i) {
      if (value_of(argv[i], "--pool=", &v)) options.pool = static_cast<unsigned>(v);
      else if (value_of(argv[i], "--worker-id=", &v)) options.worker_id = static_cast<uint32_t>(v);
      else if (value_of(argv[i], "--uid=", &v)) options.uid = static_cast<uid_t>(v);
      else if (value_of(argv[i], "--gid=", &v)) options.gid = static_cast<gid_t>(v);
      else if (value_of(argv[i], "--fronts=", &v)) options.fronts = static_cast<unsigned>(v);
      else return 2;
    }
    return itkd::run_worker(options);
  }
  if (role == "--role=zygote") {
    itkd::ZygoteOptions options;
    options.argc = argc;
    options.argv = argv;
    for (int i = 2; i < argc; ++i) {
      if (value_of(argv[i], "--fronts=", &v)) options.fronts = static_cast<unsigned>(v);
      else if (std::string_view(argv[i]).substr(0, 7) != "--room=") return 2;  // room for the workers' titles
    }
    return itkd::run_zygote(options);
  }
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strncmp(argv[1], "--role=", 7) == 0) {
    // Children are started by the master only, with the fixed fd layout.
    if (::getppid() == 1) return 2;
    // The fixed fds were inherited on purpose; nothing this process ever execs gets them.
    ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
    return run_child_role(argc, argv);
  }
  itkd::MasterOptions options;
  options.config_file = "/etc/itkd/itkd.conf";
  bool test_only = false;
  int opt;
  while ((opt = ::getopt(argc, argv, "f:tD:vh")) != -1) {
    switch (opt) {
      case 'f':
        options.config_file = optarg;
        break;
      case 't':
        test_only = true;
        break;
      case 'D':
        options.defines.emplace_back(optarg);
        break;
      case 'v':
        std::printf("itkd 0.1.0 (privilege-separated, per-owner worker pools)\n");
        return 0;
      case 'h':
        std::fputs(kUsage, stdout);
        return 0;
      default:
        std::fputs(kUsage, stderr);
        return 2;
    }
  }
  if (optind != argc) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  return test_only ? itkd::check_config(options) : itkd::run_master(options);
}

#if defined(__SANITIZE_ADDRESS__)
// Workers and fronts are non-dumpable and may not ptrace, which LeakSanitizer's exit-time
// scan needs; the unit tests check leaks, the server binary does not.
extern "C" const char* __asan_default_options() { return "detect_leaks=0"; }
#endif
