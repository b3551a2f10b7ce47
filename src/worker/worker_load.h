// Whether a worker is saturated: the share of wall time its event loop spends working
// rather than waiting in epoll_wait, over windows of 100 ms, with hysteresis so the fronts
// hear about changes and not noise. The fronts keep an owner's new connections on its
// first worker until that worker is saturated, and only then spread them and grow the
// pool: connection counts say nothing about load (idle keep-alive clients cost nothing,
// and on a machine whose cores are already busy a second worker only adds switches).
#pragma once

#include <cstdint>
#include <optional>

namespace itkd {

class WorkerLoad {
 public:
  static constexpr uint64_t kWindowNs = 100'000'000;
  // Busy share at which a worker becomes saturated, and below which it has room again.
  static constexpr uint64_t kSaturatedPercent = 85;
  static constexpr uint64_t kRoomPercent = 60;

  // Called once per loop turn with the loop's clock and its total time in epoll_wait.
  // Returns the new state when a window closed and the state changed.
  std::optional<bool> update(uint64_t now_ns, uint64_t waited_ns) {
    if (!started_) {
      started_ = true;
      window_start_ns_ = now_ns;
      window_waited_ns_ = waited_ns;
      return std::nullopt;
    }
    const uint64_t wall = now_ns - window_start_ns_;
    if (wall < kWindowNs) return std::nullopt;
    const uint64_t waited = waited_ns - window_waited_ns_;
    const uint64_t busy_percent = waited >= wall ? 0 : (wall - waited) * 100 / wall;
    window_start_ns_ = now_ns;
    window_waited_ns_ = waited_ns;
    const bool saturated = saturated_ ? busy_percent >= kRoomPercent : busy_percent >= kSaturatedPercent;
    if (saturated == saturated_) return std::nullopt;
    saturated_ = saturated;
    return saturated_;
  }
  bool saturated() const { return saturated_; }

 private:
  bool started_ = false;
  bool saturated_ = false;
  uint64_t window_start_ns_ = 0;
  uint64_t window_waited_ns_ = 0;
};

}  // namespace itkd
