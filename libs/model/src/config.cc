#include "vqi/model/config.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace vqi::model {

Result<ScaleParams> ScaleFor(const std::string& scale) {
  if (scale == "t") return ScaleParams{0.33, 0.125, 1024};
  if (scale == "n") return ScaleParams{0.33, 0.25, 1024};
  if (scale == "s") return ScaleParams{0.33, 0.50, 1024};
  if (scale == "m") return ScaleParams{0.67, 0.75, 768};
  if (scale == "l") return ScaleParams{1.00, 1.00, 512};
  if (scale == "x") return ScaleParams{1.00, 1.25, 512};
  return InvalidArgument("unknown model scale '" + scale + "' (expected t, n, s, m, l or x)");
}

const char* LayerTypeName(LayerType t) {
  switch (t) {
    case LayerType::kConv:
      return "Conv";
    case LayerType::kC2f:
      return "C2f";
    case LayerType::kSPPF:
      return "SPPF";
    case LayerType::kUpsample:
      return "Upsample";
    case LayerType::kConcat:
      return "Concat";
    case LayerType::kDetect:
      return "Detect";
  }
  return "?";
}

Status ModelConfig::Validate() const {
  VQI_RETURN_IF_ERROR(ScaleFor(scale).status());
  if (class_names.empty()) return InvalidArgument("model config: class_names is empty");
  if (class_names.size() > static_cast<size_t>(kMaxClasses))
    return ResourceExhausted("model config: " + std::to_string(class_names.size()) +
                             " classes, more than the limit " + std::to_string(kMaxClasses));
  for (const auto& n : class_names)
    if (n.size() > kMaxClassNameBytes)
      return ResourceExhausted("model config: a class name of " + std::to_string(n.size()) +
                               " bytes, more than the limit " + std::to_string(kMaxClassNameBytes));
  const std::string side_range = "[32, " + std::to_string(kMaxInputSide) + "]";
  if (input_w < 32 || input_h < 32 || input_w > kMaxInputSide || input_h > kMaxInputSide ||
      input_w % 32 != 0 || input_h % 32 != 0)
    return InvalidArgument("model config: input size " + std::to_string(input_w) + "x" +
                           std::to_string(input_h) + " must be multiples of 32 in " + side_range);
  if (reg_max < 1 || reg_max > kMaxRegMax)
    return InvalidArgument("model config: reg_max " + std::to_string(reg_max) +
                           " is out of range [1, " + std::to_string(kMaxRegMax) + "]");
  if (strides != std::vector<int>{8, 16, 32})
    return InvalidArgument("model config: strides must be [8, 16, 32]");
  return Status::Ok();
}

Json ModelConfig::ToJson() const {
  return Json{{"name", name},       {"scale", scale},         {"class_names", class_names},
              {"input_w", input_w}, {"input_h", input_h},     {"reg_max", reg_max},
              {"strides", strides}, {"arch", "yolov8-detect"}};
}

namespace {

// j[key] as an int, refusing fractions and values outside int (no silent wrap or truncation).
Status GetInt(const Json& j, const char* key, int* out) {
  const Json& v = j.at(key);
  if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<uint64_t>() > INT32_MAX) ||
      (!v.is_number_unsigned() && (v.get<int64_t>() < INT32_MIN || v.get<int64_t>() > INT32_MAX)))
    return InvalidArgument(std::string("model config: ") + key + " " + v.dump() +
                           " is not an integer in the int range");
  *out = v.get<int>();
  return Status::Ok();
}

}  // namespace

Result<ModelConfig> ModelConfig::FromJson(const Json& j) {
  ModelConfig c;
  try {
    if (!j.is_object()) return InvalidArgument("model config: not a JSON object");
    if (j.contains("arch") && j["arch"] != "yolov8-detect")
      return InvalidArgument("model config: unsupported arch " + j["arch"].dump());
    c.name = j.value("name", c.name);
    c.scale = j.at("scale").get<std::string>();
    // Bounded before the names are copied (a checkpoint header is at most 100 MB).
    if (j.at("class_names").is_array() && j["class_names"].size() > size_t{kMaxClasses})
      return ResourceExhausted("model config: " + std::to_string(j["class_names"].size()) +
                               " classes, more than the limit " + std::to_string(kMaxClasses));
    c.class_names = j.at("class_names").get<std::vector<std::string>>();
    VQI_RETURN_IF_ERROR(GetInt(j, "input_w", &c.input_w));
    VQI_RETURN_IF_ERROR(GetInt(j, "input_h", &c.input_h));
    if (j.contains("reg_max")) VQI_RETURN_IF_ERROR(GetInt(j, "reg_max", &c.reg_max));
    if (j.contains("strides")) {
      if (!j["strides"].is_array() || j["strides"].size() != 3)
        return InvalidArgument("model config: strides must be [8, 16, 32]");
      c.strides.clear();
      for (const Json& s : j["strides"]) {
        if (!s.is_number_integer())
          return InvalidArgument("model config: strides must be [8, 16, 32]");
        const int64_t v = s.get<int64_t>();  // Validate() accepts only 8, 16, 32
        c.strides.push_back(v >= 1 && v <= 64 ? static_cast<int>(v) : 0);
      }
    }
  } catch (const Json::exception& e) {
    return InvalidArgument(std::string("model config: ") + e.what());
  }
  VQI_RETURN_IF_ERROR(c.Validate());
  return c;
}

