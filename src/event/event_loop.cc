#include "event/event_loop.h"

#include <time.h>

#include <cerrno>

namespace itkd {

EventLoop::EventLoop() : epoll_(::epoll_create1(EPOLL_CLOEXEC)) { update_now(); }

void EventLoop::update_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  now_ms_ = static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

Result<void> EventLoop::add(int fd, uint32_t events, Handler handler) {
  if (!epoll_) return Error{errno_message("epoll_create1")};
  if (fd < 0) return Error{"EventLoop::add: invalid fd"};
  if (static_cast<size_t>(fd) >= slots_.size()) slots_.resize(static_cast<size_t>(fd) + 64);
  Slot& slot = slots_[static_cast<size_t>(fd)];
  slot.generation++;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = (static_cast<uint64_t>(slot.generation) << 32) | static_cast<uint32_t>(fd);
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) return Error{errno_message("epoll_ctl(ADD)")};
  slot.handler = std::move(handler);
  slot.active = true;
  return ok();
}

void EventLoop::modify(int fd, uint32_t events) {
  if (fd < 0 || static_cast<size_t>(fd) >= slots_.size() || !slots_[static_cast<size_t>(fd)].active) return;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = (static_cast<uint64_t>(slots_[static_cast<size_t>(fd)].generation) << 32) |
                static_cast<uint32_t>(fd);
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev);
}

void EventLoop::remove(int fd) {
  if (fd < 0 || static_cast<size_t>(fd) >= slots_.size()) return;
  if (slots_[static_cast<size_t>(fd)].active) ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  remove_before_close(fd);
}

void EventLoop::remove_before_close(int fd) {
  if (fd < 0 || static_cast<size_t>(fd) >= slots_.size()) return;
  Slot& slot = slots_[static_cast<size_t>(fd)];
  if (!slot.active) return;
  slot.active = false;
  slot.generation++;
  // The handler may be the one running right now: destroy it at the end of the turn,
  // not here. (A zero-delay timer did this at the cost of a timer and a closure per
  // removal: one per php-fpm request, for its socket.)
  graveyard_.push_back(std::move(slot.handler));
  slot.handler = nullptr;
}

bool EventLoop::rebind(int fd, Handler handler) {
  if (fd < 0 || static_cast<size_t>(fd) >= slots_.size()) return false;
  Slot& slot = slots_[static_cast<size_t>(fd)];
  if (!slot.active) return false;
  // The old handler may be the one running: it goes at the end of the turn.
  graveyard_.push_back(std::move(slot.handler));
  slot.handler = std::move(handler);
  return true;
}

EventLoop::TimerId EventLoop::add_timer(uint64_t delay_ms, std::function<void()> callback) {
  TimerId id = next_timer_++;
  uint64_t deadline = now_ms_ + delay_ms;
  timers_.emplace(std::make_pair(deadline, id), std::move(callback));
  timer_deadlines_.emplace(id, deadline);
  return id;
}

void EventLoop::cancel_timer(TimerId id) {
  auto it = timer_deadlines_.find(id);
  if (it == timer_deadlines_.end()) return;
  timers_.erase(std::make_pair(it->second, id));
  timer_deadlines_.erase(it);
}

int EventLoop::next_timeout_ms() const {
  if (timers_.empty()) return -1;
  uint64_t deadline = timers_.begin()->first.first;
  if (deadline <= now_ms_) return 0;
  uint64_t wait = deadline - now_ms_;
  return wait > 60000 ? 60000 : static_cast<int>(wait);
}

void EventLoop::run_due_timers() {
  while (!timers_.empty() && timers_.begin()->first.first <= now_ms_) {
    auto node = timers_.extract(timers_.begin());
    timer_deadlines_.erase(node.key().second);
    node.mapped()();
  }
}

Result<void> EventLoop::run() {
  running_ = true;
  epoll_event events[128];
  while (running_) {
    int n = ::epoll_wait(epoll_.get(), events, 128, next_timeout_ms());
    update_now();
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error{errno_message("epoll_wait")};
    }
    for (int i = 0; i < n && running_; ++i) {
      uint64_t data = events[i].data.u64;
      auto fd = static_cast<size_t>(data & 0xffffffffu);
      auto generation = static_cast<uint32_t>(data >> 32);
      if (fd >= slots_.size()) continue;
      Slot& slot = slots_[fd];
      if (!slot.active || slot.generation != generation || !slot.handler) continue;
      // Copy: the handler may remove (and so reset) its own slot while running.
      Handler handler = slot.handler;
      handler(events[i].events);
    }
    run_due_timers();
    if (batch_end_) batch_end_();
    // Destroying a handler may remove another: swap until none is left.
    while (!graveyard_.empty()) {
      std::vector<Handler> dead;
      dead.swap(graveyard_);
    }
  }
  return ok();
}

}  // namespace itkd
