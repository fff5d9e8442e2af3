// Issue 22: detection parity of the DCT-reduced JPEG decode. Runs one ONNX model (oneDNN) on
// each image twice — decoded DCT-reduced toward the model input (what vqi-inspect, predict and
// eval do) and at full size (the reference) — and compares the detections: count, same class
// matched greedily by IoU, IoU and score differences. One JSON line per comparison. With
// REF_DIR (the same file names at another size, e.g. the originals of upscaled copies), both
// are also compared with the detections on the reference image, boxes scaled to match.
//
//   build/<dir>/bench/detect_parity MODEL.onnx DIR_OF_IMAGES [CONF] [REF_DIR]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "vqi/infer/detector.h"
#include "vqi/infer/onednn.h"
#include "vqi/yolo/image.h"
#include "vqi/yolo/labels.h"

using namespace vqi;

namespace {

double Iou(const eval::Detection& a, const eval::Detection& b) {
  const double iw = std::max(0.f, std::min(a.x2, b.x2) - std::max(a.x1, b.x1));
  const double ih = std::max(0.f, std::min(a.y2, b.y2) - std::max(a.y1, b.y1));
  const double i = iw * ih;
  const double u = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - i;
  return u > 0 ? i / u : 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: detect_parity MODEL.onnx DIR [CONF]\n");
    return 2;
  }
  infer::RegisterOnednnBackend();
  auto det = infer::OnnxDetector::Open(argv[1], "onednn", {2});
  auto files = yolo::ListImages(argv[2]);
  if (!det.ok() || !files.ok()) {
    std::fprintf(stderr, "%s %s\n", det.status().ToString().c_str(),
                 files.status().ToString().c_str());
    return 1;
  }
  eval::DetectOptions o;
  o.conf_threshold = argc > 3 ? static_cast<float>(std::atof(argv[3])) : 0.25f;
  struct Tally {
    size_t images = 0, same_count = 0, a_n = 0, b_n = 0, matched = 0;
    double min_iou = 1, sum_iou = 0, max_dscore = 0;
    void Add(const std::vector<eval::Detection>& a, const std::vector<eval::Detection>& b) {
      ++images;
      same_count += a.size() == b.size();
      a_n += a.size();
      b_n += b.size();
      std::vector<bool> used(b.size());
      for (const auto& x : a) {
        int best = -1;
        double best_iou = 0;
        for (size_t j = 0; j < b.size(); ++j)
          if (!used[j] && b[j].class_id == x.class_id && Iou(x, b[j]) > best_iou)
            best = static_cast<int>(j), best_iou = Iou(x, b[j]);
        if (best < 0 || best_iou < 0.5) continue;
        used[best] = true;
        ++matched;
        sum_iou += best_iou;
        min_iou = std::min(min_iou, best_iou);
        max_dscore = std::max(max_dscore, std::abs(static_cast<double>(x.score - b[best].score)));
      }
    }
    void Print(const char* what, float conf) const {
      std::printf(
          "{\"compare\":\"%s\",\"images\":%zu,\"conf\":%.3f,\"same_count_images\":%zu,"
          "\"detections_a\":%zu,\"detections_b\":%zu,\"matched_iou50_same_class\":%zu,"
          "\"mean_iou\":%.4f,\"min_iou\":%.4f,\"max_abs_score_diff\":%.4f}\n",
          what, images, conf, same_count, a_n, b_n, matched, matched ? sum_iou / matched : 0,
          min_iou, max_dscore);
    }
  };
  const std::string ref_dir = argc > 4 ? argv[4] : "";
  Tally full_vs_red, ref_vs_full, ref_vs_red;
  for (const std::string& f : *files) {
    (*det)->SetReducedDecode(false);
    auto full = (*det)->Detect(f, o);
    (*det)->SetReducedDecode(true);
    auto red = (*det)->Detect(f, o);
    if (!full.ok() || !red.ok()) {
      std::fprintf(stderr, "%s\n", (full.ok() ? red : full).status().ToString().c_str());
      continue;
    }
    full_vs_red.Add(*full, *red);
    if (ref_dir.empty()) continue;
    const std::string rf = ref_dir + "/" + std::filesystem::path(f).filename().string();
    auto ref_img = yolo::DecodeImageFile(rf);
    auto img = yolo::DecodeImageFile(f);
    (*det)->SetReducedDecode(false);
    auto ref = (*det)->Detect(rf, o);
    if (!ref.ok() || !ref_img.ok() || !img.ok()) continue;
    const float sx = static_cast<float>(img->width) / ref_img->width;
    const float sy = static_cast<float>(img->height) / ref_img->height;
    for (auto& d : *ref) d.x1 *= sx, d.x2 *= sx, d.y1 *= sy, d.y2 *= sy;
    ref_vs_full.Add(*ref, *full);
    ref_vs_red.Add(*ref, *red);
  }
  full_vs_red.Print("a=full decode, b=DCT-reduced decode", o.conf_threshold);
  if (!ref_dir.empty()) {
    ref_vs_full.Print("a=reference image, b=full decode", o.conf_threshold);
    ref_vs_red.Print("a=reference image, b=DCT-reduced decode", o.conf_threshold);
  }
  return 0;
}
