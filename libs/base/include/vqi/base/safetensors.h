// Named tensors in the safetensors format (https://huggingface.co/docs/safetensors):
// an 8-byte little-endian header length, a JSON header
//   {"<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
//    "__metadata__": {"<key>": "<string>"}}
// then the raw little-endian data. Used for model checkpoints so that libraries without
// libtorch (onnx export, infer) read weights, and other tools (Python's safetensors) can too.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "vqi/base/status.h"

namespace vqi {

// Limits (docs/limits.md, "Models, training"), checked before anything is allocated:
// the header length is the safetensors reference implementation's (100 MB); a file is at most
// 4 GiB (a YOLOv8x checkpoint is ~270 MB); a tensor has at most 8 dimensions.
inline constexpr uint64_t kMaxSafetensorsHeaderBytes = 100'000'000;
inline constexpr uint64_t kMaxSafetensorsFileBytes = uint64_t{4} << 30;
inline constexpr size_t kMaxTensorRank = 8;

enum class DType { kF32, kF16, kI64, kI32, kU8, kI8 };
const char* DTypeName(DType t);  // "F32", ...
size_t DTypeSize(DType t);

struct Tensor {
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  std::string data;  // raw bytes, numel * DTypeSize(dtype)

  int64_t numel() const;
  // REQUIRES: dtype == kF32.
  const float* f32() const { return reinterpret_cast<const float*>(data.data()); }
  float* f32() { return reinterpret_cast<float*>(data.data()); }
  static Tensor F32(std::vector<int64_t> shape, const float* values);
};

struct TensorFile {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> metadata;
};

// Serializes deterministically (names sorted).
std::string SerializeSafetensors(const TensorFile& file);
// As the reference implementation: the tensors' byte ranges must tile the data section exactly
// (no gap, no overlap, nothing after), each range holds numel x dtype-size bytes, and the
// sizes never overflow. Errors name `where` and the tensor: DataLoss for a damaged or
// inconsistent file, ResourceExhausted for a header over the limit.
Result<TensorFile> ParseSafetensors(const std::string& bytes, const std::string& where);
Status WriteSafetensors(const std::string& path, const TensorFile& file);  // atomic
// ReadFile's errors (a directory is named as one), ResourceExhausted over
// kMaxSafetensorsFileBytes (before reading), then ParseSafetensors'.
Result<TensorFile> ReadSafetensors(const std::string& path);

}  // namespace vqi
