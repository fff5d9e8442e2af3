// Predictions as JSON (what `vqi model predict` writes), and a Detector that replays a saved
// predictions file, so detections from any model or tool can be evaluated.
//
// predictions.json:
//   {"model": "<Describe()>", "classes": ["scratch", ...],
//    "images": [{"file": "/abs/or/relative/a.jpg", "width": 450, "height": 300,
//                "detections": [{"box": [x1, y1, x2, y2], "score": 0.91,
//                                "class_id": 0, "class": "scratch"}, ...]}, ...]}
// Boxes are corners in original-image pixels.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "vqi/base/json.h"
#include "vqi/base/status.h"
#include "vqi/eval/detector.h"

namespace vqi::eval {

// One image's entry of predictions.json ("width"/"height" only when > 0).
OrderedJson PredictionToJson(const std::string& file, int width, int height,
                             std::span<const Detection> detections,
                             const std::vector<std::string>& class_names);

// The whole file from its image entries.
OrderedJson PredictionsFileJson(const std::string& model,
                                const std::vector<std::string>& class_names,
                                std::vector<OrderedJson> images);

// Opens a predictions file as a Detector. Detect() looks the image up by its path, else by
// its file name (NotFound if absent or ambiguous), keeps detections with score >=
// conf_threshold, highest first, up to max_detections; no further NMS. InvalidArgument naming
// the file and the entry for malformed content.
Result<std::unique_ptr<Detector>> OpenPredictionsFile(const std::string& path);

}  // namespace vqi::eval
