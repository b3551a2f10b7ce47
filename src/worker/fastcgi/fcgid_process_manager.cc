#include "worker/fastcgi/fcgid_process_manager.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "worker/static/static_handler.h"

namespace itkd {

namespace {

constexpr int kListenBacklog = 16;
constexpr uint64_t kIdleCheckMs = 1000;

std::vector<std::string> split_command(const std::string& cmd) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < cmd.size()) {
    while (i < cmd.size() && (cmd[i] == ' ' || cmd[i] == '\t')) ++i;
    size_t end = cmd.find_first_of(" \t", i);
    if (end == std::string::npos) end = cmd.size();
    if (end > i) out.push_back(cmd.substr(i, end - i));
    i = end;
  }
  return out;
}

}  // namespace

std::string FcgidClass::key() const {
  // Processes are interchangeable only if everything they start with is the same. The
  // working directory is left out: a wrapper (php-cgi) changes into each script's
  // directory itself, and a script that is its own program is already its own class.
  std::string k = command + '\n';
  for (const std::string& a : extra_args) k += a + '\n';
  k += std::to_string(settings.max_requests_per_process) + '\n';
  for (const auto& [n, v] : settings.initial_env) k += n + '=' + v + '\n';
  for (const ResourceLimit* l : {&limits.cpu_s, &limits.mem_bytes, &limits.nproc}) {
    k += l->set ? std::to_string(l->soft) + ':' + (l->hard ? std::to_string(*l->hard) : "-") : "-";
    k += '\n';
  }
  return k;
}

FcgidClass fcgid_class_for(const VirtualHost& vhost, const std::string& wrapper,
                           const std::string& script_filename, const ErrorLog& error_log) {
  FcgidClass c;
  c.command = wrapper.empty() ? script_filename : wrapper;
  size_t slash = script_filename.rfind('/');
  c.working_directory = slash == std::string::npos ? "." : slash == 0 ? "/" : script_filename.substr(0, slash);
  c.settings = vhost.fcgid;
  c.limits = vhost.script_limits;
  c.error_log = &error_log;
  // Scripts of directories with different php_value settings get different processes.
  if (is_php_cgi_command(c.command)) c.extra_args = php_cgi_ini_args(php_ini_for_directory(vhost, c.working_directory));
  return c;
}

// --- FcgidLease ---

FcgidLease::FcgidLease(FcgidLease&& o) noexcept
    : manager_(std::exchange(o.manager_, nullptr)),
      process_id_(o.process_id_),
      socket_path_(std::move(o.socket_path_)),
      pid_(o.pid_),
      clean_(o.clean_) {}

FcgidLease& FcgidLease::operator=(FcgidLease&& o) noexcept {
  if (this != &o) {
    release();
    manager_ = std::exchange(o.manager_, nullptr);
    process_id_ = o.process_id_;
    socket_path_ = std::move(o.socket_path_);
    pid_ = o.pid_;
    clean_ = o.clean_;
  }
  return *this;
}

FcgidLease::~FcgidLease() { release(); }

void FcgidLease::release() {
  if (!manager_) return;
  std::exchange(manager_, nullptr)->release(process_id_, clean_);
}

UniqueFd FcgidLease::take_connection(bool* watched) {
  *watched = false;
  if (!manager_) return {};
  auto* p = manager_->find(process_id_);
  if (!p || !p->connection) return {};
  *watched = std::exchange(p->connection_watched, false);
  return std::move(p->connection);
}

void FcgidLease::keep_connection(UniqueFd fd, bool watched) {
  auto* p = manager_ && clean_ ? manager_->find(process_id_) : nullptr;
  if (!p) {
    if (watched && manager_) manager_->loop_.remove(fd.get());
    return;
  }
  manager_->drop_connection(*p);
  p->connection = std::move(fd);
  if (watched) {
    uint64_t id = process_id_;
    FcgidProcessManager* m = manager_;
    p->connection_watched = m->loop_.rebind(p->connection.get(), [m, id](uint32_t) { m->on_idle_connection(id); });
  }
}

