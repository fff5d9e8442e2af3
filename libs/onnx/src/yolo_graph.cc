#include "yolo_graph.h"

#include <cmath>
#include <map>

#include "vqi/onnx/weights.h"

namespace vqi::onnx {

namespace {

class Emitter {
 public:
  Emitter(const model::Checkpoint& ck, GraphBuilder& b) : ck_(ck), b_(b) {}

  const std::vector<float> W(const std::string& name) const {
    const Tensor& t = ck_.weights.at(name);
    return std::vector<float>(t.f32(), t.f32() + t.numel());
  }
  const std::vector<int64_t>& Shape(const std::string& name) const {
    return ck_.weights.at(name).shape;
  }

  // Ultralytics Conv: conv (no bias) + BatchNorm (folded here) + SiLU.
  std::string Conv(const std::string& x, const std::string& p, int s) {
    const std::string wn = p + ".conv.weight";
    std::vector<float> w = W(wn);
    const std::vector<int64_t> shape = Shape(wn);
    const std::vector<float> gamma = W(p + ".bn.weight"), beta = W(p + ".bn.bias"),
                             mean = W(p + ".bn.running_mean"), var = W(p + ".bn.running_var");
    const int64_t co = shape[0], per = shape[1] * shape[2] * shape[3];
    std::vector<float> bias(static_cast<size_t>(co));
    for (int64_t o = 0; o < co; ++o) {
      const double scale = gamma[o] / std::sqrt(static_cast<double>(var[o]) + kBatchNormEps);
      for (int64_t i = 0; i < per; ++i)
        w[o * per + i] = static_cast<float>(w[o * per + i] * scale);
      bias[o] = static_cast<float>(beta[o] - mean[o] * scale);
    }
    const std::string node = "/" + Slash(p);
    std::string y = ConvNode(x, node + "/conv/Conv", wn, shape, w, p + ".conv.bias", bias, s);
    std::string sig = b_.Node("Sigmoid", node + "/act/Sigmoid", {y});
    return b_.Node("Mul", node + "/act/Mul", {y, sig});
  }

  // A plain nn.Conv2d with bias (the last conv of each head branch).
  std::string Conv2d(const std::string& x, const std::string& p) {
    const std::string wn = p + ".weight";
    return ConvNode(x, "/" + Slash(p) + "/Conv", wn, Shape(wn), W(wn), p + ".bias",
                    W(p + ".bias"), 1);
  }

  std::string ConvNode(const std::string& x, const std::string& node, const std::string& wn,
                       const std::vector<int64_t>& shape, const std::vector<float>& w,
                       const std::string& bn, const std::vector<float>& bias, int s) {
    const int64_t k = shape[2], pad = k / 2;
    b_.Constant(wn, shape, w);
    b_.Constant(bn, {shape[0]}, bias);
    return b_.Node("Conv", node, {x, wn, bn},
                   {Attr::Ints("dilations", {1, 1}), Attr::Int("group", 1),
                    Attr::Ints("kernel_shape", {k, k}), Attr::Ints("pads", {pad, pad, pad, pad}),
                    Attr::Ints("strides", {s, s})});
  }

  // Channels [begin, end) of a 4-D tensor.
  std::string SliceAxis(const std::string& x, const std::string& node, int64_t axis, int64_t begin,
                        int64_t end) {
    return b_.Node("Slice", node,
                   {x, b_.Int64s(node + "_starts", {begin}), b_.Int64s(node + "_ends", {end}),
                    b_.Int64s(node + "_axes", {axis})});
  }

  std::string Concat(const std::vector<std::string>& xs, const std::string& node, int64_t axis) {
    return b_.Node("Concat", node, xs, {Attr::Int("axis", axis)});
  }

  std::string Reshape(const std::string& x, const std::string& node,
                      const std::vector<int64_t>& shape, const std::string& output = "") {
    return b_.Node("Reshape", node, {x, b_.Int64s(node + "_shape", shape)}, {}, output);
  }

  std::string C2f(const std::string& x, const model::Layer& l, const std::string& p) {
    const int c = l.c_out / 2;
    const std::string node = "/" + Slash(p);
    std::string y = Conv(x, p + ".cv1", 1);
    std::vector<std::string> ys = {SliceAxis(y, node + "/Slice", 1, 0, c),
                                   SliceAxis(y, node + "/Slice_1", 1, c, 2 * c)};
    for (int j = 0; j < l.n; ++j) {
      const std::string m = p + ".m." + std::to_string(j);
      std::string t = Conv(Conv(ys.back(), m + ".cv1", 1), m + ".cv2", 1);
      if (l.shortcut) t = b_.Node("Add", "/" + Slash(m) + "/Add", {ys.back(), t});
      ys.push_back(t);
    }
    return Conv(Concat(ys, node + "/Concat", 1), p + ".cv2", 1);
  }

