// A vectorizable e^x for the backend's own loops (the DFL softmax, the fused detect decode).
#pragma once

#include <cstdint>
#include <cstring>

namespace vqi::infer::onednn {

// e^x for x <= 0 (the argument after subtracting the maximum), vectorizable: Cephes' expf
// (range reduction by ln 2 in two parts, degree-6 polynomial, 2^n from the exponent bits),
// within 2 ulp of std::exp; arguments below -87 give e^-87 (~1.6e-38, i.e. 0 after
// normalization to float precision); NaN stays NaN (as std::exp), without converting it to an
// integer. std::exp is a scalar libm call: the loop was 2.4 % of n@640 fp32 and 10 % of
// t@320x224 int8 (the DFL softmax, [1,16,4,A]) before.
inline float ExpNonPositive(float x) {
  const float xc = x > -87.f ? x : -87.f;  // NaN -> -87 here, restored at the end
  const float fn = (xc * 1.44269504088896341f + 12582912.f) - 12582912.f;  // round to nearest
  const float r = xc - fn * 0.693359375f - fn * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.f;
  const int32_t bits = (static_cast<int32_t>(fn) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return x == x ? p * scale : x;
}

// Compiled for AVX-512 and AVX2 too (the library is built for baseline x86-64), chosen at load
// by the CPU (GCC function multi-versioning; other compilers, e.g. the clang fuzz build, get
// the baseline loop).
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define VQI_CPU_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define VQI_CPU_CLONES
#endif

}  // namespace vqi::infer::onednn