// --- FcgidProcessManager ---

FcgidProcessManager::FcgidProcessManager(EventLoop& loop, unsigned pool_workers)
    : loop_(loop), pool_workers_(pool_workers ? pool_workers : 1) {}

unsigned FcgidProcessManager::max_processes(const FcgidSettings& s) const {
  unsigned max = s.max_processes_per_class ? s.max_processes_per_class : 1;
  return std::max(1u, max / pool_workers_);
}

unsigned FcgidProcessManager::min_processes(const FcgidSettings& s) const {
  return s.min_processes_per_class / pool_workers_;
}

FcgidProcessManager::~FcgidProcessManager() {
  if (dispatch_scheduled_) loop_.cancel_timer(dispatch_timer_);
  if (idle_timer_armed_) loop_.cancel_timer(idle_timer_);
  while (!processes_.empty()) remove(processes_.begin()->first);
  if (!directory_.empty()) ::rmdir(directory_.c_str());
}

Result<void> FcgidProcessManager::ensure_directory() {
  if (!directory_.empty()) return ok();
  // Private to the worker's uid (mkdtemp makes it 0700): no other tenant can reach the
  // sockets, whatever their own mode.
  char tmpl[] = "/tmp/itkd-fcgid-XXXXXX";
  if (!::mkdtemp(tmpl)) return Error{errno_message("mkdtemp /tmp/itkd-fcgid-XXXXXX for FastCGI sockets")};
  directory_ = tmpl;
  return ok();
}

Result<FcgidProcessManager::Process*> FcgidProcessManager::spawn(const FcgidClass& cls) {
  if (auto d = ensure_directory(); !d) return d.error();
  auto argv = split_command(cls.command);
  if (argv.empty()) return Error{"FastCGI program: empty command"};
  argv.insert(argv.end(), cls.extra_args.begin(), cls.extra_args.end());
  uint64_t id = next_id_++;
  std::string path = directory_ + "/" + std::to_string(id) + ".sock";
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return Error{"FastCGI socket path too long: " + path};
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listener) return Error{errno_message("socket for FastCGI program " + argv[0])};
  ::unlink(path.c_str());
  if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener.get(), kListenBacklog) != 0) {
    return Error{errno_message("bind/listen " + path + " for FastCGI program " + argv[0])};
  }
  UniqueFd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!devnull) return Error{errno_message("open /dev/null")};

  SpawnOptions opts;
  opts.argv = argv;
  opts.working_directory = cls.working_directory;
  opts.limits = cls.limits;
  // fd 0 is the listening socket (FCGI_LISTENSOCK_FILENO): how php-cgi and libfcgi
  // programs know they run under a FastCGI process manager.
  opts.inherit = {listener.get(), devnull.get(), -1};
  bool have_path = false, have_max = false;
  for (const auto& [n, v] : cls.settings.initial_env) {
    opts.env.push_back(n + "=" + v);
    have_path |= n == "PATH";
    have_max |= n == "PHP_FCGI_MAX_REQUESTS";
  }
  if (!have_path) opts.env.push_back("PATH=/usr/local/bin:/usr/bin:/bin");
  // php-cgi exits after this many requests (0 = never); the manager counts too.
  if (!have_max) {
    opts.env.push_back("PHP_FCGI_MAX_REQUESTS=" + std::to_string(cls.settings.max_requests_per_process));
  }
  auto proc = ScriptProcess::spawn(opts);
  if (!proc) {
    ::unlink(path.c_str());
    return Error{"FastCGI program " + cls.command + ": " + proc.error().message};
  }
  // Our copy of the listener closes here: if the program dies, connects are refused
  // instead of hanging in a backlog nobody accepts from.
  listener.reset();

  auto p = std::make_unique<Process>();
  p->id = id;
  p->class_key = cls.key();
  p->proc = std::move(*proc);
  p->socket_path = path;
  p->idle_since_ms = loop_.now_ms();
  if (cls.error_log) {
    p->stderr_log = std::make_unique<ScriptStderr>(*cls.error_log, "fcgid", "", argv[0]);
  }
  Process* raw = p.get();
  processes_.emplace(id, std::move(p));
  auto added = loop_.add(raw->proc.pidfd(), EPOLLIN, [this, id](uint32_t) { on_exit(id); });
  if (added) {
    added = loop_.add(raw->proc.stderr_pipe().get(), EPOLLIN, [this, id](uint32_t) { on_stderr(id); });
  }
  if (!added) {
    remove(id);
    return Error{"FastCGI program " + cls.command + ": " + added.error().message};
  }
  arm_idle_check();
  return raw;
}

