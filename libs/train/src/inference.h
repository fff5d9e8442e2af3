// Validation of a model in memory (mAP through libs/eval). Private to libs/train.
#pragma once

#include <vector>

#include "data.h"
#include "replicas.h"
#include "vqi/base/status.h"
#include "yolo.h"

namespace vqi::train {

struct ValMetrics {
  double map50 = 0, map50_95 = 0, precision = 0, recall = 0;
};

// Runs `model` (switched to eval mode) on letterboxed `images` in batches and scores the
// detections (conf 0.001, NMS IoU 0.7, max 300) against their boxes. With `helper`, the second
// half of the images runs on that thread at the same time (the same result: detections are
// scored in image order).
Result<ValMetrics> Validate(Yolo& model, const std::vector<LabeledImage>& images, int batch,
                            ReplicaThread* helper = nullptr);

// Runs the network on one image (letterboxed by libs/yolo) and returns detections in original
// pixels. DataLoss naming `name` when the output holds inf/NaN.
Result<std::vector<eval::Detection>> DetectImage(Yolo& model, const yolo::ImageView& bgr,
                                                 const std::string& name,
                                                 const eval::DetectOptions& options);

}  // namespace vqi::train