  std::string Sppf(const std::string& x, const model::Layer& l, const std::string& p) {
    const std::string node = "/" + Slash(p);
    std::vector<std::string> ys = {Conv(x, p + ".cv1", 1)};
    const int64_t pad = l.k / 2;
    for (int i = 0; i < 3; ++i)
      ys.push_back(b_.Node("MaxPool", node + "/m/MaxPool" + (i ? "_" + std::to_string(i) : ""),
                           {ys.back()},
                           {Attr::Ints("kernel_shape", {l.k, l.k}),
                            Attr::Ints("pads", {pad, pad, pad, pad}),
                            Attr::Ints("strides", {1, 1})}));
    return Conv(Concat(ys, node + "/Concat", 1), p + ".cv2", 1);
  }

  std::string Upsample(const std::string& x, const std::string& p) {
    const std::string node = "/" + Slash(p) + "/Resize";
    const std::string roi = b_.Constant(node + "_roi", {0}, {});
    const std::string scales = b_.Constant(node + "_scales", {4}, {1.f, 1.f, 2.f, 2.f});
    ::onnx::NodeProto* n = nullptr;
    std::string y = b_.Node("Resize", node, {x, roi, scales});
    n = b_.graph()->mutable_node(b_.graph()->node_size() - 1);
    auto str_attr = [&](const char* name, const char* v) {
      ::onnx::AttributeProto* a = n->add_attribute();
      a->set_name(name);
      a->set_type(::onnx::AttributeProto::STRING);
      a->set_s(v);
    };
    str_attr("coordinate_transformation_mode", "asymmetric");
    str_attr("mode", "nearest");
    str_attr("nearest_mode", "floor");
    return y;
  }

  // Detect: per level cat(box branch, class branch) -> [1,no,1,h*w], levels concatenated on the
  // last axis, DFL, dist2bbox (xywh) times stride, sigmoid scores.
  std::string Detect(const std::vector<std::string>& xs, const model::Layer& l,
                     const std::string& output) {
    const model::ModelConfig& cfg = ck_.model;
    const int64_t nc = cfg.nc(), rm = cfg.reg_max, no = 4 * rm + nc;
    const int64_t n = model::NumAnchors(cfg);
    std::vector<std::string> levels;
    std::vector<float> anchors(static_cast<size_t>(2 * n)), strides(static_cast<size_t>(4 * n));
    int64_t a = 0;
    for (size_t i = 0; i < xs.size(); ++i) {
      const std::string si = std::to_string(i), p = "model.22";
      std::string box = Conv2d(Conv(Conv(xs[i], p + ".cv2." + si + ".0", 1),
                                    p + ".cv2." + si + ".1", 1),
                               p + ".cv2." + si + ".2");
      std::string cls = Conv2d(Conv(Conv(xs[i], p + ".cv3." + si + ".0", 1),
                                    p + ".cv3." + si + ".1", 1),
                               p + ".cv3." + si + ".2");
      const int stride = cfg.strides[i];
      const int64_t h = cfg.input_h / stride, w = cfg.input_w / stride;
      std::string cat = Concat({box, cls}, "/model.22/Concat" + Suffix(i), 1);
      levels.push_back(Reshape(cat, "/model.22/Reshape" + Suffix(i), {1, no, 1, h * w}));
      for (int64_t r = 0; r < h; ++r)
        for (int64_t c = 0; c < w; ++c, ++a) {
          anchors[a] = static_cast<float>(c) + 0.5f;
          anchors[n + a] = static_cast<float>(r) + 0.5f;
          for (int k = 0; k < 4; ++k) strides[k * n + a] = static_cast<float>(stride);
        }
    }
    std::string x = Concat(levels, "/model.22/Concat_3", 3);  // [1,no,1,N]
    std::string box = SliceAxis(x, "/model.22/Slice", 1, 0, 4 * rm);
    std::string cls = SliceAxis(x, "/model.22/Slice_1", 1, 4 * rm, no);
    // DFL: [1,4,rm,N] -> [1,rm,4,N], softmax over bins, 1x1 conv with 0..rm-1 -> [1,1,4,N].
    std::string d = Reshape(box, "/model.22/dfl/Reshape", {1, 4, rm, n});
    d = b_.Node("Transpose", "/model.22/dfl/Transpose", {d}, {Attr::Ints("perm", {0, 2, 1, 3})});
    d = b_.Node("Softmax", "/model.22/dfl/Softmax", {d}, {Attr::Int("axis", 1)});
    const std::string dw = "model.22.dfl.conv.weight";
    d = b_.Node("Conv", "/model.22/dfl/conv/Conv", {d, b_.Constant(dw, Shape(dw), W(dw))},
                {Attr::Ints("kernel_shape", {1, 1})});
    d = Reshape(d, "/model.22/dfl/Reshape_1", {1, 4, 1, n});
    // dist2bbox with anchors and strides pre-broadcast to the operand shapes.
    std::string lt = SliceAxis(d, "/model.22/Slice_2", 1, 0, 2);
    std::string rb = SliceAxis(d, "/model.22/Slice_3", 1, 2, 4);
    std::string anc = b_.Constant("/model.22/anchors", {1, 2, 1, n}, anchors);
    std::string x1y1 = b_.Node("Sub", "/model.22/Sub", {anc, lt});
    std::string x2y2 = b_.Node("Add", "/model.22/Add", {anc, rb});
    std::string half = b_.Constant("/model.22/half", {1, 2, 1, n},
                                   std::vector<float>(static_cast<size_t>(2 * n), 0.5f));
    std::string c_xy = b_.Node("Mul", "/model.22/Mul",
                               {b_.Node("Add", "/model.22/Add_1", {x1y1, x2y2}), half});
    std::string wh = b_.Node("Sub", "/model.22/Sub_1", {x2y2, x1y1});
    std::string dbox = Concat({c_xy, wh}, "/model.22/Concat_4", 1);
    std::string st = b_.Constant("/model.22/strides", {1, 4, 1, n}, strides);
    dbox = b_.Node("Mul", "/model.22/Mul_1", {dbox, st});
    std::string y = Concat({dbox, b_.Node("Sigmoid", "/model.22/Sigmoid", {cls})},
                           "/model.22/Concat_5", 1);
    return Reshape(y, "/model.22/Reshape_3", {1, 4 + nc, n}, output);
  }