FcgidLease FcgidProcessManager::lease(Process& p) {
  p.busy = true;
  FcgidLease l;
  l.manager_ = this;
  l.process_id_ = p.id;
  l.socket_path_ = p.socket_path;
  l.pid_ = p.proc.pid();
  return l;
}

uint64_t FcgidProcessManager::acquire(const FcgidClass& cls, Ready ready) {
  std::string key = cls.key();
  ClassInfo& info = classes_[key];
  info.cls = cls;
  for (auto& [id, p] : processes_) {
    if (p->class_key == key && !p->busy && p->proc.running()) {
      ready(lease(*p));
      return 0;
    }
  }
  if (process_count(key) < max_processes(cls.settings)) {
    auto p = spawn(cls);
    if (!p) ready(p.error());
    else ready(lease(**p));
    return 0;
  }
  uint64_t ticket = next_ticket_++;
  info.waiters.push_back({ticket, cls, std::move(ready)});
  return ticket;
}

void FcgidProcessManager::cancel(uint64_t ticket) {
  if (ticket == 0) return;
  for (auto& [key, info] : classes_) {
    info.waiters.remove_if([&](const Waiter& w) { return w.ticket == ticket; });
  }
}

size_t FcgidProcessManager::process_count(const std::string& class_key) const {
  size_t n = 0;
  for (const auto& [id, p] : processes_) n += p->class_key == class_key;
  return n;
}

FcgidProcessManager::Process* FcgidProcessManager::find(uint64_t id) {
  auto it = processes_.find(id);
  return it == processes_.end() ? nullptr : it->second.get();
}

void FcgidProcessManager::release(uint64_t id, bool clean) {
  Process* p = find(id);
  if (!p) return;
  p->busy = false;
  p->requests++;
  p->idle_since_ms = loop_.now_ms();
  const ClassInfo& info = classes_[p->class_key];
  unsigned max_requests = info.cls.settings.max_requests_per_process;
  // A request that did not end cleanly may have left the process mid-protocol.
  if (!clean || (max_requests && p->requests >= max_requests)) remove(id);
  schedule_dispatch();
}

// An idle kept connection became readable: the process closed it (or broke protocol).
// Either way it can't carry the next request; that one connects afresh.
void FcgidProcessManager::on_idle_connection(uint64_t id) {
  if (Process* p = find(id)) drop_connection(*p);
}

void FcgidProcessManager::drop_connection(Process& p) {
  if (p.connection_watched) loop_.remove(p.connection.get());
  p.connection_watched = false;
  p.connection.reset();
}

void FcgidProcessManager::remove(uint64_t id) {
  auto it = processes_.find(id);
  if (it == processes_.end()) return;
  Process& p = *it->second;
  drop_connection(p);
  loop_.remove(p.proc.pidfd());
  if (p.proc.stderr_pipe()) loop_.remove(p.proc.stderr_pipe().get());
  if (p.stderr_log) p.stderr_log->flush();
  ::unlink(p.socket_path.c_str());
  processes_.erase(it);  // ScriptProcess kills the group and reaps
}

