#include "yolo.h"

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "bn_silu.h"
#include "conv1x1.h"

namespace vqi::train {
namespace {

namespace nn = torch::nn;

thread_local bool tls_bf16_forward = false;

// The fused BatchNorm + SiLU (bn_silu.h); VQI_TRAIN_FUSED_BN=0 selects libtorch's operators,
// for before/after measurements (bench/peers/train_e2e_compare.sh); tests use SetFusedBnSilu.
std::atomic<bool> g_fused_bn{[] {
  const char* v = std::getenv("VQI_TRAIN_FUSED_BN");
  return v == nullptr || std::string(v) != "0";
}()};
bool FusedBnSilu() { return g_fused_bn.load(std::memory_order_relaxed); }

// A bias-free convolution computed in bfloat16 (oneDNN, AVX512-BF16) with a float32 result;
// the backward pass is the float32 convolution backward at the float32 input and weights, so
// no gradient is computed in bf16 (libtorch 1.13's bf16 backward kernels are slower than its
// float32 ones on this CPU; docs/design/training.md).
struct Bf16ForwardConv : torch::autograd::Function<Bf16ForwardConv> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& w, int64_t stride, int64_t pad) {
    ctx->save_for_backward({x, w});
    ctx->saved_data["stride"] = stride;
    ctx->saved_data["pad"] = pad;
    return torch::conv2d(x.to(torch::kBFloat16), w.to(torch::kBFloat16), {}, stride, pad)
        .to(torch::kFloat);
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grad) {
    auto saved = ctx->get_saved_variables();
    const int64_t s = ctx->saved_data["stride"].toInt(), p = ctx->saved_data["pad"].toInt();
    auto g =
        at::convolution_backward(grad[0], saved[0], saved[1], c10::nullopt, {s, s}, {p, p}, {1, 1},
                                 false, {0, 0}, 1, {saved[0].requires_grad(), true, false});
    return {std::get<0>(g), std::get<1>(g), torch::Tensor(), torch::Tensor()};
  }
};

// A layer with a single-input forward (Conv, C2f, SPPF) or a parameter-free placeholder.
struct Block : nn::Module {
  virtual torch::Tensor Forward(const torch::Tensor& x) { return x; }
};

struct ConvBlock : Block {
  nn::Conv2d conv{nullptr};
  nn::BatchNorm2d bn{nullptr};
  int64_t stride, pad;
  ConvBlock(int c1, int c2, int k, int s) : stride(s), pad(k / 2) {
    conv = register_module(
        "conv", nn::Conv2d(nn::Conv2dOptions(c1, c2, k).stride(s).padding(k / 2).bias(false)));
    bn =
        register_module("bn", nn::BatchNorm2d(nn::BatchNorm2dOptions(c2).eps(1e-3).momentum(0.03)));
  }
  torch::Tensor Forward(const torch::Tensor& x) override {
    if (stride == 1 && UseGemm1x1(x, conv->weight))  // libtorch's BLAS path otherwise
      return BnAct(Conv1x1(x, conv->weight));
    if (tls_bf16_forward && is_training())
      return BnAct(Bf16ForwardConv::apply(x, conv->weight, stride, pad));
    return BnAct(conv(x));
  }
  torch::Tensor BnAct(const torch::Tensor& y) {
    return FusedBnSilu() && UseBnSilu(y) ? BnSilu(y, bn) : torch::silu(bn(y));
  }
};

struct Bottleneck : Block {
  std::shared_ptr<ConvBlock> cv1, cv2;
  bool add;
  Bottleneck(int c1, int c2, bool shortcut) : add(shortcut && c1 == c2) {
    cv1 = register_module("cv1", std::make_shared<ConvBlock>(c1, c2, 3, 1));
    cv2 = register_module("cv2", std::make_shared<ConvBlock>(c2, c2, 3, 1));
  }
  torch::Tensor Forward(const torch::Tensor& x) override {
    auto y = cv2->Forward(cv1->Forward(x));
    return add ? x + y : y;
  }
};

