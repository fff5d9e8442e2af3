#include "vqi/onnx/weights.h"

#include <cmath>
#include <random>

namespace vqi::onnx {

namespace {

// Appends the tensors of an Ultralytics Conv (conv without bias + BatchNorm2d).
void AddConv(std::vector<WeightSpec>& out, const std::string& p, int c_in, int c_out, int k) {
  out.push_back({p + ".conv.weight", {c_out, c_in, k, k}});
  for (const char* s : {"weight", "bias", "running_mean", "running_var"})
    out.push_back({p + ".bn." + s, {c_out}});
}

}  // namespace

Result<std::vector<WeightSpec>> ExpectedWeights(const model::ModelConfig& cfg) {
  VQI_ASSIGN_OR_RETURN(std::vector<model::Layer> plan, model::Plan(cfg));
  std::vector<WeightSpec> w;
  for (const model::Layer& l : plan) {
    const std::string p = "model." + std::to_string(l.index);
    switch (l.type) {
      case model::LayerType::kConv:
        AddConv(w, p, l.c_in, l.c_out, l.k);
        break;
      case model::LayerType::kC2f: {
        const int c = l.c_out / 2;
        AddConv(w, p + ".cv1", l.c_in, 2 * c, 1);
        AddConv(w, p + ".cv2", (2 + l.n) * c, l.c_out, 1);
        for (int j = 0; j < l.n; ++j) {
          const std::string m = p + ".m." + std::to_string(j);
          AddConv(w, m + ".cv1", c, c, 3);
          AddConv(w, m + ".cv2", c, c, 3);
        }
        break;
      }
      case model::LayerType::kSPPF: {
        const int c = l.c_in / 2;
        AddConv(w, p + ".cv1", l.c_in, c, 1);
        AddConv(w, p + ".cv2", 4 * c, l.c_out, 1);
        break;
      }
      case model::LayerType::kDetect:
        for (size_t i = 0; i < l.detect_ch.size(); ++i) {
          const std::string b = p + ".cv2." + std::to_string(i);
          AddConv(w, b + ".0", l.detect_ch[i], l.head_c2, 3);
          AddConv(w, b + ".1", l.head_c2, l.head_c2, 3);
          w.push_back({b + ".2.weight", {4 * cfg.reg_max, l.head_c2, 1, 1}});
          w.push_back({b + ".2.bias", {4 * cfg.reg_max}});
          const std::string c = p + ".cv3." + std::to_string(i);
          AddConv(w, c + ".0", l.detect_ch[i], l.head_c3, 3);
          AddConv(w, c + ".1", l.head_c3, l.head_c3, 3);
          w.push_back({c + ".2.weight", {cfg.nc(), l.head_c3, 1, 1}});
          w.push_back({c + ".2.bias", {cfg.nc()}});
        }
        w.push_back({p + ".dfl.conv.weight", {1, cfg.reg_max, 1, 1}});
        break;
      case model::LayerType::kUpsample:
      case model::LayerType::kConcat:
        break;
    }
  }
  return w;
}

Status CheckWeights(const model::Checkpoint& ckpt, const std::string& where) {
  VQI_ASSIGN_OR_RETURN(std::vector<WeightSpec> specs, ExpectedWeights(ckpt.model));
  auto shape_str = [](const std::vector<int64_t>& s) {
    std::string r = "[";
    for (size_t i = 0; i < s.size(); ++i) r += (i ? "," : "") + std::to_string(s[i]);
    return r + "]";
  };
  for (const WeightSpec& s : specs) {
    auto it = ckpt.weights.find(s.name);
    if (it == ckpt.weights.end())
      return InvalidArgument(where + ": missing tensor " + s.name + " (expected shape " +
                             shape_str(s.shape) + " for scale " + ckpt.model.scale + ")");
    if (it->second.dtype != DType::kF32)
      return InvalidArgument(where + ": tensor " + s.name + " has dtype " +
                             DTypeName(it->second.dtype) + ", expected F32");
    if (it->second.shape != s.shape)
      return InvalidArgument(where + ": tensor " + s.name + " has shape " +
                             shape_str(it->second.shape) + ", expected " + shape_str(s.shape));
  }
  return Status::Ok();
}

Result<model::Checkpoint> RandomCheckpoint(const model::ModelConfig& cfg, uint32_t seed) {
  VQI_ASSIGN_OR_RETURN(std::vector<WeightSpec> specs, ExpectedWeights(cfg));
  model::Checkpoint ck;
  ck.model = cfg;
  ck.run_id = "random-" + std::to_string(seed);
  ck.split_digest = "none";
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::uniform_real_distribution<float> uni(0.f, 1.f);
  auto ends_with = [](const std::string& s, const std::string& suf) { return s.ends_with(suf); };
  for (const WeightSpec& s : specs) {
    Tensor t;
    t.dtype = DType::kF32;
    t.shape = s.shape;
    t.data.resize(static_cast<size_t>(t.numel()) * sizeof(float));
    float* v = t.f32();
    const int64_t n = t.numel();
    if (ends_with(s.name, "dfl.conv.weight")) {
      for (int64_t i = 0; i < n; ++i) v[i] = static_cast<float>(i);
    } else if (s.shape.size() == 4) {
      const float fan_in = static_cast<float>(s.shape[1] * s.shape[2] * s.shape[3]);
      const float sd = std::sqrt(2.f / fan_in);
      for (int64_t i = 0; i < n; ++i) v[i] = normal(rng) * sd;
    } else if (ends_with(s.name, ".bn.weight")) {
      for (int64_t i = 0; i < n; ++i) v[i] = 0.5f + 0.5f * uni(rng);
    } else if (ends_with(s.name, ".bn.running_var")) {
      for (int64_t i = 0; i < n; ++i) v[i] = 0.5f + uni(rng);
    } else {  // BN bias / running_mean, head conv biases
      for (int64_t i = 0; i < n; ++i) v[i] = 0.2f * normal(rng);
    }
    ck.weights.emplace(s.name, std::move(t));
  }
  return ck;
}

}  // namespace vqi::onnx
