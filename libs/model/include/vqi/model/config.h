// The detector's architecture, without libtorch: YOLOv8 detection (Ultralytics yolov8.yaml)
// at a width/depth scale, any number of classes, a rectangular input (multiples of 32).
// libs/train builds torch modules from Plan(); libs/onnx emits ONNX nodes from the same Plan(),
// so there is exactly one description of the network.
//
// Weights use Ultralytics' state_dict names ("model.<layer>.<sub>...", e.g.
// "model.0.conv.weight", "model.0.bn.running_mean", "model.2.m.0.cv1.conv.weight",
// "model.22.cv2.0.2.bias", "model.22.dfl.conv.weight"), so Ultralytics weights map 1:1.
#pragma once

#include <string>
#include <vector>

#include "vqi/base/json.h"
#include "vqi/base/status.h"

namespace vqi::model {

// Limits on a model description, checked by ModelConfig::Validate() (and so by FromJson, Plan
// and every checkpoint reader) before anything is allocated from it: a checkpoint's metadata
// is input. docs/limits.md, "Models, training".
inline constexpr int kMaxInputSide = 4096;  // pixels, each side (a multiple of 32)
inline constexpr int kMaxRegMax = 64;       // DFL bins per box side (Ultralytics: 16)
inline constexpr int kMaxClasses = 4096;    // LVIS has 1203
inline constexpr size_t kMaxClassNameBytes = 256;

struct ScaleParams {
  double depth;
  double width;
  int max_channels;
};

// "n", "s", "m", "l", "x" as Ultralytics; "t" (tiny, CPU-first): depth 0.33, width 0.125.
Result<ScaleParams> ScaleFor(const std::string& scale);

struct ModelConfig {
  std::string name = "vqi-det";
  std::string scale = "t";
  std::vector<std::string> class_names = {"scratch"};
  int input_w = 480;  // multiple of 32
  int input_h = 320;  // multiple of 32
  int reg_max = 16;
  std::vector<int> strides = {8, 16, 32};

  int nc() const { return static_cast<int>(class_names.size()); }
  Status Validate() const;
  Json ToJson() const;
  static Result<ModelConfig> FromJson(const Json& j);
};

// One layer of the network, in Ultralytics order (0..22).
enum class LayerType { kConv, kC2f, kSPPF, kUpsample, kConcat, kDetect };
const char* LayerTypeName(LayerType t);

struct Layer {
  int index = 0;
  LayerType type = LayerType::kConv;
  std::vector<int> from;  // absolute layer indices; -1 = the network input (layer 0 only)
  int c_in = 0;           // input channels (sum for Concat; per-level list in detect_ch)
  int c_out = 0;
  int n = 1;                   // repeats (C2f bottlenecks)
  bool shortcut = false;       // C2f residual
  int k = 1, s = 1;            // Conv kernel/stride; SPPF pool kernel in k
  std::vector<int> detect_ch;  // Detect: channels of each input level
  int head_c2 = 0;             // Detect: box branch width = max(16, ch0/4, 4*reg_max)
  int head_c3 = 0;             // Detect: class branch width = max(ch0, min(nc, 100))
};

// REQUIRES: cfg.Validate().ok().
Result<std::vector<Layer>> Plan(const ModelConfig& cfg);

// Number of anchor points (sum over strides of (H/s)*(W/s)).
int NumAnchors(const ModelConfig& cfg);

}  // namespace vqi::model