struct C2fBlock : Block {
  std::shared_ptr<ConvBlock> cv1, cv2;
  std::vector<std::shared_ptr<Bottleneck>> m;
  int c;
  C2fBlock(int c1, int c2, int n, bool shortcut) : c(c2 / 2) {
    cv1 = register_module("cv1", std::make_shared<ConvBlock>(c1, 2 * c, 1, 1));
    cv2 = register_module("cv2", std::make_shared<ConvBlock>((2 + n) * c, c2, 1, 1));
    nn::ModuleList list;
    for (int i = 0; i < n; ++i) {
      m.push_back(std::make_shared<Bottleneck>(c, c, shortcut));
      list->push_back(m.back());
    }
    register_module("m", list);
  }
  torch::Tensor Forward(const torch::Tensor& x) override {
    auto parts = cv1->Forward(x).chunk(2, 1);
    std::vector<torch::Tensor> ys(parts.begin(), parts.end());
    for (auto& b : m) ys.push_back(b->Forward(ys.back()));
    return cv2->Forward(torch::cat(ys, 1));
  }
};

struct SppfBlock : Block {
  std::shared_ptr<ConvBlock> cv1, cv2;
  int k;
  SppfBlock(int c1, int c2, int k_) : k(k_) {
    int c = c1 / 2;
    cv1 = register_module("cv1", std::make_shared<ConvBlock>(c1, c, 1, 1));
    cv2 = register_module("cv2", std::make_shared<ConvBlock>(c * 4, c2, 1, 1));
  }
  torch::Tensor Forward(const torch::Tensor& x) override {
    auto pool = [&](const torch::Tensor& t) {
      return torch::max_pool2d(t, {k, k}, {1, 1}, {k / 2, k / 2});
    };
    auto a = cv1->Forward(x);
    auto b = pool(a);
    auto c2 = pool(b);
    auto d = pool(c2);
    return cv2->Forward(torch::cat({a, b, c2, d}, 1));
  }
};

// Sequential(Conv(c, w, 3), Conv(w, w, 3), Conv2d(w, out, 1)) registered as "0", "1", "2".
struct HeadBranch : Block {
  std::shared_ptr<ConvBlock> a, b;
  nn::Conv2d c{nullptr};
  HeadBranch(int c_in, int w, int out) {
    a = register_module("0", std::make_shared<ConvBlock>(c_in, w, 3, 1));
    b = register_module("1", std::make_shared<ConvBlock>(w, w, 3, 1));
    c = register_module("2", nn::Conv2d(nn::Conv2dOptions(w, out, 1).bias(true)));
  }
  torch::Tensor Forward(const torch::Tensor& x) override {
    auto y = b->Forward(a->Forward(x));
    if (UseGemm1x1(y, c->weight))  // libtorch's BLAS path otherwise
      return Conv1x1(y, c->weight) + c->bias.view({1, -1, 1, 1});
    return c(y);
  }
};

struct Dfl : nn::Module {
  nn::Conv2d conv{nullptr};
  explicit Dfl(int reg_max) {
    conv = register_module("conv", nn::Conv2d(nn::Conv2dOptions(reg_max, 1, 1).bias(false)));
    torch::NoGradGuard ng;
    conv->weight.copy_(torch::arange(reg_max, torch::kFloat).view({1, reg_max, 1, 1}));
    conv->weight.set_requires_grad(false);
  }
};

struct DetectBlock : Block {
  std::vector<std::shared_ptr<HeadBranch>> box, cls;
  std::shared_ptr<Dfl> dfl;
  DetectBlock(const model::Layer& l, const model::ModelConfig& cfg) {
    nn::ModuleList cv2, cv3;
    for (size_t i = 0; i < l.detect_ch.size(); ++i) {
      box.push_back(std::make_shared<HeadBranch>(l.detect_ch[i], l.head_c2, 4 * cfg.reg_max));
      cls.push_back(std::make_shared<HeadBranch>(l.detect_ch[i], l.head_c3, cfg.nc()));
      cv2->push_back(box.back());
      cv3->push_back(cls.back());
    }
    register_module("cv2", cv2);
    register_module("cv3", cv3);
    dfl = register_module("dfl", std::make_shared<Dfl>(cfg.reg_max));
    // Ultralytics Detect.bias_init(): box bias 1, class bias log(5 / nc / (640 / s)^2).
    torch::NoGradGuard ng;
    for (size_t i = 0; i < box.size(); ++i) {
      box[i]->c->bias.fill_(1.0);
      double s = cfg.strides[i];
      cls[i]->c->bias.fill_(std::log(5.0 / cfg.nc() / std::pow(640.0 / s, 2)));
    }
  }
};

}  // namespace

