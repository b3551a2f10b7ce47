#include "ipc/vhost_counters.h"

#include <sys/mman.h>
#include <unistd.h>

#include <utility>

namespace itkd {

namespace {
size_t size_for(size_t fronts, size_t vhosts) { return sizeof(uint32_t) * vhosts * (1 + fronts); }
}  // namespace

Result<UniqueFd> VhostCounters::create_memfd(size_t fronts, size_t vhosts) {
  UniqueFd fd(::memfd_create("itkd-vhost-counters", MFD_CLOEXEC));
  if (!fd) return Error{errno_message("memfd_create(vhost counters)")};
  if (::ftruncate(fd.get(), static_cast<off_t>(size_for(fronts, vhosts))) != 0)
    return Error{errno_message("ftruncate(vhost counters)")};
  return fd;
}

Result<VhostCounters> VhostCounters::map(int fd, size_t fronts, size_t vhosts) {
  VhostCounters counters;
  counters.bytes_ = size_for(fronts, vhosts);
  void* p = ::mmap(nullptr, counters.bytes_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return Error{errno_message("mmap(vhost counters)")};
  counters.base_ = static_cast<uint32_t*>(p);
  counters.fronts_ = fronts;
  counters.vhosts_ = vhosts;
  return counters;
}

VhostCounters::~VhostCounters() {
  if (base_) ::munmap(base_, bytes_);
}

VhostCounters::VhostCounters(VhostCounters&& other) noexcept
    : base_(std::exchange(other.base_, nullptr)),
      bytes_(other.bytes_),
      fronts_(other.fronts_),
      vhosts_(other.vhosts_) {}

VhostCounters& VhostCounters::operator=(VhostCounters&& other) noexcept {
  if (this != &other) {
    if (base_) ::munmap(base_, bytes_);
    base_ = std::exchange(other.base_, nullptr);
    bytes_ = other.bytes_;
    fronts_ = other.fronts_;
    vhosts_ = other.vhosts_;
  }
  return *this;
}

bool VhostCounters::try_acquire(size_t front, size_t vhost, uint32_t max) {
  if (!base_ || front >= fronts_ || vhost >= vhosts_) return true;
  uint32_t before = __atomic_fetch_add(&totals()[vhost], 1, __ATOMIC_ACQ_REL);
  if (max && before >= max) {
    __atomic_fetch_sub(&totals()[vhost], 1, __ATOMIC_ACQ_REL);
    return false;
  }
  __atomic_fetch_add(&row(front)[vhost], 1, __ATOMIC_RELAXED);
  return true;
}

void VhostCounters::release(size_t front, size_t vhost) {
  if (!base_ || front >= fronts_ || vhost >= vhosts_) return;
  if (__atomic_load_n(&row(front)[vhost], __ATOMIC_RELAXED) == 0) return;
  __atomic_fetch_sub(&row(front)[vhost], 1, __ATOMIC_RELAXED);
  __atomic_fetch_sub(&totals()[vhost], 1, __ATOMIC_ACQ_REL);
}

uint32_t VhostCounters::total(size_t vhost) const {
  if (!base_ || vhost >= vhosts_) return 0;
  return __atomic_load_n(&totals()[vhost], __ATOMIC_ACQUIRE);
}

void VhostCounters::reset_front(size_t front) {
  if (!base_ || front >= fronts_) return;
  for (size_t v = 0; v < vhosts_; ++v) {
    uint32_t mine = __atomic_exchange_n(&row(front)[v], 0, __ATOMIC_ACQ_REL);
    if (mine) __atomic_fetch_sub(&totals()[v], mine, __ATOMIC_ACQ_REL);
  }
}

}  // namespace itkd