  static std::string Slash(const std::string& p) {  // "model.2.m.0.cv1" -> "model.2/m.0/cv1"
    std::string r;
    size_t dots = 0;
    for (char ch : p) {
      if (ch == '.' && ++dots % 2 == 0) {
        r += '/';
      } else {
        r += ch;
      }
    }
    return r;
  }
  static std::string Suffix(size_t i) { return i ? "_" + std::to_string(i) : ""; }

 private:
  const model::Checkpoint& ck_;
  GraphBuilder& b_;
};

}  // namespace

Status EmitYolo(const model::Checkpoint& ckpt, GraphBuilder& b, const std::string& input,
                const std::string& output) {
  VQI_ASSIGN_OR_RETURN(std::vector<model::Layer> plan, model::Plan(ckpt.model));
  Emitter e(ckpt, b);
  std::vector<std::string> out(plan.size());
  auto in = [&](const model::Layer& l, size_t k) {
    return l.from[k] < 0 ? input : out[static_cast<size_t>(l.from[k])];
  };
  for (const model::Layer& l : plan) {
    const std::string p = "model." + std::to_string(l.index);
    std::string y;
    switch (l.type) {
      case model::LayerType::kConv:
        y = e.Conv(l.index == 0 ? input : in(l, 0), p, l.s);
        break;
      case model::LayerType::kC2f:
        y = e.C2f(in(l, 0), l, p);
        break;
      case model::LayerType::kSPPF:
        y = e.Sppf(in(l, 0), l, p);
        break;
      case model::LayerType::kUpsample:
        y = e.Upsample(in(l, 0), p);
        break;
      case model::LayerType::kConcat: {
        std::vector<std::string> xs;
        for (size_t k = 0; k < l.from.size(); ++k) xs.push_back(in(l, k));
        y = e.Concat(xs, "/" + p + "/Concat", 1);
        break;
      }
      case model::LayerType::kDetect: {
        std::vector<std::string> xs;
        for (size_t k = 0; k < l.from.size(); ++k) xs.push_back(in(l, k));
        y = e.Detect(xs, l, output);
        break;
      }
    }
    out[static_cast<size_t>(l.index)] = y;
  }
  return Status::Ok();
}

}  // namespace vqi::onnx
