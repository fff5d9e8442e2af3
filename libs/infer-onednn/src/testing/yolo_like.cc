#include "testing/yolo_like.h"

#include <cmath>

#include "testing/onnx_builder.h"

namespace vqi::infer::onednn::testing {

namespace {

class YoloBuilder {
 public:
  YoloBuilder(int64_t opset, uint32_t seed) : b_(opset, seed), opset_(opset) {}

  // Split along channels into the given sizes (attribute before opset 13, input after).
  std::vector<std::string> Split(const std::string& x, const std::vector<int64_t>& sizes) {
    std::vector<std::string> p;
    if (opset_ < 13) {
      p = b_.Op("Split", {x}, static_cast<int>(sizes.size()));
      b_.AttrInts(sizes, "split");
    } else {
      p = b_.Op("Split", {x, b_.Ints(sizes)}, static_cast<int>(sizes.size()));
    }
    b_.AttrInt("axis", 1);
    return p;
  }

  std::string Conv(const std::string& x, int cin, int cout, int k, int s, bool act = true,
                   bool bias = true) {
    float scale = std::sqrt(3.f / static_cast<float>(cin * k * k));
    std::vector<std::string> in = {x, b_.Rand({cout, cin, k, k}, scale)};
    if (bias) in.push_back(b_.Rand({cout}, 0.1f));
    std::string y = b_.Op1("Conv", in);
    b_.AttrInts({k, k}, "kernel_shape")
        .AttrInts({s, s}, "strides")
        .AttrInts({k / 2, k / 2, k / 2, k / 2}, "pads");
    if (!act) return y;
    std::string sg = b_.Op1("Sigmoid", {y});
    return b_.Op1("Mul", {y, sg});
  }

  std::string C2f(const std::string& x, int cin, int cout, int n, bool shortcut) {
    int c = cout / 2;
    std::string y = Conv(x, cin, 2 * c, 1, 1);
    auto parts = Split(y, {c, c});
    std::vector<std::string> cat = {parts[0], parts[1]};
    std::string cur = parts[1];
    for (int i = 0; i < n; ++i) {
      std::string h = Conv(Conv(cur, c, c, 3, 1), c, c, 3, 1);
      cur = shortcut ? b_.Op1("Add", {cur, h}) : h;
      cat.push_back(cur);
    }
    std::string z = b_.Op1("Concat", cat);
    b_.AttrInt("axis", 1);
    return Conv(z, (2 + n) * c, cout, 1, 1);
  }

  std::string Sppf(const std::string& x, int cin, int cout, int k) {
    int c = cin / 2;
    std::string y = Conv(x, cin, c, 1, 1);
    std::vector<std::string> cat = {y};
    for (int i = 0; i < 3; ++i) {
      y = b_.Op1("MaxPool", {y});
      b_.AttrInts({k, k}, "kernel_shape")
          .AttrInts({1, 1}, "strides")
          .AttrInts({k / 2, k / 2, k / 2, k / 2}, "pads");
      cat.push_back(y);
    }
    std::string z = b_.Op1("Concat", cat);
    b_.AttrInt("axis", 1);
    return Conv(z, 4 * c, cout, 1, 1);
  }

  std::string Upsample(const std::string& x) {
    std::string roi = b_.Init({0}, {});
    std::string sc = b_.Init({4}, {1.f, 1.f, 2.f, 2.f});
    std::string y = b_.Op1("Resize", {x, roi, sc});
    b_.AttrStr("coordinate_transformation_mode", "asymmetric")
        .AttrStr("mode", "nearest")
        .AttrStr("nearest_mode", "floor");
    return y;
  }

  Result<std::string> Build(const model::ModelConfig& cfg) {
    VQI_ASSIGN_OR_RETURN(auto layers, model::Plan(cfg));
    std::string in = b_.Input("images", {1, 3, cfg.input_h, cfg.input_w});
    std::vector<std::string> out(layers.size());
    for (const auto& l : layers) {
      auto src = [&](int k) { return l.from[k] < 0 ? in : out[l.from[k]]; };
      switch (l.type) {
        case model::LayerType::kConv:
          out[l.index] = Conv(src(0), l.c_in, l.c_out, l.k, l.s);
          break;
        case model::LayerType::kC2f:
          out[l.index] = C2f(src(0), l.c_in, l.c_out, l.n, l.shortcut);
          break;
        case model::LayerType::kSPPF:
          out[l.index] = Sppf(src(0), l.c_in, l.c_out, l.k);
          break;
        case model::LayerType::kUpsample:
          out[l.index] = Upsample(src(0));
          break;
        case model::LayerType::kConcat: {
          std::vector<std::string> xs;
          for (size_t k = 0; k < l.from.size(); ++k) xs.push_back(src(static_cast<int>(k)));
          out[l.index] = b_.Op1("Concat", xs);
          b_.AttrInt("axis", 1);
          break;
        }
        case model::LayerType::kDetect:
          out[l.index] = Detect(cfg, l, {src(0), src(1), src(2)});
          break;
      }
    }
    b_.Output(out.back(), {1, 4 + cfg.nc(), model::NumAnchors(cfg)});
    b_.Metadata("stride", "32");
    b_.Metadata("imgsz",
                "[" + std::to_string(cfg.input_h) + ", " + std::to_string(cfg.input_w) + "]");
    std::string names = "{";
    for (size_t k = 0; k < cfg.class_names.size(); ++k)
      names += (k ? ", " : "") + std::to_string(k) + ": '" + cfg.class_names[k] + "'";
    b_.Metadata("names", names + "}");
    return b_.Serialize();
  }

