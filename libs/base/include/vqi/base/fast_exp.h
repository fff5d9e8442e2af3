// A vectorizable e^x for hot float loops (the oneDNN backend's DFL softmax and detect decode,
// training's fused BatchNorm + SiLU). std::exp is a scalar libm call that keeps such loops from
// vectorizing without -ffast-math.
#pragma once

#include <cstdint>
#include <cstring>

namespace vqi {

// e^x: Cephes' expf (range reduction by ln 2 in two parts, degree-6 polynomial, 2^n from the
// exponent bits) in plain arithmetic, within 2 ulp of std::exp on [-87, 88]. Arguments below
// -87 give e^-87 (~1.6e-38), above 88 give e^88 (~1.7e38); NaN stays NaN (as std::exp),
// without converting it to an integer.
inline float FastExp(float x) {
  float xc = x > -87.f ? x : -87.f;  // NaN -> -87 here, restored at the end
  xc = xc < 88.f ? xc : 88.f;
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

}  // namespace vqi
