// Connection counts per vhost, shared by every front of a generation through a memfd the
// master creates: MaxClientsVHost is a server-wide limit, not a per-front one. Each front
// also keeps its own row, so when a front dies the master can take exactly its
// connections back out of the totals.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/result.h"
#include "common/unique_fd.h"

namespace itkd {

class VhostCounters {
 public:
  static Result<UniqueFd> create_memfd(size_t fronts, size_t vhosts);
  static Result<VhostCounters> map(int fd, size_t fronts, size_t vhosts);

  VhostCounters() = default;
  ~VhostCounters();
  VhostCounters(VhostCounters&& other) noexcept;
  VhostCounters& operator=(VhostCounters&& other) noexcept;
  VhostCounters(const VhostCounters&) = delete;
  VhostCounters& operator=(const VhostCounters&) = delete;

  // Counts a new connection for the vhost unless that would exceed `max` (0 = no limit).
  bool try_acquire(size_t front, size_t vhost, uint32_t max);
  void release(size_t front, size_t vhost);
  uint32_t total(size_t vhost) const;
  // The front died: remove its connections from the totals and clear its row.
  void reset_front(size_t front);

 private:
  uint32_t* totals() const { return base_; }
  uint32_t* row(size_t front) const { return base_ + vhosts_ * (1 + front); }

  uint32_t* base_ = nullptr;
  size_t bytes_ = 0;
  size_t fronts_ = 0;
  size_t vhosts_ = 0;
};

}  // namespace itkd
