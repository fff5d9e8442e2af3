// Issue 22: batch N gives each image its batch-1 detections. Opens MODEL on oneDNN at batch N
// (the batch-1 export re-batched, plus the batch-1 model), decodes the images of DIR, runs them
// N at a time (OnnxDetector::DetectBatch, one model run) and one by one (DetectDecoded), and
// counts the images whose detections differ in any bit (class, box, score). Exit 1 if any does.
// Also prints the model's p50 per image both ways (images already decoded, runs alternating).
//
//   build/<dir>/bench/batch_parity MODEL.onnx DIR [BATCH=4] [CONF=0.001]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "vqi/infer/detector.h"
#include "vqi/infer/onednn.h"
#include "vqi/yolo/image.h"
#include "vqi/yolo/labels.h"

using namespace vqi;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: batch_parity MODEL.onnx DIR [BATCH] [CONF]\n");
    return 2;
  }
  const int batch = argc > 3 ? std::atoi(argv[3]) : 4;
  eval::DetectOptions o;
  o.conf_threshold = argc > 4 ? static_cast<float>(std::atof(argv[4])) : 0.001f;
  infer::RegisterOnednnBackend();
  infer::BackendOptions bo{2};
  bo.batch = batch;
  auto det = infer::OnnxDetector::Open(argv[1], "onednn", bo);
  auto files = yolo::ListImages(argv[2]);
  if (!det.ok() || !files.ok()) {
    std::fprintf(stderr, "%s %s\n", det.status().ToString().c_str(),
                 files.status().ToString().c_str());
    return 1;
  }
  std::vector<yolo::Image> images;
  for (const std::string& f : *files) {
    auto im = yolo::DecodeImageFile(f, (*det)->DecodeHint());
    if (!im.ok()) {
      std::fprintf(stderr, "%s\n", im.status().ToString().c_str());
      return 1;
    }
    images.push_back(*im);
  }
  size_t compared = 0, differ = 0, boxes = 0, count_differs = 0;
  double max_score = 0, max_box = 0;     // largest differences where the counts agree
  std::vector<double> model_n, model_1;  // per image, ms: the batch run / N, a batch-1 run
  for (size_t i = 0; i + batch <= images.size(); i += batch) {
    std::vector<const yolo::Image*> ptrs;
    std::vector<std::string> names;
    for (int b = 0; b < batch; ++b) {
      ptrs.push_back(&images[i + b]);
      names.push_back((*files)[i + b]);
    }
    auto batched = (*det)->DetectBatch(ptrs, names, o);
    model_n.push_back((*det)->LastBatchTimes()[0].model_ms);
    for (int b = 0; b < batch; ++b) {
      auto single = (*det)->DetectDecoded(images[i + b], names[b], o);
      model_1.push_back((*det)->LastTimes().model_ms);
      if (!batched[b].ok() || !single.ok()) {
        std::fprintf(stderr, "%s: run failed\n", names[b].c_str());
        return 1;
      }
      ++compared;
      boxes += single->size();
      bool same = batched[b]->size() == single->size();
      for (size_t k = 0; same && k < single->size(); ++k) {
        const eval::Detection &x = (*batched[b])[k], &y = (*single)[k];
        same = x.class_id == y.class_id && std::memcmp(&x.x1, &y.x1, sizeof(float)) == 0 &&
               std::memcmp(&x.y1, &y.y1, sizeof(float)) == 0 &&
               std::memcmp(&x.x2, &y.x2, sizeof(float)) == 0 &&
               std::memcmp(&x.y2, &y.y2, sizeof(float)) == 0 &&
               std::memcmp(&x.score, &y.score, sizeof(float)) == 0;
      }
      differ += !same;
      count_differs += batched[b]->size() != single->size();
      if (batched[b]->size() == single->size())
        for (size_t k = 0; k < single->size(); ++k) {
          const eval::Detection &x = (*batched[b])[k], &y = (*single)[k];
          max_score = std::max(max_score, static_cast<double>(std::abs(x.score - y.score)));
          for (float d : {x.x1 - y.x1, x.y1 - y.y1, x.x2 - y.x2, x.y2 - y.y2})
            max_box = std::max(max_box, static_cast<double>(std::abs(d)));
        }
    }
  }
  auto p50 = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
  };
  std::printf(
      "{\"model\":\"%s\",\"batch\":%d,\"conf\":%.4f,\"images\":%zu,\"detections\":%zu,"
      "\"images_differing\":%zu,\"images_count_differs\":%zu,\"max_score_diff\":%.3g,"
      "\"max_box_diff_px\":%.3g,\"model_ms_per_image_p50\":{\"batch\":%.3f,\"single\":%.3f},"
      "\"details\":\"%s\"}\n",
      argv[1], batch, o.conf_threshold, compared, boxes, differ, count_differs, max_score, max_box,
      p50(model_n), p50(model_1),
      (*det)->BatchBackend() ? (*det)->BatchBackend()->Details().substr(0, 60).c_str() : "");
  return differ ? 1 : 0;
}
