#include "ipc/finished_counters.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utility>

namespace itkd {

namespace {

// One cache line per front, so two fronts reading don't share a line with each other's slot.
constexpr size_t kSlotBytes = 64;
constexpr unsigned kRequiredSeals = F_SEAL_SHRINK | F_SEAL_SEAL;

size_t page_bytes(size_t fronts) {
  size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  size_t bytes = fronts * kSlotBytes;
  return (bytes + page - 1) / page * page;
}

uint64_t* slot(void* base, size_t front) {
  return reinterpret_cast<uint64_t*>(static_cast<char*>(base) + front * kSlotBytes);
}

}  // namespace

Result<FinishedCounterPage> FinishedCounterPage::create(size_t fronts) {
  if (fronts == 0) fronts = 1;
  FinishedCounterPage page;
  page.fd_ = UniqueFd(::memfd_create("itkd-finished", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!page.fd_) return Error{errno_message("memfd_create(finished counters)")};
  page.bytes_ = page_bytes(fronts);
  if (::ftruncate(page.fd_.get(), static_cast<off_t>(page.bytes_)) != 0)
    return Error{errno_message("ftruncate(finished counters)")};
  if (::fcntl(page.fd_.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
    return Error{errno_message("fcntl(F_ADD_SEALS, finished counters)")};
  void* p = ::mmap(nullptr, page.bytes_, PROT_READ | PROT_WRITE, MAP_SHARED, page.fd_.get(), 0);
  if (p == MAP_FAILED) return Error{errno_message("mmap(finished counters)")};
  page.base_ = p;
  page.fronts_ = fronts;
  return page;
}

FinishedCounterPage::~FinishedCounterPage() {
  if (base_) ::munmap(base_, bytes_);
}

FinishedCounterPage::FinishedCounterPage(FinishedCounterPage&& other) noexcept
    : fd_(std::move(other.fd_)),
      base_(std::exchange(other.base_, nullptr)),
      bytes_(other.bytes_),
      fronts_(other.fronts_) {}

FinishedCounterPage& FinishedCounterPage::operator=(FinishedCounterPage&& other) noexcept {
  if (this != &other) {
    if (base_) ::munmap(base_, bytes_);
    fd_ = std::move(other.fd_);
    base_ = std::exchange(other.base_, nullptr);
    bytes_ = other.bytes_;
    fronts_ = other.fronts_;
  }
  return *this;
}

void FinishedCounterPage::reset(size_t front) {
  if (base_ && front < fronts_) __atomic_store_n(slot(base_, front), 0, __ATOMIC_RELEASE);
}

void FinishedCounterPage::add(size_t front) {
  // Only this worker writes the slot: a load and a store, no locked instruction.
  if (!base_ || front >= fronts_) return;
  uint64_t* s = slot(base_, front);
  __atomic_store_n(s, __atomic_load_n(s, __ATOMIC_RELAXED) + 1, __ATOMIC_RELEASE);
}

Result<FinishedCounterView> FinishedCounterView::map(int fd, size_t front) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Error{errno_message("fstat(finished counters)")};
  size_t need = (front + 1) * kSlotBytes;
  if (!S_ISREG(st.st_mode) || st.st_size < 0 || static_cast<size_t>(st.st_size) < need)
    return Error{"finished counters: not a memfd of at least " + std::to_string(need) + " bytes"};
  int seals = ::fcntl(fd, F_GET_SEALS);
  if (seals < 0 || (static_cast<unsigned>(seals) & kRequiredSeals) != kRequiredSeals)
    return Error{"finished counters: the memfd's size is not sealed"};
  FinishedCounterView view;
  view.bytes_ = static_cast<size_t>(st.st_size);
  void* p = ::mmap(nullptr, view.bytes_, PROT_READ, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return Error{errno_message("mmap(finished counters)")};
  view.base_ = p;
  view.offset_ = front * kSlotBytes;
  return view;
}

FinishedCounterView::~FinishedCounterView() {
  if (base_) ::munmap(base_, bytes_);
}

FinishedCounterView::FinishedCounterView(FinishedCounterView&& other) noexcept
    : base_(std::exchange(other.base_, nullptr)), bytes_(other.bytes_), offset_(other.offset_) {}

FinishedCounterView& FinishedCounterView::operator=(FinishedCounterView&& other) noexcept {
  if (this != &other) {
    if (base_) ::munmap(base_, bytes_);
    base_ = std::exchange(other.base_, nullptr);
    bytes_ = other.bytes_;
    offset_ = other.offset_;
  }
  return *this;
}

uint64_t FinishedCounterView::finished() const {
  if (!base_) return 0;
  return __atomic_load_n(reinterpret_cast<const uint64_t*>(static_cast<const char*>(base_) + offset_),
                         __ATOMIC_ACQUIRE);
}

}  // namespace itkd
