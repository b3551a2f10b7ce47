#include "event/deadline_timer.h"

#include <utility>

namespace itkd {

DeadlineTimer::DeadlineTimer(EventLoop& loop, std::function<void()> on_expiry)
    : loop_(loop), on_expiry_(std::move(on_expiry)) {}

DeadlineTimer::~DeadlineTimer() {
  if (timer_) loop_.cancel_timer(timer_);
}

void DeadlineTimer::arm(uint64_t ms) {
  deadline_ms_ = loop_.now_ms() + ms;
  // A timer firing no later than the new deadline can stay: it re-arms for the rest.
  if (timer_ && fires_ms_ <= deadline_ms_) return;
  if (timer_) loop_.cancel_timer(timer_);
  start(ms);
}

void DeadlineTimer::start(uint64_t ms) {
  fires_ms_ = loop_.now_ms() + ms;
  timer_ = loop_.add_timer(ms, [this] {
    timer_ = 0;
    if (deadline_ms_ == kNever) return;
    const uint64_t now = loop_.now_ms();
    if (now < deadline_ms_) {
      start(deadline_ms_ - now);
      return;
    }
    deadline_ms_ = kNever;
    on_expiry_();  // last: it may destroy *this
  });
}

}  // namespace itkd
