#include "detect_decode.h"

#include "parallel_jobs.h"

#include <algorithm>

#include "fast_exp.h"

namespace vqi::infer::onednn {

namespace {

constexpr int64_t kLanes = 16;  // anchors per chunk (one AVX-512 vector of floats)

// The element (c, p0) of `in`; element (c, p0 + b) is b * in.ps further.
inline const float* Row(const DecodeInput& in, int64_t c, int64_t p0) {
  return in.data + (c / in.cb) * in.hw * in.cb + c % in.cb + p0 * in.ps;
}

// 1 / (1 + e^-x) through e^-|x| (never overflows), as the Sigmoid it replaces within rounding.
inline float Sigmoid(float x) {
  const float e = FastExp(x >= 0.f ? -x : x);
  return x >= 0.f ? 1.f / (1.f + e) : e / (1.f + e);
}

// Anchors [p0, p0 + n) of one level, whose first anchor is `a0` of the whole output. The box
// logits are first gathered into [4 * reg_max][kLanes] so every loop after runs over the lanes.
VQI_CPU_CLONES void Chunk(const DecodeParams& p, const DecodeInput& box, const DecodeInput& cls,
                          int64_t p0, int64_t n, int64_t a0, float* out) {
  const int64_t r = p.reg_max, na = p.anchors;
  float buf[4 * kMaxDecodeBins][kLanes];
  float dist[4][kLanes];
  for (int64_t c = 0; c < 4 * r; ++c) {
    const float* s = Row(box, c, p0);
    for (int64_t b = 0; b < kLanes; ++b) buf[c][b] = b < n ? s[b * box.ps] : 0.f;
  }
  for (int64_t j = 0; j < 4; ++j) {
    float mx[kLanes], sum[kLanes], acc[kLanes];
    for (int64_t b = 0; b < kLanes; ++b) {
      mx[b] = buf[j * r][b];
      sum[b] = 0.f;
      acc[b] = 0.f;
    }
    for (int64_t i = 1; i < r; ++i)
      for (int64_t b = 0; b < kLanes; ++b) mx[b] = std::max(mx[b], buf[j * r + i][b]);
    for (int64_t i = 0; i < r; ++i) {
      const float w = p.dfl_w[i];
#pragma omp simd
      for (int64_t b = 0; b < kLanes; ++b) {
        const float e = FastExp(buf[j * r + i][b] - mx[b]);
        sum[b] += e;
        acc[b] += e * w;
      }
    }
    for (int64_t b = 0; b < kLanes; ++b) dist[j][b] = acc[b] / sum[b];
  }
  for (int64_t b = 0; b < n; ++b) {
    const int64_t a = a0 + b;
    const float ax = p.anchor[a], ay = p.anchor[na + a];
    const float x1 = ax - dist[0][b], y1 = ay - dist[1][b];
    const float x2 = ax + dist[2][b], y2 = ay + dist[3][b];
    out[a] = ((x1 + x2) * p.half[a]) * p.stride[a];
    out[na + a] = ((y1 + y2) * p.half[na + a]) * p.stride[na + a];
    out[2 * na + a] = (x2 - x1) * p.stride[2 * na + a];
    out[3 * na + a] = (y2 - y1) * p.stride[3 * na + a];
  }
  for (int64_t c = 0; c < p.nc; ++c) {
    float* o = out + (4 + c) * na + a0;
    const float* s = Row(cls, c, p0);
#pragma omp simd
    for (int64_t b = 0; b < n; ++b) o[b] = Sigmoid(s[b * cls.ps]);
  }
}

void Job(const DecodeParams& p, const DecodeInput* box, const DecodeInput* cls, size_t levels,
         int64_t job, float* out) {
  int64_t a0 = 0;
  for (size_t k = 0; k < levels; ++k) {
    const int64_t chunks = (box[k].hw + kLanes - 1) / kLanes;
    if (job < chunks) {
      const int64_t p0 = job * kLanes;
      Chunk(p, box[k], cls[k], p0, std::min(kLanes, box[k].hw - p0), a0 + p0, out);
      return;
    }
    job -= chunks;
    a0 += box[k].hw;
  }
}

}  // namespace

void DetectDecode(const DecodeParams& p, const DecodeInput* box, const DecodeInput* cls,
                  size_t levels, float* out) {
  int64_t jobs = 0;
  for (size_t k = 0; k < levels; ++k) jobs += (box[k].hw + kLanes - 1) / kLanes;
  ParallelJobs(jobs, [&](int64_t job) { Job(p, box, cls, levels, job, out); });
}

}  // namespace vqi::infer::onednn
