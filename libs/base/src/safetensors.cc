#include "vqi/base/safetensors.h"

#include <algorithm>
#include <cstring>
#include <tuple>

#include "vqi/base/file.h"
#include "vqi/base/json.h"

namespace vqi {

namespace {
struct DTypeInfo {
  DType t;
  const char* name;
  size_t size;
};
constexpr DTypeInfo kDTypes[] = {{DType::kF32, "F32", 4}, {DType::kF16, "F16", 2},
                                 {DType::kI64, "I64", 8}, {DType::kI32, "I32", 4},
                                 {DType::kU8, "U8", 1},   {DType::kI8, "I8", 1}};
}  // namespace

const char* DTypeName(DType t) {
  for (const auto& d : kDTypes)
    if (d.t == t) return d.name;
  return "?";
}
size_t DTypeSize(DType t) {
  for (const auto& d : kDTypes)
    if (d.t == t) return d.size;
  return 0;
}

int64_t Tensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Tensor Tensor::F32(std::vector<int64_t> shape, const float* values) {
  Tensor t;
  t.dtype = DType::kF32;
  t.shape = std::move(shape);
  t.data.assign(reinterpret_cast<const char*>(values), static_cast<size_t>(t.numel()) * 4);
  return t;
}

std::string SerializeSafetensors(const TensorFile& file) {
  OrderedJson header = OrderedJson::object();
  if (!file.metadata.empty()) {
    OrderedJson meta = OrderedJson::object();
    for (const auto& [k, v] : file.metadata) meta[k] = v;
    header["__metadata__"] = meta;
  }
  size_t offset = 0;
  for (const auto& [name, t] : file.tensors) {
    header[name] = {{"dtype", DTypeName(t.dtype)},
                    {"shape", t.shape},
                    {"data_offsets", {offset, offset + t.data.size()}}};
    offset += t.data.size();
  }
  std::string h = header.dump();
  while (h.size() % 8 != 0) h.push_back(' ');
  std::string out(8, '\0');
  uint64_t n = h.size();
  for (int i = 0; i < 8; ++i)
    out[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
  out += h;
  out.reserve(out.size() + offset);
  for (const auto& [name, t] : file.tensors) out += t.data;
  return out;
}

namespace {

// numel x dtype size, or false when a dimension is negative or the product overflows.
bool ByteSize(const std::vector<int64_t>& shape, size_t elem, uint64_t* out) {
  uint64_t n = elem;
  for (int64_t d : shape) {
    if (d < 0) return false;
    if (d != 0 && n > UINT64_MAX / static_cast<uint64_t>(d)) return false;
    n *= static_cast<uint64_t>(d);
  }
  *out = n;
  return true;
}

}  // namespace

Result<TensorFile> ParseSafetensors(const std::string& bytes, const std::string& where) {
  if (bytes.size() < 8) return DataLoss(where + ": too short for a safetensors file");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i)
    n = (n << 8) | static_cast<unsigned char>(bytes[static_cast<size_t>(i)]);
  if (n > kMaxSafetensorsHeaderBytes)
    return ResourceExhausted(where + ": safetensors header length " + std::to_string(n) +
                             " is over the limit " + std::to_string(kMaxSafetensorsHeaderBytes));
  if (n > bytes.size() - 8)
    return DataLoss(where + ": header length " + std::to_string(n) +
                    " exceeds file size (truncated?)");
  VQI_ASSIGN_OR_RETURN(Json header, ParseJson(std::string_view(bytes).substr(8, n), where));
  if (!header.is_object()) return DataLoss(where + ": header is not a JSON object");
  const size_t base = 8 + n;
  const uint64_t data_size = bytes.size() - base;
  TensorFile out;
  std::vector<std::tuple<uint64_t, uint64_t, std::string>> ranges;  // begin, end, name
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it->is_object()) return DataLoss(where + ": __metadata__ is not an object");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string())
          return DataLoss(where + ": metadata '" + m.key() + "' is not a string");
        out.metadata[m.key()] = m->get<std::string>();
      }
      continue;
    }
    const Json& e = *it;
    const std::string ctx = where + ": tensor '" + it.key() + "'";
    if (!e.is_object() || !e.contains("dtype") || !e.contains("shape") ||
        !e.contains("data_offsets"))
      return DataLoss(ctx + ": needs dtype, shape and data_offsets");
    Tensor t;
    bool known = false;
    for (const auto& d : kDTypes)
      if (e["dtype"] == d.name) t.dtype = d.t, known = true;
    if (!known) return DataLoss(ctx + ": unsupported dtype " + e["dtype"].dump());
    const Json& shape = e["shape"];
    const Json& offsets = e["data_offsets"];
    if (!shape.is_array() || shape.size() > kMaxTensorRank)
      return DataLoss(ctx + ": shape must be an array of at most " +
                      std::to_string(kMaxTensorRank) + " dimensions");
    for (const Json& d : shape) {
      if (!d.is_number_integer() ||
          (d.is_number_integer() && !d.is_number_unsigned() && d.get<int64_t>() < 0))
        return DataLoss(ctx + ": dimension " + d.dump() + " is not a non-negative integer");
      if (d.is_number_unsigned() && d.get<uint64_t>() > uint64_t{INT64_MAX})
        return DataLoss(ctx + ": dimension " + d.dump() + " is too large");
      t.shape.push_back(d.get<int64_t>());
    }
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned())
      return DataLoss(ctx + ": data_offsets must be two non-negative integers");
    const uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
    // Compared with the data size, never added to the base: [2^64 - 8, 2^64 - 4] must not
    // wrap around into the header.
    if (begin > end || end > data_size)
      return DataLoss(ctx + ": data_offsets [" + std::to_string(begin) + ", " +
                      std::to_string(end) + "] outside the " + std::to_string(data_size) +
                      "-byte data section (truncated file?)");
    uint64_t need = 0;
    if (!ByteSize(t.shape, DTypeSize(t.dtype), &need))
      return DataLoss(ctx + ": shape " + shape.dump() + " overflows");
    if (need != end - begin)
      return DataLoss(ctx + ": " + std::to_string(end - begin) + " bytes do not match shape " +
                      shape.dump() + " (" + std::to_string(need) + " bytes)");
    ranges.emplace_back(begin, end, it.key());
    out.tensors.emplace(it.key(), std::move(t));
  }
  // The ranges tile the data section: sorted, each starts where the last ended (empty
  // tensors may share an offset).
  std::sort(ranges.begin(), ranges.end());
  uint64_t at = 0;
  for (const auto& [begin, end, name] : ranges) {
    if (begin != at)
      return DataLoss(where + ": tensor '" + name + "' starts at byte " + std::to_string(begin) +
                      " of the data section, expected " + std::to_string(at) +
                      " (tensors overlap or leave a gap)");
    at = end;
  }
  if (at != data_size)
    return DataLoss(where + ": " + std::to_string(data_size - at) + " bytes after the last tensor");
  for (const auto& [begin, end, name] : ranges)
    out.tensors[name].data = bytes.substr(base + begin, end - begin);
  return out;
}

Status WriteSafetensors(const std::string& path, const TensorFile& file) {
  return WriteFileAtomic(path, SerializeSafetensors(file));
}

Result<TensorFile> ReadSafetensors(const std::string& path) {
  VQI_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path, kMaxSafetensorsFileBytes));
  return ParseSafetensors(bytes, path);
}

}  // namespace vqi
