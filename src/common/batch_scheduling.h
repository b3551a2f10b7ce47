// Fronts, workers and the programs workers start (CGI scripts, php-cgi) run SCHED_BATCH.
// Each request wakes several of these processes in turn (front, worker, php-cgi); as
// SCHED_OTHER every wake-up preempted whichever of them was running, mid-request. As
// SCHED_BATCH a woken process waits for the running one's time slice to end instead, so
// each runs longer and does more per wake-up; they still get their fair share of the
// CPU (nice values apply), and nothing changes while a core is idle. Measured on 2 cores
// shared with wrk: context switches per new TLS connection 2.6 -> 0.9, keep-alive 1 KiB
// +35% req/s and -27% CPU per request, hello.php via php-cgi +15% req/s.
#pragma once

#include "common/result.h"

namespace itkd {

// For the calling process and, inherited, every process it forks.
Result<void> use_batch_scheduling();

}  // namespace itkd
