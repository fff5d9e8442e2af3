#include "softmax_strided.h"

#include "parallel_jobs.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "fast_exp.h"

namespace vqi::infer::onednn {

namespace {

constexpr int64_t kChunk = 256;

VQI_CPU_CLONES void Chunk(const float* in, float* out, int64_t len, int64_t inner, int64_t chunks,
                          int64_t job) {
  const int64_t a = job / chunks, b0 = (job % chunks) * kChunk;
  const int64_t n = std::min(kChunk, inner - b0);
  const float* p = in + a * len * inner + b0;
  float* q = out + a * len * inner + b0;
  float mx[kChunk], sum[kChunk];
  for (int64_t b = 0; b < n; ++b) {
    mx[b] = p[b];
    sum[b] = 0.f;
  }
  for (int64_t k = 1; k < len; ++k)
    for (int64_t b = 0; b < n; ++b) mx[b] = std::max(mx[b], p[k * inner + b]);
  for (int64_t k = 0; k < len; ++k)
#pragma omp simd
    for (int64_t b = 0; b < n; ++b) {
      float e = FastExp(p[k * inner + b] - mx[b]);
      q[k * inner + b] = e;
      sum[b] += e;
    }
  for (int64_t b = 0; b < n; ++b) sum[b] = 1.f / sum[b];
  for (int64_t k = 0; k < len; ++k)
    for (int64_t b = 0; b < n; ++b) q[k * inner + b] *= sum[b];
}

}  // namespace

void SoftmaxStrided(const float* in, float* out, int64_t outer, int64_t len, int64_t inner) {
  const int64_t chunks = (inner + kChunk - 1) / kChunk, jobs = outer * chunks;
  ParallelJobs(jobs, [&](int64_t job) { Chunk(in, out, len, inner, chunks, job); });
}

}  // namespace vqi::infer::onednn
