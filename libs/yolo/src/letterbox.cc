#include "vqi/yolo/letterbox.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cfloat>
#include <cmath>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define VQI_LETTERBOX_SSE41 1
// An AVX2 copy chosen at load time where the CPU has it (the vertical step vectorizes).
#define VQI_AVX2_CLONE __attribute__((target_clones("avx2", "default")))
#else
#define VQI_AVX2_CLONE
#endif

namespace vqi::yolo {

namespace {

// value / 255 for every byte (the exact quotient, as training has always computed it).
const std::array<float, 256>& Unit() {
  static const std::array<float, 256> kUnit = [] {
    std::array<float, 256> t{};
    for (int i = 0; i < 256; ++i) t[i] = static_cast<float>(i) / 255.0f;
    return t;
  }();
  return kUnit;
}

// OpenCV's fixed-point bilinear weights (INTER_RESIZE_COEF_BITS = 11).
constexpr int kCoefScale = 2048;

int16_t Coef(float f) { return static_cast<int16_t>(std::lrint(f * kCoefScale)); }

// Writes one row of BGR bytes (`n` pixels) as RGB values / 255 into three planes at `at`.
inline void StoreRow(const uint8_t* bgr, int n, float* r, float* g, float* b) {
  const auto& unit = Unit();
  for (int x = 0; x < n; ++x, bgr += 3) {
    b[x] = unit[bgr[0]];
    g[x] = unit[bgr[1]];
    r[x] = unit[bgr[2]];
  }
}

// OpenCV's horizontal step (HResizeLinear): each output pixel's channels from two source
// pixels with 11-bit weights, kept as int (value * 2048).
void HorizontalRow(const uint8_t* __restrict p, const int32_t* __restrict x0,
                   const int32_t* __restrict x1, const int16_t* __restrict a0,
                   const int16_t* __restrict a1, int n, int32_t* __restrict d) {
  for (int dx = 0; dx < n; ++dx) {
    const uint8_t* q0 = p + x0[dx];
    const uint8_t* q1 = p + x1[dx];
    const int w0 = a0[dx], w1 = a1[dx];
    d[3 * dx] = q0[0] * w0 + q1[0] * w1;
    d[3 * dx + 1] = q0[1] * w0 + q1[1] * w1;
    d[3 * dx + 2] = q0[2] * w0 + q1[2] * w1;
  }
}

#ifdef VQI_LETTERBOX_SSE41
// The same for the first `n` outputs, whose two source pixels are adjacent (x1 = x0 + 3) and
// whose 8-byte load stays inside the row: one load, one shuffle into (p0, p1) pairs per
// channel, one multiply-add with (a0, a1). Writes 4 ints per output (the 4th is overwritten
// by the next output; the row has room for one more).
__attribute__((target("sse4.1"))) void HorizontalRowSse41(const uint8_t* __restrict p,
                                                          const int32_t* __restrict x0,
                                                          const int16_t* __restrict a0,
                                                          const int16_t* __restrict a1, int n,
                                                          int32_t* __restrict d) {
  const __m128i pairs = _mm_setr_epi8(0, 3, 1, 4, 2, 5, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  for (int dx = 0; dx < n; ++dx) {
    const __m128i px = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + x0[dx]));
    const __m128i v = _mm_cvtepu8_epi16(_mm_shuffle_epi8(px, pairs));
    const int w =
        (static_cast<int>(static_cast<uint16_t>(a1[dx])) << 16) | static_cast<uint16_t>(a0[dx]);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d + 3 * dx), _mm_madd_epi16(v, _mm_set1_epi32(w)));
  }
}

#endif

std::atomic<bool> g_simd{true};

bool UseSse41() {
#ifdef VQI_LETTERBOX_SSE41
  static const bool kHas = __builtin_cpu_supports("sse4.1");
  return kHas && g_simd.load(std::memory_order_relaxed);
#else
  return false;
#endif
}