void FcgidProcessManager::on_exit(uint64_t id) {
  Process* p = find(id);
  if (!p) return;
  auto status = p->proc.try_reap();
  on_stderr(id);
  auto it = classes_.find(p->class_key);
  if (status && it != classes_.end() && it->second.cls.error_log) {
    it->second.cls.error_log->log(
        p->busy ? LogLevel::Error : LogLevel::Info, "fcgid", "",
        "FastCGI process " + std::to_string(p->proc.pid()) + " (" + it->second.cls.command +
            ") " + describe_wait_status(*status) + (p->busy ? " while serving a request" : ""));
  }
  remove(id);
  // Its replacement starts when a request needs it (at once if one is waiting).
  schedule_dispatch();
}

void FcgidProcessManager::on_stderr(uint64_t id) {
  Process* p = find(id);
  if (!p || !p->proc.stderr_pipe()) return;
  char buf[8192];
  for (int i = 0; i < 16; ++i) {
    ssize_t n = ::read(p->proc.stderr_pipe().get(), buf, sizeof buf);
    if (n > 0) {
      if (p->stderr_log) p->stderr_log->feed(std::string_view(buf, static_cast<size_t>(n)));
      continue;
    }
    if (n < 0 && (errno == EINTR)) continue;
    if (n < 0 && errno == EAGAIN) return;
    loop_.remove(p->proc.stderr_pipe().get());
    p->proc.stderr_pipe().reset();
    if (p->stderr_log) p->stderr_log->flush();
    return;
  }
}

void FcgidProcessManager::schedule_dispatch() {
  // Waiters are served from the loop, never from inside a lease's destructor (which
  // runs inside another request's teardown).
  if (dispatch_scheduled_) return;
  bool any = false;
  for (const auto& [key, info] : classes_) any |= !info.waiters.empty();
  if (!any) return;
  dispatch_scheduled_ = true;
  dispatch_timer_ = loop_.add_timer(0, [this] {
    dispatch_scheduled_ = false;
    dispatch_waiters();
  });
}

void FcgidProcessManager::dispatch_waiters() {
  bool progress = true;
  while (progress) {
    progress = false;
    for (auto& [key, info] : classes_) {
      if (info.waiters.empty()) continue;
      Process* free = nullptr;
      for (auto& [id, p] : processes_) {
        if (p->class_key == key && !p->busy && p->proc.running()) {
          free = p.get();
          break;
        }
      }
      Result<Process*> got = free ? Result<Process*>(free) : Result<Process*>(Error{});
      if (!free) {
        if (process_count(key) >= max_processes(info.cls.settings)) continue;
        got = spawn(info.waiters.front().cls);
      }
      Waiter w = std::move(info.waiters.front());
      info.waiters.pop_front();
      // The callback may acquire or cancel: restart the scan afterwards.
      if (!got) w.ready(got.error());
      else w.ready(lease(**got));
      progress = true;
      break;
    }
  }
}

void FcgidProcessManager::arm_idle_check() {
  if (idle_timer_armed_) return;
  idle_timer_armed_ = true;
  idle_timer_ = loop_.add_timer(kIdleCheckMs, [this] {
    idle_timer_armed_ = false;
    idle_check();
  });
}

void FcgidProcessManager::idle_check() {
  uint64_t now = loop_.now_ms();
  std::vector<uint64_t> doomed;
  std::map<std::string, size_t> remaining;
  for (const auto& [id, p] : processes_) remaining[p->class_key]++;
  for (const auto& [id, p] : processes_) {
    if (p->busy) continue;
    const FcgidSettings& s = classes_[p->class_key].cls.settings;
    if (s.idle_timeout_s == 0 || now - p->idle_since_ms < uint64_t{s.idle_timeout_s} * 1000) continue;
    if (remaining[p->class_key] <= min_processes(s)) continue;
    remaining[p->class_key]--;
    doomed.push_back(id);
  }
  for (uint64_t id : doomed) remove(id);
  if (!processes_.empty()) arm_idle_check();
}

}  // namespace itkd
