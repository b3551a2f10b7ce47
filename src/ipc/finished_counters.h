// How many of the connections a front handed to a worker the worker has finished: one
// counter per front in a page the worker writes and the fronts read. The fronts balance
// a pool on "handed - finished" per worker; reading it from memory costs no message,
// no syscall and no wake-up per connection, where a report per ended connection cost
// the worker a sendmsg and the front a wake-up and a recvmsg.
//
// The worker creates the memfd and seals its size, so a front that maps it can't be made
// to fault by a worker shrinking it (FinishedCounterView::map checks the seals). What a
// worker writes there moves only its own pool's balancing: the front clamps the count.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/result.h"
#include "common/unique_fd.h"

namespace itkd {

// The worker's side: one slot per front.
class FinishedCounterPage {
 public:
  static Result<FinishedCounterPage> create(size_t fronts);

  FinishedCounterPage() = default;
  ~FinishedCounterPage();
  FinishedCounterPage(FinishedCounterPage&& other) noexcept;
  FinishedCounterPage& operator=(FinishedCounterPage&& other) noexcept;
  FinishedCounterPage(const FinishedCounterPage&) = delete;
  FinishedCounterPage& operator=(const FinishedCounterPage&) = delete;

  int fd() const { return fd_.get(); }
  // A new channel to that front: it counts from zero.
  void reset(size_t front);
  // One more of that front's connections finished (closed or handed back).
  void add(size_t front);

 private:
  UniqueFd fd_;
  void* base_ = nullptr;
  size_t bytes_ = 0;
  size_t fronts_ = 0;
};

// A front's side: its own slot, read-only.
class FinishedCounterView {
 public:
  // Refuses an fd that isn't a size-sealed memfd large enough for the slot.
  static Result<FinishedCounterView> map(int fd, size_t front);

  FinishedCounterView() = default;
  ~FinishedCounterView();
  FinishedCounterView(FinishedCounterView&& other) noexcept;
  FinishedCounterView& operator=(FinishedCounterView&& other) noexcept;
  FinishedCounterView(const FinishedCounterView&) = delete;
  FinishedCounterView& operator=(const FinishedCounterView&) = delete;

  bool mapped() const { return base_ != nullptr; }
  uint64_t finished() const;

 private:
  void* base_ = nullptr;
  size_t bytes_ = 0;
  size_t offset_ = 0;
};

}  // namespace itkd
