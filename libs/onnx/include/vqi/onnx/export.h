// Checkpoint -> ONNX with the Ultralytics YOLOv8 detection I/O contract:
//   input  `images`  float32 [1, 3, H, W]   (RGB, 0..1, letterboxed with gray 114)
//   output `output0` float32 [1, 4+nc, N]   (cx, cy, w, h in input pixels; sigmoid scores)
// BatchNorm folded into convolutions, static shapes, opset 13, and metadata_props as
// Ultralytics writes them (`names` "{0: 'scratch'}", `stride`, `imgsz` "[H, W]", `task`,
// `batch`, `description`, `author`, `version`) plus vqi's (`vqi.model_name`,
// `vqi.model_version`, `vqi.run_id`, `vqi.split_digest`, `vqi.scale`, `vqi.weights`).
// Every exported model passes onnx::checker and strict shape inference before it is written.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "vqi/base/status.h"
#include "vqi/model/checkpoint.h"

namespace vqi::onnx {

inline constexpr const char* kInputName = "images";
inline constexpr const char* kOutputName = "output0";
inline constexpr int kOpset = 13;

struct ExportOptions {
  std::string model_version = "1";  // metadata vqi.model_version
  bool float16_weights = false;     // see vqi/onnx/float16.h
};

// The serialized ModelProto. InvalidArgument (naming `where`) when the weights do not match the
// model config; Internal when the checker or shape inference rejects the graph (a bug).
Result<std::string> ExportOnnx(const model::Checkpoint& ckpt, const ExportOptions& options,
                               const std::string& where = "checkpoint");

// Reads `checkpoint_path` (ReadCheckpoint), exports, writes `out_path` atomically.
Status ExportOnnxFile(const std::string& checkpoint_path, const std::string& out_path,
                      const ExportOptions& options);

// What a model file holds, for checks and reports.
struct OnnxSummary {
  std::string input_name, output_name;
  std::vector<int64_t> input_shape, output_shape;
  int32_t input_dtype = 0, output_dtype = 0;  // onnx::TensorProto::DataType
  int64_t opset = 0;
  int node_count = 0;
  std::map<std::string, int> op_counts;
  std::map<std::string, int64_t> initializer_bytes;  // by dtype name ("FLOAT", "FLOAT16", ...)
  std::map<std::string, std::string> metadata;
};

// Parses `bytes`, runs onnx::checker and strict shape inference. DataLoss for bytes that are not
// a model (truncated, not ONNX); InvalidArgument naming the failed check otherwise.
Result<OnnxSummary> CheckOnnx(const std::string& bytes, const std::string& where);
Result<OnnxSummary> CheckOnnxFile(const std::string& path);

}  // namespace vqi::onnx
