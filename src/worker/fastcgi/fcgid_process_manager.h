// mod_fcgid inside the worker: FastCGI programs (php-cgi through FcgidWrapper, or the
// script itself) started on demand, listening on a unix socket in a private 0700
// directory, one request at a time per process, limited per class, retired after
// FcgidMaxRequestsPerProcess, stopped after FcgidIdleTimeout, replaced when they die.
// The worker runs as the owner, so the processes (and PHP's opcache) are the owner's.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"
#include "config/server_config.h"
#include "event/event_loop.h"
#include "log/error_log.h"
#include "worker/cgi/script_process.h"
#include "worker/cgi/script_stderr.h"

namespace itkd {

// One class of processes: the same command for the same vhost settings.
struct FcgidClass {
  std::string command;          // FcgidWrapper command line, or the script path
  // Appended to the command line: php_value & co. as php-cgi's "-d name=value".
  std::vector<std::string> extra_args;
  std::string working_directory;  // where a new process starts: the script's directory
  FcgidSettings settings;
  ScriptLimits limits;
  const ErrorLog* error_log = nullptr;  // the vhost's log for the processes' stderr
  // Key: processes are shared by requests whose class key is equal.
  std::string key() const;
};

// The class for a script HandlerChoice sent to fcgid: `wrapper` (HandlerChoice::wrapper,
// "" = the script is the FastCGI program), the vhost's Fcgid* and RLimit* settings, the
// script's directory, and for a php-cgi wrapper the php_value & co. that apply there;
// stderr to `error_log` (must outlive the manager's processes).
FcgidClass fcgid_class_for(const VirtualHost& vhost, const std::string& wrapper,
                           const std::string& script_filename, const ErrorLog& error_log);

class FcgidProcessManager;

// A process reserved for one request; returned to the manager when destroyed.
class FcgidLease {
 public:
  FcgidLease() = default;
  FcgidLease(FcgidLease&& other) noexcept;
  FcgidLease& operator=(FcgidLease&& other) noexcept;
  FcgidLease(const FcgidLease&) = delete;
  FcgidLease& operator=(const FcgidLease&) = delete;
  ~FcgidLease();

  const std::string& socket_path() const { return socket_path_; }
  pid_t pid() const { return pid_; }
  // The request ended with a clean END_REQUEST: the process may take another.
  void mark_clean() { clean_ = true; }
  // The process's connection kept open (FCGI_KEEP_CONN) by its previous request, if any:
  // a process serves one request at a time, so its connection is never shared. `watched`:
  // it is still registered with the loop (for EPOLLIN), for the taker to rebind().
  UniqueFd take_connection(bool* watched);
  // After a clean END_REQUEST: the connection stays with the process for its next request.
  // `watched`: it is registered with the loop for EPOLLIN and stays so, under the
  // manager's handler, which drops it if the process closes it meanwhile. Keeping the
  // registration saves an epoll_ctl when the request ends and one when the next begins.
  void keep_connection(UniqueFd fd, bool watched);
  explicit operator bool() const { return manager_ != nullptr; }

 private:
  friend class FcgidProcessManager;
  void release();

  FcgidProcessManager* manager_ = nullptr;
  uint64_t process_id_ = 0;
  std::string socket_path_;
  pid_t pid_ = -1;
  bool clean_ = false;
};

class FcgidProcessManager {
 public:
  using Ready = std::function<void(Result<FcgidLease>)>;

  // `pool_workers`: how many workers of the pool may run a manager like this one. Each
  // gets its share of FcgidMaxProcessesPerClass (at least one process) and of
  // FcgidMinProcessesPerClass, so the owner's processes of a class stay within the limit
  // the admin set, as with mod_fcgid's server-wide count.
  explicit FcgidProcessManager(EventLoop& loop, unsigned pool_workers = 1);
  ~FcgidProcessManager();  // kills every process, removes the sockets and the directory
  FcgidProcessManager(const FcgidProcessManager&) = delete;
  FcgidProcessManager& operator=(const FcgidProcessManager&) = delete;

  // Reserves an idle process of the class (starting one if under the limit) and calls
  // `ready` with it, possibly before returning; when the class is at its limit the
  // request waits for a process to come free. Returns a ticket for cancel().
  uint64_t acquire(const FcgidClass& cls, Ready ready);
  // The waiting request went away: `ready` will not be called.
  void cancel(uint64_t ticket);

  size_t process_count(const std::string& class_key) const;
  // This worker's share of the class's FcgidMaxProcessesPerClass / FcgidMinProcessesPerClass.
  unsigned max_processes(const FcgidSettings& settings) const;
  unsigned min_processes(const FcgidSettings& settings) const;
  const std::string& directory() const { return directory_; }

 private:
  friend class FcgidLease;
  struct Process {
    uint64_t id = 0;
    std::string class_key;
    ScriptProcess proc;
    std::string socket_path;
    std::unique_ptr<ScriptStderr> stderr_log;
    bool busy = false;
    unsigned requests = 0;
    uint64_t idle_since_ms = 0;
    UniqueFd connection;  // idle FCGI_KEEP_CONN connection to this process
    bool connection_watched = false;  // registered with the loop, under on_idle_connection
  };
  struct Waiter {
    uint64_t ticket = 0;
    FcgidClass cls;
    Ready ready;
  };
  struct ClassInfo {
    FcgidClass cls;
    std::list<Waiter> waiters;
  };

  Result<void> ensure_directory();
  void on_idle_connection(uint64_t id);
  void drop_connection(Process& p);
  Result<Process*> spawn(const FcgidClass& cls);
  FcgidLease lease(Process& p);
  void release(uint64_t process_id, bool clean);
  void remove(uint64_t process_id);
  void on_exit(uint64_t process_id);
  void on_stderr(uint64_t process_id);
  void dispatch_waiters();
  void schedule_dispatch();
  void arm_idle_check();
  void idle_check();
  Process* find(uint64_t process_id);

  EventLoop& loop_;
  unsigned pool_workers_;
  std::string directory_;
  std::map<uint64_t, std::unique_ptr<Process>> processes_;
  std::map<std::string, ClassInfo> classes_;
  uint64_t next_id_ = 1;
  uint64_t next_ticket_ = 1;
  bool dispatch_scheduled_ = false;
  EventLoop::TimerId dispatch_timer_ = 0;
  bool idle_timer_armed_ = false;
  EventLoop::TimerId idle_timer_ = 0;
};

}  // namespace itkd
