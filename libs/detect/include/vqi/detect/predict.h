// Prediction as a use case: run a detector on an image file, a folder, or a frame in memory.
// Each image file is read and decoded once: the detector and the annotated copy use the same
// pixels.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "vqi/base/json.h"
#include "vqi/base/status.h"
#include "vqi/eval/detector.h"

namespace vqi::detect {

struct PredictOptions {
  eval::DetectOptions detect;  // conf 0.25, iou 0.7, max 300 (see ValidateDetectOptions)
  // When set: predictions.json and an annotated copy of every image are written here. It must
  // not be the folder of an input image (the copies would overwrite the images).
  std::string out_dir;
};

struct ImagePrediction {
  std::string file;
  int width = 0, height = 0;  // of the decoded image: set with --out (out_dir) only
  std::vector<eval::Detection> detections;
  Status status;      // not OK: the image failed (undecodable, model error); nothing else set
  OrderedJson entry;  // the image's predictions.json entry (OK images)
};

struct PredictSummary {
  std::string detector;  // Describe()
  int images = 0;        // run successfully
  int failed = 0;
  size_t detections = 0;
  double seconds = 0;            // decode + detect of the successful images
  std::string predictions_file;  // written when out_dir is set
};

// The files of exactly one of `image` (a file) or `folder` (its images, vqi/yolo/labels.h's
// ListImages). InvalidArgument otherwise, NotFound for a missing file.
Result<std::vector<std::string>> PredictInputs(const std::string& image, const std::string& folder);

// Runs `detector` on every file in order, calling `on_image` after each (failed images too,
// with their status). A failed image does not stop the others; the caller decides what the
// failures mean. out_dir is created with the first successful image. Errors: invalid options,
// an unwritable out_dir, and every image failing (the first failure's code, the first five
// failures listed; nothing is written, not even an empty predictions.json).
Result<PredictSummary> PredictFiles(eval::Detector& detector, const std::vector<std::string>& files,
                                    const PredictOptions& options,
                                    const std::function<void(const ImagePrediction&)>& on_image);

// One frame already in memory (e.g. from a camera). `name` names it in messages.
Result<std::vector<eval::Detection>> PredictFrame(eval::Detector& detector,
                                                  const eval::ImageView& bgr,
                                                  const std::string& name,
                                                  const eval::DetectOptions& detect);

}  // namespace vqi::detect
