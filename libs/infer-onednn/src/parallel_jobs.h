// Runs job(0..jobs-1) on the calling thread's OpenMP team, statically partitioned. With one
// thread it runs them inline, without entering a parallel region: libgomp allocates a 1-thread
// team on every region otherwise, and the runtime promises no allocation per inference.
#pragma once

#include <omp.h>

#include <cstdint>

namespace vqi::infer::onednn {

template <class Job>
void ParallelJobs(int64_t jobs, const Job& job) {
  if (omp_get_max_threads() == 1) {
    for (int64_t j = 0; j < jobs; ++j) job(j);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t j = 0; j < jobs; ++j) job(j);
}

}  // namespace vqi::infer::onednn
