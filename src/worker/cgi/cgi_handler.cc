#include "worker/cgi/cgi_handler.h"

#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "common/socket_address.h"

namespace itkd {

namespace {
constexpr size_t kReadChunk = 64 * 1024;
constexpr int kReadsPerEvent = 16;  // then let other connections run

std::string directory_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}
}  // namespace

CgiHandler::CgiHandler(const HandlerRequest& request, CgiScript script,
                       std::optional<uint64_t> content_length, ResponseSink& sink)
    : request_(request),
      script_(std::move(script)),
      content_length_(content_length),
      sink_(sink),
      relay_(sink, script_.filename),
      stderr_log_(request.error_log, "cgi", address_text(request.peer), script_.filename) {}

CgiHandler::~CgiHandler() { stop(); }

void CgiHandler::start() {
  SpawnOptions opts;
  opts.argv = {script_.filename};
  opts.env = environment_strings(build_cgi_environment(request_, script_, content_length_));
  opts.working_directory = directory_of(script_.filename);
  opts.limits = request_.vhost.script_limits;
  auto proc = ScriptProcess::spawn(opts);
  if (!proc) {
    stopped_ = true;
    sink_.fail(500, "AH01241: exec of '" + script_.filename + "' failed: " + proc.error().message);
    return;
  }
  process_ = std::move(*proc);
  EventLoop& loop = request_.loop;
  auto registered = loop.add(process_.stdout_pipe().get(), EPOLLIN, [this](uint32_t) { on_stdout(); });
  if (registered) {
    reading_ = true;
    registered = loop.add(process_.stderr_pipe().get(), EPOLLIN, [this](uint32_t) { on_stderr(); });
  }
  if (registered) registered = loop.add(process_.pidfd(), EPOLLIN, [this](uint32_t) { on_exit(); });
  if (registered) {
    registered = loop.add(process_.stdin_pipe().get(), 0, [this](uint32_t ev) { on_stdin_writable(ev); });
  }
  if (!registered) {
    stop();
    sink_.fail(500, "CGI " + script_.filename + ": " + registered.error().message);
    return;
  }
  arm_timer();
  write_body();
}

void CgiHandler::on_request_body(std::string_view data, bool last) {
  if (stdin_dropped_ || stopped_) {
    body_done_ = body_done_ || last;
    return;
  }
  body_.append(data);
  body_done_ = body_done_ || last;
  if (body_.size() >= kMaxPendingBody) body_paused_ = true;
  if (process_.running()) write_body();
}

bool CgiHandler::accepts_body() const {
  return stdin_dropped_ || stopped_ || body_.size() < kMaxPendingBody;
}

