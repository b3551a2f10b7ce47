// The epoll event loop shared by fronts and workers (and the master). One thread, one
// loop; handlers are identified by fd plus a generation so an event for an fd that was
// closed and reused within the same epoll_wait batch is dropped, never misdelivered.
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

namespace itkd {

class EventLoop {
 public:
  using Handler = std::function<void(uint32_t events)>;
  using TimerId = uint64_t;

  EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  Result<void> add(int fd, uint32_t events, Handler handler);
  // Changing the interest set of a registered fd cannot fail in a way we could handle.
  void modify(int fd, uint32_t events);
  // Safe to call from inside any handler, including the fd's own.
  void remove(int fd);
  // For an fd the caller closes right after and never shared with another process:
  // close(2) takes it out of the epoll set, so this skips the epoll_ctl.
  void remove_before_close(int fd);
  // Gives a registered fd a new handler, keeping its registration and interest set: an
  // fd that changes hands (a kept FastCGI connection between requests) costs no
  // epoll_ctl. False if the fd isn't registered.
  bool rebind(int fd, Handler handler);

  // Monotonic milliseconds, read once per loop iteration.
  uint64_t now_ms() const { return now_ms_; }
  TimerId add_timer(uint64_t delay_ms, std::function<void()> callback);
  void cancel_timer(TimerId id);

  // Called after each batch of events and timers: a place to flush what handlers queued
  // (so N events cost one write, not N).
  void set_batch_end(std::function<void()> callback) { batch_end_ = std::move(callback); }

  // Runs until stop(); returns an error only if epoll itself fails.
  Result<void> run();
  void stop() { running_ = false; }

 private:
  struct Slot {
    Handler handler;
    uint32_t generation = 0;
    bool active = false;
  };
  void update_now();
  int next_timeout_ms() const;
  void run_due_timers();

  UniqueFd epoll_;
  std::vector<Slot> slots_;  // indexed by fd
  std::map<std::pair<uint64_t, TimerId>, std::function<void()>> timers_;
  std::map<TimerId, uint64_t> timer_deadlines_;
  TimerId next_timer_ = 1;
  uint64_t now_ms_ = 0;
  bool running_ = false;
  std::function<void()> batch_end_;
  std::vector<Handler> graveyard_;  // removed handlers, destroyed at the end of the turn
};

}  // namespace itkd
