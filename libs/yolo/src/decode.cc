#include "vqi/yolo/decode.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "vqi/base/json.h"

namespace vqi::yolo {

Decoded DecodeOutput(const float* out, int nc, int64_t n, const Letterbox& lb, float conf) {
  Decoded d;
  const float fw = static_cast<float>(lb.src_w), fh = static_cast<float>(lb.src_h);
  auto ux = [&](float v) {
    return std::clamp(static_cast<float>((v - lb.pad_x) / lb.scale), 0.f, fw);
  };
  auto uy = [&](float v) {
    return std::clamp(static_cast<float>((v - lb.pad_y) / lb.scale), 0.f, fh);
  };
  for (int64_t a = 0; a < n; ++a) {
    int best = 0;
    float score = out[4 * n + a];
    bool finite = std::isfinite(score);
    for (int c = 1; c < nc; ++c) {
      const float s = out[(4 + c) * n + a];
      finite = finite && std::isfinite(s);
      if (s > score) score = s, best = c;
    }
    const float cx = out[a], cy = out[n + a], bw = out[2 * n + a], bh = out[3 * n + a];
    if (!finite || !std::isfinite(cx) || !std::isfinite(cy) || !std::isfinite(bw) ||
        !std::isfinite(bh)) {
      ++d.non_finite;
      continue;
    }
    if (!(score >= conf)) continue;
    d.candidates.push_back(
        {ux(cx - bw / 2), uy(cy - bh / 2), ux(cx + bw / 2), uy(cy + bh / 2), score, best});
  }
  return d;
}

Status CheckFinite(const Decoded& d, int64_t anchors, const std::string& where) {
  if (d.non_finite == 0) return Status::Ok();
  return DataLoss(where + ": the model output holds inf/NaN values at " +
                  std::to_string(d.non_finite) + " of " + std::to_string(anchors) +
                  " anchors (a broken or overflowing model); no detections reported");
}

namespace {

// Parses Python's repr of a dict {int: str}, as Ultralytics writes `names`.
Result<std::vector<std::string>> ParsePyNames(const std::string& s) {
  std::map<int, std::string> m;
  size_t i = 0;
  auto bad = [&](const char* what) {
    return InvalidArgument("model metadata names: " + std::string(what) + " at offset " +
                           std::to_string(i) + " in " + s);
  };
  auto skip = [&] {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  };
  skip();
  if (i >= s.size() || s[i] != '{') return bad("expected '{'");
  ++i;
  skip();
  while (i < s.size() && s[i] != '}') {
    size_t end = i;
    while (end < s.size() && std::isdigit(static_cast<unsigned char>(s[end]))) ++end;
    if (end == i) return bad("expected a class index");
    const int key = std::stoi(s.substr(i, end - i));
    i = end;
    skip();
    if (i >= s.size() || s[i] != ':') return bad("expected ':'");
    ++i;
    skip();
    if (i >= s.size() || (s[i] != '\'' && s[i] != '"')) return bad("expected a quoted name");
    const char q = s[i++];
    std::string name;
    while (i < s.size() && s[i] != q) {
      if (s[i] == '\\' && i + 1 < s.size()) ++i;
      name += s[i++];
    }
    if (i >= s.size()) return bad("unterminated name");
    ++i;
    m[key] = name;
    skip();
    if (i < s.size() && s[i] == ',') ++i;
    skip();
  }
  if (i >= s.size()) return bad("expected '}'");
  std::vector<std::string> names;
  for (const auto& [k, v] : m) {
    if (k != static_cast<int>(names.size())) return bad("class indices are not 0..n-1");
    names.push_back(v);
  }
  if (names.empty()) return bad("no classes");
  return names;
}

}  // namespace

Result<std::vector<std::string>> ClassNamesFromMetadata(
    const std::map<std::string, std::string>& metadata) {
  if (auto it = metadata.find("vqi.class_names"); it != metadata.end()) {
    auto j = ParseJson(it->second, "model metadata vqi.class_names");
    if (j.ok() && j->is_array() && !j->empty()) {
      std::vector<std::string> names;
      for (const auto& v : *j)
        if (v.is_string()) names.push_back(v.get<std::string>());
      if (names.size() == j->size()) return names;
    }
  }
  if (auto it = metadata.find("names"); it != metadata.end()) return ParsePyNames(it->second);
  return InvalidArgument("model metadata has neither vqi.class_names nor names");
}

}  // namespace vqi::yolo