 private:
  std::string Detect(const model::ModelConfig& cfg, const model::Layer& l,
                     const std::vector<std::string>& xs) {
    int nc = cfg.nc(), rm = cfg.reg_max, no = 4 * rm + nc;
    std::vector<std::string> flat;
    std::vector<float> anchors_x, anchors_y, strides;
    for (size_t i = 0; i < xs.size(); ++i) {
      int c = l.detect_ch[i];
      std::string bx = Conv(Conv(Conv(xs[i], c, l.head_c2, 3, 1), l.head_c2, l.head_c2, 3, 1),
                            l.head_c2, 4 * rm, 1, 1, false);
      std::string cl = Conv(Conv(Conv(xs[i], c, l.head_c3, 3, 1), l.head_c3, l.head_c3, 3, 1),
                            l.head_c3, nc, 1, 1, false);
      std::string cat = b_.Op1("Concat", {bx, cl});
      b_.AttrInt("axis", 1);
      flat.push_back(b_.Op1("Reshape", {cat, b_.Ints({1, no, -1})}));
      int s = cfg.strides[i], h = cfg.input_h / s, w = cfg.input_w / s;
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
          anchors_x.push_back(x + 0.5f);
          anchors_y.push_back(y + 0.5f);
          strides.push_back(static_cast<float>(s));
        }
    }
    int64_t a = static_cast<int64_t>(strides.size());
    std::string all = b_.Op1("Concat", flat);
    b_.AttrInt("axis", 2);
    auto parts = Split(all, {4 * rm, nc});
    // DFL: softmax over the reg_max bins, expectation by a 1x1 conv with weights 0..reg_max-1.
    std::string d = b_.Op1("Reshape", {parts[0], b_.Ints({1, 4, rm, a})});
    d = b_.Op1("Transpose", {d});
    b_.AttrInts({0, 2, 1, 3}, "perm");
    d = b_.Op1("Softmax", {d});
    b_.AttrInt("axis", 1);
    std::vector<float> bins(rm);
    for (int k = 0; k < rm; ++k) bins[k] = static_cast<float>(k);
    d = b_.Op1("Conv", {d, b_.Init({1, rm, 1, 1}, bins)});
    b_.AttrInts({1, 1}, "kernel_shape");
    d = b_.Op1("Reshape", {d, b_.Ints({1, 4, a})});
    std::string lt = b_.Op1("Slice", {d, b_.Ints({0}), b_.Ints({2}), b_.Ints({1})});
    std::string rb = b_.Op1("Slice", {d, b_.Ints({2}), b_.Ints({4}), b_.Ints({1})});
    std::vector<float> anc(anchors_x);
    anc.insert(anc.end(), anchors_y.begin(), anchors_y.end());
    std::string anchors = b_.Init({1, 2, a}, anc);
    std::string x1y1 = b_.Op1("Sub", {anchors, lt});
    std::string x2y2 = b_.Op1("Add", {anchors, rb});
    std::string cxy = b_.Op1("Div", {b_.Op1("Add", {x1y1, x2y2}), b_.Init({}, {2.f})});
    std::string wh = b_.Op1("Sub", {x2y2, x1y1});
    std::string box = b_.Op1("Concat", {cxy, wh});
    b_.AttrInt("axis", 1);
    box = b_.Op1("Mul", {box, b_.Init({1, a}, strides)});
    std::string cls = b_.Op1("Sigmoid", {parts[1]});
    std::string y = b_.Op1("Concat", {box, cls});
    b_.AttrInt("axis", 1);
    return y;
  }

  OnnxBuilder b_;
  int64_t opset_;
};

}  // namespace

Result<std::string> BuildYoloLikeOnnx(const model::ModelConfig& cfg, uint32_t seed, int64_t opset) {
  YoloBuilder b(opset, seed);
  return b.Build(cfg);
}

}  // namespace vqi::infer::onednn::testing