namespace {
int Ch(int c, const ScaleParams& p) {
  double v = std::min(c, p.max_channels) * p.width;
  return static_cast<int>(std::ceil(v / 8.0)) * 8;
}
int Rep(int n, const ScaleParams& p) {
  return n > 1 ? std::max(static_cast<int>(std::lround(n * p.depth)), 1) : n;
}
}  // namespace

Result<std::vector<Layer>> Plan(const ModelConfig& cfg) {
  VQI_RETURN_IF_ERROR(cfg.Validate());
  VQI_ASSIGN_OR_RETURN(ScaleParams p, ScaleFor(cfg.scale));
  std::vector<Layer> L;
  auto out = [&](int i) { return i < 0 ? 3 : L[static_cast<size_t>(i)].c_out; };
  auto conv = [&](int c, int k, int s) {
    Layer l;
    l.index = static_cast<int>(L.size());
    l.type = LayerType::kConv;
    l.from = {l.index - 1};
    l.c_in = out(l.index - 1);
    l.c_out = Ch(c, p);
    l.k = k;
    l.s = s;
    L.push_back(l);
  };
  auto c2f = [&](std::vector<int> from, int c, int n, bool shortcut) {
    Layer l;
    l.index = static_cast<int>(L.size());
    l.type = LayerType::kC2f;
    l.from = from;
    l.c_in = 0;
    for (int f : from) l.c_in += out(f);
    l.c_out = Ch(c, p);
    l.n = Rep(n, p);
    l.shortcut = shortcut;
    L.push_back(l);
  };
  auto simple = [&](LayerType t, std::vector<int> from) {
    Layer l;
    l.index = static_cast<int>(L.size());
    l.type = t;
    l.from = from;
    for (int f : from) l.c_in += out(f);
    l.c_out = t == LayerType::kConcat ? l.c_in : out(from[0]);
    L.push_back(l);
  };
  conv(64, 3, 2);           // 0  P1/2
  conv(128, 3, 2);          // 1  P2/4
  c2f({1}, 128, 3, true);   // 2
  conv(256, 3, 2);          // 3  P3/8
  c2f({3}, 256, 6, true);   // 4
  conv(512, 3, 2);          // 5  P4/16
  c2f({5}, 512, 6, true);   // 6
  conv(1024, 3, 2);         // 7  P5/32
  c2f({7}, 1024, 3, true);  // 8
  {                         // 9  SPPF
    Layer l;
    l.index = 9;
    l.type = LayerType::kSPPF;
    l.from = {8};
    l.c_in = out(8);
    l.c_out = Ch(1024, p);
    l.k = 5;
    L.push_back(l);
  }
  simple(LayerType::kUpsample, {9});     // 10
  simple(LayerType::kConcat, {10, 6});   // 11
  c2f({11}, 512, 3, false);              // 12
  simple(LayerType::kUpsample, {12});    // 13
  simple(LayerType::kConcat, {13, 4});   // 14
  c2f({14}, 256, 3, false);              // 15 (P3/8 out)
  conv(256, 3, 2);                       // 16
  simple(LayerType::kConcat, {16, 12});  // 17
  c2f({17}, 512, 3, false);              // 18 (P4/16 out)
  conv(512, 3, 2);                       // 19
  simple(LayerType::kConcat, {19, 9});   // 20
  c2f({20}, 1024, 3, false);             // 21 (P5/32 out)
  Layer d;                               // 22 Detect
  d.index = 22;
  d.type = LayerType::kDetect;
  d.from = {15, 18, 21};
  d.detect_ch = {out(15), out(18), out(21)};
  d.head_c2 = std::max({16, d.detect_ch[0] / 4, cfg.reg_max * 4});
  d.head_c3 = std::max(d.detect_ch[0], std::min(cfg.nc(), 100));
  d.c_out = 4 + cfg.nc();
  L.push_back(d);
  return L;
}

int NumAnchors(const ModelConfig& cfg) {
  int n = 0;
  for (int s : cfg.strides) n += (cfg.input_w / s) * (cfg.input_h / s);
  return n;
}

}  // namespace vqi::model