// OpenCV's vertical step (VResizeLinearVec_32s8u: the weights applied to the rows >> 4, each
// product >> 16, then rounded >> 2; b0 + b1 = 2048 keeps it in 0..255) fused with the layout:
// value / 255 (computed, equal to the table) into the R, G and B planes.
VQI_AVX2_CLONE void VerticalToPlanes(const int32_t* __restrict h0, const int32_t* __restrict h1,
                                     int b0, int b1, int n, float* __restrict r,
                                     float* __restrict g, float* __restrict b) {
  auto v = [&](int i) {
    return static_cast<float>(std::min(
               ((((h0[i] >> 4) * b0) >> 16) + (((h1[i] >> 4) * b1) >> 16) + 2) >> 2, 255)) /
           255.0f;
  };
  for (int x = 0; x < n; ++x) {
    b[x] = v(3 * x);
    g[x] = v(3 * x + 1);
    r[x] = v(3 * x + 2);
  }
}

// The scratch layout for a resize to `nw` output columns: per column the two source byte
// offsets and weights, and two cached horizontally interpolated source rows.
struct ResizeTables {
  int32_t* x0;
  int32_t* x1;
  int32_t* row[2];
  int16_t* a0;
  int16_t* a1;
  uint8_t* line;  // one resized output row, BGR
};

ResizeTables CarveTables(int nw, std::vector<uint8_t>* scratch) {
  const size_t n = static_cast<size_t>(nw);  // rows: 3 ints per output + 1 (the SSE store)
  const size_t ints = 2 * n + 2 * (3 * n + 1);
  scratch->resize(ints * sizeof(int32_t) + 2 * n * sizeof(int16_t) + 3 * n);
  // vector storage comes from operator new: aligned for int32_t.
  auto* base = reinterpret_cast<int32_t*>(scratch->data());
  ResizeTables t;
  t.x0 = base;
  t.x1 = base + n;
  t.row[0] = base + 2 * n;
  t.row[1] = base + 2 * n + 3 * n + 1;
  t.a0 = reinterpret_cast<int16_t*>(base + ints);
  t.a1 = t.a0 + n;
  t.line = reinterpret_cast<uint8_t*>(t.a1 + n);
  return t;
}

}  // namespace

namespace internal {
void SetLetterboxSimd(bool on) { g_simd.store(on); }
}  // namespace internal

Letterbox PlanLetterbox(int src_w, int src_h, int w, int h) {
  Letterbox lb;
  lb.src_w = src_w;
  lb.src_h = src_h;
  lb.scale = std::min(static_cast<double>(h) / src_h, static_cast<double>(w) / src_w);
  const int nw = static_cast<int>(std::lround(src_w * lb.scale));
  const int nh = static_cast<int>(std::lround(src_h * lb.scale));
  lb.pad_x = static_cast<int>(std::lround((w - nw) / 2.0 - 0.1));
  lb.pad_y = static_cast<int>(std::lround((h - nh) / 2.0 - 0.1));
  return lb;
}

void BgrToTensor(const ImageView& bgr, float* out) {
  const size_t hw = static_cast<size_t>(bgr.width) * bgr.height;
  for (int y = 0; y < bgr.height; ++y) {
    const size_t base = static_cast<size_t>(y) * bgr.width;
    StoreRow(bgr.Row(y), bgr.width, out + base, out + hw + base, out + 2 * hw + base);
  }
}

Letterbox LetterboxToTensor(const ImageView& bgr, int w, int h, float* out,
                            std::vector<uint8_t>* scratch) {
  return LetterboxToTensor(bgr, bgr.width, bgr.height, w, h, out, scratch);
}

