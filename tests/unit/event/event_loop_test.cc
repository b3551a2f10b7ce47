// What handlers may rely on: removing one, even its own fd from inside it, never destroys
// it while it runs, and everything removed is gone once the turn ends.
#include "event/event_loop.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>

namespace itkd {
namespace {

TEST(EventLoop, AHandlerRemovingItsOwnFdLivesUntilTheEndOfTheTurn) {
  EventLoop loop;
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ASSERT_EQ(::write(fds[1], "x", 1), 1);
  auto sentinel = std::make_shared<int>(7);
  std::weak_ptr<int> watch = sentinel;
  bool ran = false;
  bool alive_after_remove = false;
  ASSERT_TRUE(loop.add(fds[0], EPOLLIN, [&, keep = std::move(sentinel)](uint32_t) {
    ran = true;
    loop.remove(fds[0]);
    // Still inside the handler: its captures must be intact.
    alive_after_remove = !watch.expired() && *keep == 7;
  }));
  int turns = 0;
  loop.set_batch_end([&] {
    if (++turns == 1) loop.stop();
  });
  ASSERT_TRUE(loop.run());
  EXPECT_TRUE(ran);
  EXPECT_TRUE(alive_after_remove);
  EXPECT_TRUE(watch.expired()) << "a removed handler outlived its turn";
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(EventLoop, DestroyingARemovedHandlerMayRemoveAnother) {
  EventLoop loop;
  int a[2], b[2];
  ASSERT_EQ(::pipe(a), 0);
  ASSERT_EQ(::pipe(b), 0);
  ASSERT_EQ(::write(a[1], "x", 1), 1);
  bool b_destroyed = false;
  struct OnDestroy {
    std::function<void()> f;
    ~OnDestroy() { if (f) f(); }
  };
  auto b_guard = std::make_shared<OnDestroy>();
  b_guard->f = [&] { b_destroyed = true; };
  ASSERT_TRUE(loop.add(b[0], EPOLLIN, [g = std::move(b_guard)](uint32_t) {}));
  // a's handler, once destroyed, takes b out of the loop.
  auto a_guard = std::make_shared<OnDestroy>();
  a_guard->f = [&] { loop.remove(b[0]); };
  ASSERT_TRUE(loop.add(a[0], EPOLLIN, [&, g = std::move(a_guard)](uint32_t) { loop.remove(a[0]); }));
  loop.set_batch_end([&] { loop.stop(); });
  ASSERT_TRUE(loop.run());
  EXPECT_TRUE(b_destroyed);
  for (int fd : {a[0], a[1], b[0], b[1]}) ::close(fd);
}

TEST(EventLoop, RebindGivesAnFdANewHandlerWithoutReRegistering) {
  EventLoop loop;
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  auto first = std::make_shared<int>(1);
  std::weak_ptr<int> first_alive = first;
  int first_calls = 0, second_calls = 0;
  ASSERT_TRUE(loop.add(fds[0], EPOLLIN, [&, keep = std::move(first)](uint32_t) { ++first_calls; }));
  EXPECT_TRUE(loop.rebind(fds[0], [&](uint32_t) {
    ++second_calls;
    loop.stop();
  }));
  EXPECT_FALSE(loop.rebind(fds[1], [](uint32_t) {}));  // never registered
  ASSERT_EQ(::write(fds[1], "x", 1), 1);
  ASSERT_TRUE(loop.run());
  EXPECT_EQ(first_calls, 0);
  EXPECT_EQ(second_calls, 1);
  EXPECT_TRUE(first_alive.expired()) << "the replaced handler outlived the turn";
  loop.remove(fds[0]);
  ::close(fds[0]);
  ::close(fds[1]);
}

}  // namespace
}  // namespace itkd
