#include "ipc/finished_counters.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace itkd {
namespace {

TEST(FinishedCounters, EachFrontReadsItsOwnSlot) {
  auto page = FinishedCounterPage::create(2);
  ASSERT_TRUE(page) << page.error().message;
  auto front0 = FinishedCounterView::map(page->fd(), 0);
  auto front1 = FinishedCounterView::map(page->fd(), 1);
  ASSERT_TRUE(front0) << front0.error().message;
  ASSERT_TRUE(front1) << front1.error().message;
  EXPECT_EQ(front0->finished(), 0u);
  page->add(0);
  page->add(0);
  page->add(1);
  EXPECT_EQ(front0->finished(), 2u);
  EXPECT_EQ(front1->finished(), 1u);
  page->reset(0);  // a new channel to front 0
  EXPECT_EQ(front0->finished(), 0u);
  EXPECT_EQ(front1->finished(), 1u);
  page->add(5);  // no such front: ignored, nothing written out of bounds
  EXPECT_EQ(front1->finished(), 1u);
}

TEST(FinishedCounters, TheWorkerCannotShrinkThePageUnderTheFront) {
  auto page = FinishedCounterPage::create(1);
  ASSERT_TRUE(page);
  EXPECT_NE(::ftruncate(page->fd(), 0), 0);
  EXPECT_EQ(errno, EPERM);
  EXPECT_NE(::fcntl(page->fd(), F_ADD_SEALS, F_SEAL_WRITE), 0);  // sealed for good
}

TEST(FinishedCounters, FrontRefusesAPageThatCouldShrink) {
  // A worker sending an unsealed memfd could truncate it and make the front fault.
  int fd = ::memfd_create("test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, 4096), 0);
  auto view = FinishedCounterView::map(fd, 0);
  ASSERT_FALSE(view);
  EXPECT_NE(view.error().message.find("not sealed"), std::string::npos) << view.error().message;
  ::close(fd);
}

TEST(FinishedCounters, FrontRefusesAPageTooSmallForItsSlot) {
  int fd = ::memfd_create("test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, 64), 0);
  ASSERT_EQ(::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL), 0);
  EXPECT_TRUE(FinishedCounterView::map(fd, 0));
  auto view = FinishedCounterView::map(fd, 1);  // front 1's slot lies past the end
  ASSERT_FALSE(view);
  EXPECT_NE(view.error().message.find("at least 128 bytes"), std::string::npos) << view.error().message;
  ::close(fd);
}

TEST(FinishedCounters, FrontRefusesSomethingOtherThanAFile) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  EXPECT_FALSE(FinishedCounterView::map(fds[0], 0));
  ::close(fds[0]);
  ::close(fds[1]);
}

}  // namespace
}  // namespace itkd
