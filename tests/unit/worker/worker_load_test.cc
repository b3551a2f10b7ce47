// The worker's saturation signal: busy share per 100 ms window, with hysteresis.
#include <gtest/gtest.h>

#include "worker/worker_load.h"

namespace itkd {
namespace {

constexpr uint64_t kMs = 1'000'000;

TEST(WorkerLoad, ReportsSaturationOnlyWhenAWindowWasBusy) {
  WorkerLoad load;
  EXPECT_EQ(load.update(0, 0), std::nullopt);          // starts the first window
  EXPECT_EQ(load.update(50 * kMs, 0), std::nullopt);   // window not over yet
  // 100 ms with 10 ms waiting: 90% busy.
  EXPECT_EQ(load.update(100 * kMs, 10 * kMs), std::optional<bool>(true));
  EXPECT_TRUE(load.saturated());
  // Still busy: no new report.
  EXPECT_EQ(load.update(200 * kMs, 20 * kMs), std::nullopt);
}

TEST(WorkerLoad, IdleKeepAliveConnectionsAreNotLoad) {
  WorkerLoad load;
  load.update(0, 0);
  // Mostly waiting (many open connections, few requests): never saturated.
  for (uint64_t t = 1; t <= 10; ++t) EXPECT_EQ(load.update(t * 100 * kMs, t * 95 * kMs), std::nullopt);
  EXPECT_FALSE(load.saturated());
}

TEST(WorkerLoad, HysteresisBetweenSixtyAndEightyFivePercent) {
  WorkerLoad load;
  load.update(0, 0);
  EXPECT_EQ(load.update(100 * kMs, 30 * kMs), std::nullopt);  // 70%: not yet saturated
  EXPECT_EQ(load.update(200 * kMs, 35 * kMs), std::optional<bool>(true));   // 95%
  EXPECT_EQ(load.update(300 * kMs, 65 * kMs), std::nullopt);  // 70%: still saturated
  EXPECT_EQ(load.update(400 * kMs, 115 * kMs), std::optional<bool>(false));  // 50%: room
}

}  // namespace
}  // namespace itkd
