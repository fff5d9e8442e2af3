// vqi-infer-min: the smallest program a device runs to inspect images. It links the inference
// core (libs/infer, libs/yolo, libs/eval), the oneDNN backend and the lower layer (libs/base)
// only: no libtorch, no OpenCV dnn, no exporter (tests/edge/edge_link_test.sh checks the binary).
//
//   vqi-infer-min MODEL.onnx IMAGE... [--threads N] [--conf X]
// prints one JSON line per image: {"file", "detections": [{"box", "score", "class"}]}.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "vqi/base/json.h"
#include "vqi/infer/detector.h"
#include "vqi/infer/onednn.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc), images;
  std::string model;
  int threads = 1;
  vqi::eval::DetectOptions detect;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--threads" && i + 1 < args.size()) {
      threads = std::atoi(args[++i].c_str());
    } else if (args[i] == "--conf" && i + 1 < args.size()) {
      detect.conf_threshold = std::strtof(args[++i].c_str(), nullptr);
    } else if (model.empty()) {
      model = args[i];
    } else {
      images.push_back(args[i]);
    }
  }
  if (model.empty() || images.empty() || threads < 1 || threads > 256) {
    std::fprintf(stderr,
                 "usage: vqi-infer-min MODEL.onnx IMAGE... [--threads 1..256] [--conf X]\n");
    return 2;
  }
  vqi::infer::RegisterOnednnBackend();
  auto detector = vqi::infer::OnnxDetector::Open(model, "onednn", {threads});
  if (!detector.ok()) {
    std::fprintf(stderr, "error: %s\n", detector.status().ToString().c_str());
    return 1;
  }
  const std::vector<std::string> names = (*detector)->ClassNames();
  int failed = 0;
  for (const std::string& image : images) {
    auto dets = (*detector)->Detect(image, detect);
    if (!dets.ok()) {
      std::fprintf(stderr, "error: %s\n", dets.status().ToString().c_str());
      ++failed;
      continue;
    }
    vqi::OrderedJson j;
    j["file"] = image;
    j["detections"] = vqi::OrderedJson::array();
    for (const auto& d : *dets)
      j["detections"].push_back(
          {{"box", {d.x1, d.y1, d.x2, d.y2}}, {"score", d.score}, {"class", names[d.class_id]}});
    std::printf("%s\n", j.dump().c_str());
  }
  return failed ? 1 : 0;
}