Letterbox LetterboxToTensor(const ImageView& pixels, int src_w, int src_h, int w, int h, float* out,
                            std::vector<uint8_t>* scratch) {
  const Letterbox lb = PlanLetterbox(src_w, src_h, w, h);
  const int nw = static_cast<int>(std::lround(src_w * lb.scale));
  const int nh = static_cast<int>(std::lround(src_h * lb.scale));
  const int sw = pixels.width, sh = pixels.height;
  const size_t hw = static_cast<size_t>(w) * h;
  float* r_plane = out;
  float* g_plane = out + hw;
  float* b_plane = out + 2 * hw;
  const float gray = Unit()[114];
  const int top = static_cast<int>(lb.pad_y), left = static_cast<int>(lb.pad_x);
  const int rows = std::min(nh, h - top), cols = std::min(nw, w - left);
  // Padding only (the content is written once below).
  for (float* plane : {r_plane, g_plane, b_plane}) {
    std::fill(plane, plane + static_cast<size_t>(top) * w, gray);
    std::fill(plane + static_cast<size_t>(top + rows) * w, plane + hw, gray);
    for (int y = top; y < top + rows; ++y) {
      float* row = plane + static_cast<size_t>(y) * w;
      std::fill(row, row + left, gray);
      std::fill(row + left + cols, row + w, gray);
    }
  }
  auto planes_at = [&](int y, float** r, float** g, float** b) {
    const size_t base = static_cast<size_t>(y + top) * w + left;
    *r = r_plane + base;
    *g = g_plane + base;
    *b = b_plane + base;
  };
  float *r, *g, *b;
  if (nw == sw && nh == sh) {  // no resize: the pixels are the content
    for (int y = 0; y < rows; ++y) {
      planes_at(y, &r, &g, &b);
      StoreRow(pixels.Row(y), cols, r, g, b);
    }
    return lb;
  }
  // cv::resize(INTER_LINEAR) on 8-bit BGR, bit for bit (OpenCV 4.6's fixed-point arithmetic;
  // an exact 2x reduction is its INTER_AREA shortcut), one output row at a time.
  const double scale_x = 1. / (static_cast<double>(nw) / sw);
  const double scale_y = 1. / (static_cast<double>(nh) / sh);
  const ResizeTables t = CarveTables(nw, scratch);
  uint8_t* line = t.line;
  if (std::abs(scale_x - 2) < DBL_EPSILON && std::abs(scale_y - 2) < DBL_EPSILON) {
    for (int y = 0; y < rows; ++y) {
      const uint8_t* s0 = pixels.Row(2 * y);
      const uint8_t* s1 = pixels.Row(2 * y + 1);
      for (int x = 0; x < cols; ++x)
        for (int c = 0; c < 3; ++c) {
          const int i = 6 * x + c;
          line[3 * x + c] = static_cast<uint8_t>((s0[i] + s0[i + 3] + s1[i] + s1[i + 3] + 2) >> 2);
        }
      planes_at(y, &r, &g, &b);
      StoreRow(line, cols, r, g, b);
    }
    return lb;
  }
  for (int dx = 0; dx < nw; ++dx) {
    float fx = static_cast<float>((dx + 0.5) * scale_x - 0.5);
    int sx = static_cast<int>(std::floor(fx));
    fx -= static_cast<float>(sx);
    if (sx < 0) fx = 0, sx = 0;
    if (sx >= sw - 1) fx = 0, sx = sw - 1;
    t.x0[dx] = 3 * sx;
    t.x1[dx] = 3 * std::min(sx + 1, sw - 1);
    t.a0[dx] = Coef(1.f - fx);
    t.a1[dx] = Coef(fx);
  }
  // The leading outputs whose source pixels are adjacent and readable as 8 bytes.
  int fast = 0;
  while (fast < cols && t.x1[fast] == t.x0[fast] + 3 && t.x0[fast] + 8 <= 3 * sw) ++fast;
  int cached[2] = {-1, -1};  // source row held by t.row[i]
  auto horizontal = [&](int sy) -> const int32_t* {
    for (int i = 0; i < 2; ++i)
      if (cached[i] == sy) return t.row[i];
    // Rows only move down: an empty slot, else the older (upper) row goes.
    const int evict = cached[0] == -1 ? 0 : cached[1] == -1 ? 1 : cached[0] < cached[1] ? 0 : 1;
    const uint8_t* p = pixels.Row(sy);
    int done = 0;
#ifdef VQI_LETTERBOX_SSE41
    if (UseSse41()) {
      HorizontalRowSse41(p, t.x0, t.a0, t.a1, fast, t.row[evict]);
      done = fast;
    }
#endif
    HorizontalRow(p, t.x0 + done, t.x1 + done, t.a0 + done, t.a1 + done, cols - done,
                  t.row[evict] + 3 * done);
    cached[evict] = sy;
    return t.row[evict];
  };
  for (int dy = 0; dy < rows; ++dy) {
    float fy = static_cast<float>((dy + 0.5) * scale_y - 0.5);
    const int sy = static_cast<int>(std::floor(fy));
    fy -= static_cast<float>(sy);
    const int b0 = Coef(1.f - fy), b1 = Coef(fy);
    const int32_t* __restrict h0 = horizontal(std::clamp(sy, 0, sh - 1));
    const int32_t* __restrict h1 = horizontal(std::clamp(sy + 1, 0, sh - 1));
    planes_at(dy, &r, &g, &b);
    VerticalToPlanes(h0, h1, b0, b1, cols, r, g, b);
  }
  return lb;
}

}  // namespace vqi::yolo