void CgiHandler::write_body() {
  UniqueFd& in = process_.stdin_pipe();
  if (!in) return;
  size_t written = 0;
  while (written < body_.size()) {
    ssize_t n = ::write(in.get(), body_.data() + written, body_.size() - written);
    if (n > 0) {
      written += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    // EPIPE: the script does not want (the rest of) the body; that is its business.
    stdin_dropped_ = true;
    body_.clear();
    written = 0;
    close_stdin();
    break;
  }
  body_.erase(0, written);
  if (written > 0) arm_timer();
  if (process_.stdin_pipe()) {
    if (!body_.empty()) {
      request_.loop.modify(in.get(), EPOLLOUT);
    } else if (body_done_) {
      close_stdin();
    } else {
      request_.loop.modify(in.get(), 0);
    }
  }
  if (body_paused_ && (body_.size() < kMaxPendingBody / 2 || stdin_dropped_)) {
    body_paused_ = false;
    sink_.resume_request_body();
  }
}

void CgiHandler::on_stdin_writable(uint32_t events) {
  if ((events & EPOLLERR) && body_.empty()) {
    // The script closed its stdin while we had nothing to write (EPOLLERR is reported
    // even with no events asked for): drop the rest of the body rather than spin.
    stdin_dropped_ = true;
    close_stdin();
    if (body_paused_) {
      body_paused_ = false;
      sink_.resume_request_body();
    }
    return;
  }
  write_body();
}

void CgiHandler::close_stdin() {
  UniqueFd& in = process_.stdin_pipe();
  if (!in) return;
  request_.loop.remove(in.get());
  in.reset();
}

void CgiHandler::on_stdout() {
  if (stopped_) return;
  char buf[kReadChunk];
  for (int i = 0; i < kReadsPerEvent; ++i) {
    if (sink_.backlogged()) {
      // The client is slow: stop reading, the pipe fills and the script waits. Its time
      // is not running while we are the ones not reading.
      // Out of the loop, not just interest 0: a closed pipe reports EPOLLHUP regardless.
      request_.loop.remove(process_.stdout_pipe().get());
      reading_ = false;
      if (timer_armed_) request_.loop.cancel_timer(timer_);
      timer_armed_ = false;
      return;
    }
    ssize_t n = ::read(process_.stdout_pipe().get(), buf, sizeof buf);
    if (n > 0) {
      arm_timer();
      auto alive = guard_.token();
      bool more = relay_.feed(std::string_view(buf, static_cast<size_t>(n)));
      if (!*alive) return;
      if (!more) {
        stop();
        return;
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    // End of output (or a read error, which ends it too).
    stdout_done_ = true;
    on_stderr();  // log what the script said before it went
    stderr_log_.flush();
    stop();
    relay_.finish();
    return;
  }
}

void CgiHandler::on_sink_drained() {
  if (stopped_ || reading_ || stdout_done_) return;
  auto added = request_.loop.add(process_.stdout_pipe().get(), EPOLLIN, [this](uint32_t) { on_stdout(); });
  if (!added) {
    stop();
    sink_.fail(500, "CGI " + script_.filename + ": " + added.error().message);
    return;
  }
  reading_ = true;
  arm_timer();
}

void CgiHandler::on_stderr() {
  UniqueFd& err = process_.stderr_pipe();
  if (!err) return;
  char buf[8192];
  for (int i = 0; i < kReadsPerEvent; ++i) {
    ssize_t n = ::read(err.get(), buf, sizeof buf);
    if (n > 0) {
      stderr_log_.feed(std::string_view(buf, static_cast<size_t>(n)));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    stderr_log_.flush();
    request_.loop.remove(err.get());
    err.reset();
    return;
  }
}

void CgiHandler::on_exit() {
  auto status = process_.try_reap();
  request_.loop.remove(process_.pidfd());
  if (status && WIFSIGNALED(*status)) {
    request_.error_log.log(LogLevel::Error, "cgi", address_text(request_.peer),
                           "CGI script " + script_.filename + " " + describe_wait_status(*status));
  }
  // The response ends with the script's stdout, which a child of it may still hold.
}

void CgiHandler::arm_timer() {
  if (stopped_) return;
  if (timer_armed_) request_.loop.cancel_timer(timer_);
  unsigned seconds = request_.vhost.limits.timeout_s ? request_.vhost.limits.timeout_s : 60;
  timer_ = request_.loop.add_timer(uint64_t{seconds} * 1000, [this] { timed_out(); });
  timer_armed_ = true;
}

void CgiHandler::timed_out() {
  timer_armed_ = false;
  if (stopped_) return;
  std::string why = "AH01220: Timeout waiting for output from CGI script " + script_.filename;
  stop();
  // Before the head this is a 504; after it the sink cuts the response short.
  sink_.fail(504, why);
}

void CgiHandler::stop() {
  if (stopped_) return;
  stopped_ = true;
  EventLoop& loop = request_.loop;
  if (timer_armed_) loop.cancel_timer(timer_);
  timer_armed_ = false;
  for (UniqueFd* fd : {&process_.stdin_pipe(), &process_.stdout_pipe(), &process_.stderr_pipe()}) {
    if (*fd) loop.remove(fd->get());
  }
  if (process_.pidfd() >= 0) loop.remove(process_.pidfd());
  process_.kill_group();
}

}  // namespace itkd
