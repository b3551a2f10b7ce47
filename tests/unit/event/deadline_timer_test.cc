// DeadlineTimer keeps one loop timer across re-arms; these check what that must not
// change: never early, never after disarm or destruction, and re-armable after expiry.
// Only lower bounds on time are asserted (a timer can't fire before it is due).
#include "event/deadline_timer.h"

#include <gtest/gtest.h>

#include <memory>

namespace itkd {
namespace {

TEST(DeadlineTimer, ExpiresOnceAfterTheDeadline) {
  EventLoop loop;
  int expired = 0;
  uint64_t armed_at = loop.now_ms(), expired_at = 0;
  DeadlineTimer timer(loop, [&] {
    ++expired;
    expired_at = loop.now_ms();
  });
  timer.arm(20);
  loop.add_timer(120, [&] { loop.stop(); });
  ASSERT_TRUE(loop.run());
  EXPECT_EQ(expired, 1);
  EXPECT_GE(expired_at, armed_at + 20);
  EXPECT_FALSE(timer.armed());
}

TEST(DeadlineTimer, ALaterDeadlineReplacesAnEarlierOne) {
  EventLoop loop;
  uint64_t armed_at = loop.now_ms(), expired_at = 0;
  DeadlineTimer timer(loop, [&] {
    expired_at = loop.now_ms();
    loop.stop();
  });
  timer.arm(5);
  timer.arm(60);  // the loop timer set for 5 ms stays and re-arms itself for the rest
  ASSERT_TRUE(loop.run());
  EXPECT_GE(expired_at, armed_at + 60);
}

TEST(DeadlineTimer, DisarmedNeverExpiresAndCanBeArmedAgain) {
  EventLoop loop;
  int expired = 0;
  DeadlineTimer timer(loop, [&] { ++expired; });
  timer.arm(5);
  timer.disarm();
  EXPECT_FALSE(timer.armed());
  loop.add_timer(60, [&] {
    EXPECT_EQ(expired, 0);
    timer.arm(5);
    EXPECT_TRUE(timer.armed());
    loop.add_timer(60, [&] { loop.stop(); });
  });
  ASSERT_TRUE(loop.run());
  EXPECT_EQ(expired, 1);
}

TEST(DeadlineTimer, DestroyedTimerNeverCallsBack) {
  EventLoop loop;
  int expired = 0;
  auto timer = std::make_unique<DeadlineTimer>(loop, [&] { ++expired; });
  timer->arm(5);
  timer.reset();  // under ASan a leftover loop timer would touch freed memory
  loop.add_timer(40, [&] { loop.stop(); });
  ASSERT_TRUE(loop.run());
  EXPECT_EQ(expired, 0);
}

TEST(DeadlineTimer, ExpiryMayDestroyTheTimer) {
  EventLoop loop;
  std::unique_ptr<DeadlineTimer> timer;
  int expired = 0;
  timer = std::make_unique<DeadlineTimer>(loop, [&] {
    ++expired;
    timer.reset();
  });
  timer->arm(5);
  loop.add_timer(40, [&] { loop.stop(); });
  ASSERT_TRUE(loop.run());
  EXPECT_EQ(expired, 1);
  EXPECT_EQ(timer, nullptr);
}

}  // namespace
}  // namespace itkd
