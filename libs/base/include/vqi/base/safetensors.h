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
Result<TensorFile> ParseSafetensors(const std::string& bytes, const std::string& where);
Status WriteSafetensors(const std::string& path, const TensorFile& file);  // atomic
Result<TensorFile> ReadSafetensors(const std::string& path);

}  // namespace vqi
