// The exported ONNX graph (run by libs/infer's OpenCV backend) against a naive, unfused C++
// forward of the same random-weight checkpoint written straight from the Ultralytics module
// definitions (Conv+BN+SiLU, C2f, SPPF, nearest upsample, Detect with DFL). Checks BatchNorm
// folding, the wiring of all 23 layers and the 4-D decode; tiny seeded inputs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "vqi/base/file.h"
#include "vqi/infer/backend.h"
#include "vqi/infer/opencv.h"
#include "vqi/model/config.h"
#include "vqi/onnx/export.h"
#include "vqi/onnx/weights.h"

namespace vqi {
namespace {

struct Map {  // one image, CHW
  int c = 0, h = 0, w = 0;
  std::vector<float> v;
  Map(int c_, int h_, int w_) : c(c_), h(h_), w(w_), v(static_cast<size_t>(c_ * h_ * w_)) {}
  float& at(int ci, int y, int x) { return v[(static_cast<size_t>(ci) * h + y) * w + x]; }
  float at(int ci, int y, int x) const { return v[(static_cast<size_t>(ci) * h + y) * w + x]; }
};

class Reference {
 public:
  explicit Reference(const model::Checkpoint& ck) : ck_(ck) {}

  const Tensor& W(const std::string& n) const { return ck_.weights.at(n); }

  Map Conv2d(const Map& x, const Tensor& wt, const float* bias, int s) const {
    const int co = static_cast<int>(wt.shape[0]), k = static_cast<int>(wt.shape[2]), p = k / 2;
    Map y(co, (x.h + 2 * p - k) / s + 1, (x.w + 2 * p - k) / s + 1);
    const float* w = wt.f32();
    for (int o = 0; o < co; ++o)
      for (int oy = 0; oy < y.h; ++oy)
        for (int ox = 0; ox < y.w; ++ox) {
          double acc = bias ? bias[o] : 0.0;
          for (int i = 0; i < x.c; ++i)
            for (int ky = 0; ky < k; ++ky)
              for (int kx = 0; kx < k; ++kx) {
                const int iy = oy * s + ky - p, ix = ox * s + kx - p;
                if (iy < 0 || ix < 0 || iy >= x.h || ix >= x.w) continue;
                acc += static_cast<double>(w[((o * x.c + i) * k + ky) * k + kx]) * x.at(i, iy, ix);
              }
          y.at(o, oy, ox) = static_cast<float>(acc);
        }
    return y;
  }

  Map Conv(const Map& x, const std::string& p, int s) const {
    Map y = Conv2d(x, W(p + ".conv.weight"), nullptr, s);
    const float *g = W(p + ".bn.weight").f32(), *b = W(p + ".bn.bias").f32(),
                *m = W(p + ".bn.running_mean").f32(), *var = W(p + ".bn.running_var").f32();
    for (int c = 0; c < y.c; ++c)
      for (int i = 0; i < y.h * y.w; ++i) {
        float& v = y.v[static_cast<size_t>(c * y.h * y.w + i)];
        v = (v - m[c]) / std::sqrt(var[c] + 1e-3f) * g[c] + b[c];
        v = v / (1.f + std::exp(-v));
      }
    return y;
  }

  static Map Cat(const std::vector<Map>& xs) {
    int c = 0;
    for (const Map& x : xs) c += x.c;
    Map y(c, xs[0].h, xs[0].w);
    size_t off = 0;
    for (const Map& x : xs) {
      std::copy(x.v.begin(), x.v.end(), y.v.begin() + static_cast<long>(off));
      off += x.v.size();
    }
    return y;
  }

  static Map Channels(const Map& x, int begin, int end) {
    Map y(end - begin, x.h, x.w);
    std::copy(x.v.begin() + static_cast<long>(begin) * x.h * x.w,
              x.v.begin() + static_cast<long>(end) * x.h * x.w, y.v.begin());
    return y;
  }

  Map C2f(const Map& x, const model::Layer& l, const std::string& p) const {
    const int c = l.c_out / 2;
    Map y = Conv(x, p + ".cv1", 1);
    std::vector<Map> ys = {Channels(y, 0, c), Channels(y, c, 2 * c)};
    for (int j = 0; j < l.n; ++j) {
      const std::string m = p + ".m." + std::to_string(j);
      Map t = Conv(Conv(ys.back(), m + ".cv1", 1), m + ".cv2", 1);
      if (l.shortcut)
        for (size_t i = 0; i < t.v.size(); ++i) t.v[i] += ys.back().v[i];
      ys.push_back(t);
    }
    return Conv(Cat(ys), p + ".cv2", 1);
  }

  static Map MaxPool5(const Map& x) {
    Map y(x.c, x.h, x.w);
    for (int c = 0; c < x.c; ++c)
      for (int oy = 0; oy < x.h; ++oy)
        for (int ox = 0; ox < x.w; ++ox) {
          float m = -INFINITY;
          for (int y0 = std::max(0, oy - 2); y0 <= std::min(x.h - 1, oy + 2); ++y0)
            for (int x0 = std::max(0, ox - 2); x0 <= std::min(x.w - 1, ox + 2); ++x0)
              m = std::max(m, x.at(c, y0, x0));
          y.at(c, oy, ox) = m;
        }
    return y;
  }

  static Map Up2(const Map& x) {
    Map y(x.c, 2 * x.h, 2 * x.w);
    for (int c = 0; c < x.c; ++c)
      for (int oy = 0; oy < y.h; ++oy)
        for (int ox = 0; ox < y.w; ++ox) y.at(c, oy, ox) = x.at(c, oy / 2, ox / 2);
    return y;
  }

