// The front's own bounds, independent of the configuration.
#pragma once

#include <cstddef>
#include <cstdint>

namespace itkd {

// The most bytes of a request head the front buffers (nginx: 4 x 8 KiB; Apache: the
// field limits). Also bounds what one handoff message carries.
inline constexpr size_t kMaxHeadBytes = 64 * 1024;
// Connections a front holds while their heads are being read.
inline constexpr size_t kMaxPendingPerFront = 8192;
// A pool gets another worker when its least busy one already has this many connections.
inline constexpr uint32_t kPoolGrowThreshold = 4;

}  // namespace itkd