Bf16Forward::Bf16Forward(bool on) : prev_(tls_bf16_forward) { tls_bf16_forward = on; }
Bf16Forward::~Bf16Forward() { tls_bf16_forward = prev_; }

void SetFusedBnSilu(bool on) { g_fused_bn.store(on); }

Anchors MakeAnchors(const std::vector<torch::Tensor>& feats, const std::vector<int>& strides) {
  std::vector<torch::Tensor> pts, strs;
  for (size_t i = 0; i < feats.size(); ++i) {
    int64_t h = feats[i].size(2), w = feats[i].size(3);
    auto sx = torch::arange(w, torch::kFloat) + 0.5;
    auto sy = torch::arange(h, torch::kFloat) + 0.5;
    auto grid = torch::meshgrid({sy, sx}, "ij");
    pts.push_back(torch::stack({grid[1], grid[0]}, -1).view({-1, 2}));
    strs.push_back(torch::full({h * w, 1}, static_cast<float>(strides[i])));
  }
  return {torch::cat(pts), torch::cat(strs)};
}

torch::Tensor DflExpect(const torch::Tensor& dist, int reg_max) {
  auto sizes = dist.sizes().vec();
  sizes.back() = 4;
  auto v = dist.view({-1, 4, reg_max}).softmax(-1);
  auto proj = torch::arange(reg_max, dist.options());
  return v.matmul(proj).view(sizes);
}

torch::Tensor Dist2Bbox(const torch::Tensor& ltrb, const torch::Tensor& anchor_points) {
  auto parts = ltrb.chunk(2, -1);
  return torch::cat({anchor_points - parts[0], anchor_points + parts[1]}, -1);
}

YoloImpl::YoloImpl(const model::ModelConfig& cfg) : cfg_(cfg) {
  auto plan = model::Plan(cfg);
  VQI_CHECK_MSG(plan.ok(), plan.status().ToString());
  plan_ = *plan;
  layers_ = register_module("model", nn::ModuleList());
  for (const auto& l : plan_) {
    std::shared_ptr<nn::Module> b;
    switch (l.type) {
      case model::LayerType::kConv:
        b = std::make_shared<ConvBlock>(l.c_in, l.c_out, l.k, l.s);
        break;
      case model::LayerType::kC2f:
        b = std::make_shared<C2fBlock>(l.c_in, l.c_out, l.n, l.shortcut);
        break;
      case model::LayerType::kSPPF:
        b = std::make_shared<SppfBlock>(l.c_in, l.c_out, l.k);
        break;
      case model::LayerType::kDetect:
        b = std::make_shared<DetectBlock>(l, cfg_);
        break;
      default:
        b = std::make_shared<Block>();
        break;
    }
    layers_->push_back(b);
    blocks_.push_back(b);
  }
}

std::vector<torch::Tensor> YoloImpl::forward(const torch::Tensor& x) {
  std::vector<torch::Tensor> out(plan_.size());
  for (size_t i = 0; i < plan_.size(); ++i) {
    const auto& l = plan_[i];
    auto in = [&](size_t j) { return l.from[j] < 0 ? x : out[static_cast<size_t>(l.from[j])]; };
    switch (l.type) {
      case model::LayerType::kUpsample:
        out[i] = torch::upsample_nearest2d(in(0), {}, std::vector<double>{2.0, 2.0});
        break;
      case model::LayerType::kConcat:
        out[i] = torch::cat({in(0), in(1)}, 1);
        break;
      case model::LayerType::kDetect: {
        auto* d = static_cast<DetectBlock*>(blocks_[i].get());
        std::vector<torch::Tensor> feats;
        for (size_t k = 0; k < l.from.size(); ++k)
          feats.push_back(torch::cat({d->box[k]->Forward(in(k)), d->cls[k]->Forward(in(k))}, 1));
        return feats;
      }
      default:
        out[i] = static_cast<Block*>(blocks_[i].get())->Forward(in(0));
        break;
    }
  }
  VQI_CHECK_MSG(false, "plan without a Detect layer");
  return {};
}

