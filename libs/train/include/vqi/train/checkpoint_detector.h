// Running a vqi checkpoint with libtorch: the detector behind `vqi model predict|eval` for
// *.safetensors checkpoints, and the reference forward pass that the ONNX export is checked
// against (header is torch-free).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "vqi/base/status.h"
#include "vqi/eval/detector.h"
#include "vqi/model/checkpoint.h"

namespace vqi::train {

// Opens a checkpoint (errors as model::ReadCheckpoint, or InvalidArgument when the weights
// do not fit the recorded model config). `threads` <= 0: all available cores.
// Preprocessing is YOLOv8's: letterbox to the model input (bilinear, gray 114 padding),
// RGB, /255; postprocessing: best class per anchor, conf filter, NMS (libs/eval).
Result<std::unique_ptr<eval::Detector>> OpenCheckpointDetector(const std::string& path,
                                                               int threads = 0);

// The model's `output0` for an input batch: `input` is [batch, 3, input_h, input_w] float
// (RGB, 0..1); returns [batch, 4 + nc, NumAnchors] row-major: (cx, cy, w, h) in input
// pixels, then sigmoid class scores. The reference for ONNX parity tests.
Result<std::vector<float>> ReferenceOutput0(const model::Checkpoint& ckpt,
                                            const std::vector<float>& input, int batch);

// The letterboxed network input of an image file for `cfg` ([1, 3, h, w] RGB 0..1), as the
// checkpoint detector feeds it. Errors name the file.
Result<std::vector<float>> PreprocessImage(const std::string& image_path,
                                           const model::ModelConfig& cfg);

}  // namespace vqi::train