  // output0 as [4 + nc][N].
  std::vector<float> Forward(const Map& img) const {
    auto plan = model::Plan(ck_.model);
    std::vector<Map> out;
    std::vector<float> result;
    for (const model::Layer& l : *plan) {
      const std::string p = "model." + std::to_string(l.index);
      auto in = [&](size_t k) -> const Map& {
        return l.from[k] < 0 ? img : out[static_cast<size_t>(l.from[k])];
      };
      switch (l.type) {
        case model::LayerType::kConv: out.push_back(Conv(in(0), p, l.s)); break;
        case model::LayerType::kC2f: out.push_back(C2f(in(0), l, p)); break;
        case model::LayerType::kSPPF: {
          Map a = Conv(in(0), p + ".cv1", 1), b = MaxPool5(a), c = MaxPool5(b), d = MaxPool5(c);
          out.push_back(Conv(Cat({a, b, c, d}), p + ".cv2", 1));
          break;
        }
        case model::LayerType::kUpsample: out.push_back(Up2(in(0))); break;
        case model::LayerType::kConcat: out.push_back(Cat({in(0), in(1)})); break;
        case model::LayerType::kDetect:
          result = Detect({in(0), in(1), in(2)});
          out.push_back(Map(1, 1, 1));
          break;
      }
    }
    return result;
  }

  std::vector<float> Detect(const std::vector<Map>& xs) const {
    const int nc = ck_.model.nc(), rm = ck_.model.reg_max;
    const int64_t n = model::NumAnchors(ck_.model);
    std::vector<float> y(static_cast<size_t>((4 + nc) * n));
    const float* dfl = W("model.22.dfl.conv.weight").f32();
    int64_t a = 0;
    for (size_t i = 0; i < xs.size(); ++i) {
      const std::string b = "model.22.cv2." + std::to_string(i), c = "model.22.cv3." + std::to_string(i);
      Map box = Conv2d(Conv(Conv(xs[i], b + ".0", 1), b + ".1", 1), W(b + ".2.weight"),
                       W(b + ".2.bias").f32(), 1);
      Map cls = Conv2d(Conv(Conv(xs[i], c + ".0", 1), c + ".1", 1), W(c + ".2.weight"),
                       W(c + ".2.bias").f32(), 1);
      const float stride = static_cast<float>(ck_.model.strides[i]);
      for (int r = 0; r < box.h; ++r)
        for (int col = 0; col < box.w; ++col, ++a) {
          float dist[4];
          for (int side = 0; side < 4; ++side) {
            double mx = -INFINITY, sum = 0, acc = 0;
            for (int k = 0; k < rm; ++k) mx = std::max<double>(mx, box.at(side * rm + k, r, col));
            for (int k = 0; k < rm; ++k) {
              const double e = std::exp(box.at(side * rm + k, r, col) - mx);
              sum += e;
              acc += e * dfl[k];
            }
            dist[side] = static_cast<float>(acc / sum);
          }
          const float ax = col + 0.5f, ay = r + 0.5f;
          const float x1 = ax - dist[0], y1 = ay - dist[1], x2 = ax + dist[2], y2 = ay + dist[3];
          y[static_cast<size_t>(a)] = (x1 + x2) / 2 * stride;
          y[static_cast<size_t>(n + a)] = (y1 + y2) / 2 * stride;
          y[static_cast<size_t>(2 * n + a)] = (x2 - x1) * stride;
          y[static_cast<size_t>(3 * n + a)] = (y2 - y1) * stride;
          for (int k = 0; k < nc; ++k)
            y[static_cast<size_t>((4 + k) * n + a)] = 1.f / (1.f + std::exp(-cls.at(k, r, col)));
        }
    }
    return y;
  }

 private:
  const model::Checkpoint& ck_;
};

TEST(OnnxReferenceTest, ExportedGraphMatchesNaiveForward) {
  model::ModelConfig cfg;
  cfg.scale = "t";
  cfg.class_names = {"scratch", "dent", "stain"};
  cfg.input_w = 96;
  cfg.input_h = 64;
  auto ck = onnx::RandomCheckpoint(cfg, 11);
  ASSERT_TRUE(ck.ok());
  auto bytes = onnx::ExportOnnx(*ck, {});
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  const std::string path = ::testing::TempDir() + "ref_" + std::to_string(getpid()) + ".onnx";
  ASSERT_TRUE(WriteFileAtomic(path, *bytes).ok());
  infer::RegisterOpencvBackend();
  auto backend = infer::OpenBackend("opencv", path, {1});
  ASSERT_TRUE(backend.ok()) << backend.status().ToString();

  Map img(3, cfg.input_h, cfg.input_w);
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  for (float& v : img.v) v = u(rng);
  const std::vector<float> want = Reference(*ck).Forward(img);
  std::vector<float> got(want.size());
  ASSERT_TRUE((*backend)->Run(img.v.data(), got.data()).ok());

  const int64_t n = model::NumAnchors(cfg);
  double worst = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double tol = i < static_cast<size_t>(4 * n) ? 1e-3 * std::max(1.0, std::fabs(static_cast<double>(want[i])))
                                                       : 1e-4;
    worst = std::max(worst, std::fabs(static_cast<double>(got[i]) - want[i]) / tol);
    ASSERT_NEAR(got[i], want[i], tol) << "output0 row " << i / n << " anchor " << i % n;
  }
  std::printf("worst |diff| / tolerance: %.3f\n", worst);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace vqi