torch::Tensor YoloImpl::Decode(const std::vector<torch::Tensor>& feats) {
  const int64_t b = feats[0].size(0), no = 4 * cfg_.reg_max + cfg_.nc();
  std::vector<torch::Tensor> flat;
  for (const auto& f : feats) flat.push_back(f.view({b, no, -1}));
  auto cat = torch::cat(flat, 2);  // [B, no, N]
  auto box = cat.slice(1, 0, 4 * cfg_.reg_max);
  auto cls = cat.slice(1, 4 * cfg_.reg_max);
  auto anchors = MakeAnchors(feats, cfg_.strides);
  int64_t n = box.size(2);
  // Exactly Ultralytics' DFL: view(b, 4, reg_max, N).transpose(2, 1).softmax(1) then the
  // arange 1x1 convolution, expressed as a weighted sum.
  auto dist = box.view({b, 4, cfg_.reg_max, n}).softmax(2);
  auto proj = torch::arange(cfg_.reg_max, dist.options()).view({1, 1, cfg_.reg_max, 1});
  auto ltrb = (dist * proj).sum(2);            // [B, 4, N]
  auto pts = anchors.points.t().unsqueeze(0);  // [1, 2, N]
  auto lt = ltrb.slice(1, 0, 2), rb = ltrb.slice(1, 2, 4);
  auto x1y1 = pts - lt, x2y2 = pts + rb;
  auto dbox = torch::cat({(x1y1 + x2y2) / 2, x2y2 - x1y1}, 1) * anchors.strides.t().unsqueeze(0);
  return torch::cat({dbox, cls.sigmoid()}, 1);
}

std::map<std::string, Tensor> ExportWeights(torch::nn::Module& m) {
  std::map<std::string, Tensor> out;
  auto put = [&](const std::string& name, const torch::Tensor& t) {
    if (name.ends_with("num_batches_tracked")) return;
    auto c = t.detach().to(torch::kFloat).contiguous();
    std::vector<int64_t> shape(c.sizes().begin(), c.sizes().end());
    out[name] = Tensor::F32(shape, c.data_ptr<float>());
  };
  for (const auto& p : m.named_parameters()) put(p.key(), p.value());
  for (const auto& b : m.named_buffers()) put(b.key(), b.value());
  return out;
}

Status ImportWeights(torch::nn::Module& m, const std::map<std::string, Tensor>& weights) {
  torch::NoGradGuard ng;
  auto load = [&](const std::string& name, torch::Tensor& t) -> Status {
    if (name.ends_with("num_batches_tracked")) return Status::Ok();
    auto it = weights.find(name);
    if (it == weights.end()) return InvalidArgument("weights: missing tensor '" + name + "'");
    const Tensor& w = it->second;
    if (w.dtype != DType::kF32 ||
        w.shape != std::vector<int64_t>(t.sizes().begin(), t.sizes().end()))
      return InvalidArgument("weights: tensor '" + name + "' has the wrong dtype or shape");
    auto src = torch::from_blob(const_cast<float*>(w.f32()), t.sizes(), torch::kFloat);
    t.copy_(src);
    return Status::Ok();
  };
  for (auto& p : m.named_parameters()) VQI_RETURN_IF_ERROR(load(p.key(), p.value()));
  for (auto& b : m.named_buffers()) VQI_RETURN_IF_ERROR(load(b.key(), b.value()));
  return Status::Ok();
}

}  // namespace vqi::train
