#include "sandbox/enter_sandbox.h"

#include <signal.h>
#include <sys/signalfd.h>

namespace itkd {

Result<UniqueFd> enter_sandbox(const Identity& identity, SeccompProfile profile, const SeccompProgram* compiled) {
  if (auto r = drop_privileges(identity); !r) return r.error();
  if (auto r = harden_process(); !r) return r.error();
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGQUIT);
  ::sigprocmask(SIG_BLOCK, &mask, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGHUP, SIG_IGN);
  ::signal(SIGUSR1, SIG_IGN);
  UniqueFd signals(::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!signals) return Error{errno_message("signalfd")};
  if (auto r = compiled ? load_seccomp(*compiled) : install_seccomp(profile); !r) return r.error();
  return signals;
}

}  // namespace itkd
