#include "common/batch_scheduling.h"

#include <sched.h>

namespace itkd {

Result<void> use_batch_scheduling() {
  sched_param param{};
  if (::sched_setscheduler(0, SCHED_BATCH, &param) != 0) return Error{errno_message("sched_setscheduler(SCHED_BATCH)")};
  return ok();
}

}  // namespace itkd
