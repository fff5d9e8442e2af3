#include "vqi/base/safetensors.h"

#include <cstring>

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
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
  out += h;
  out.reserve(out.size() + offset);
  for (const auto& [name, t] : file.tensors) out += t.data;
  return out;
}

Result<TensorFile> ParseSafetensors(const std::string& bytes, const std::string& where) {
  if (bytes.size() < 8) return DataLoss(where + ": too short for a safetensors file");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[static_cast<size_t>(i)]);
  if (n > bytes.size() - 8) return DataLoss(where + ": header length " + std::to_string(n) +
                                            " exceeds file size (truncated?)");
  VQI_ASSIGN_OR_RETURN(Json header, ParseJson(std::string_view(bytes).substr(8, n), where));
  if (!header.is_object()) return DataLoss(where + ": header is not a JSON object");
  const size_t base = 8 + n;
  TensorFile out;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it->is_object()) return DataLoss(where + ": __metadata__ is not an object");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string()) return DataLoss(where + ": metadata '" + m.key() + "' is not a string");
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
    try {
      t.shape = e["shape"].get<std::vector<int64_t>>();
      auto offs = e["data_offsets"].get<std::vector<uint64_t>>();
      if (offs.size() != 2 || offs[0] > offs[1] || base + offs[1] > bytes.size())
        return DataLoss(ctx + ": data_offsets out of range (truncated file?)");
      for (int64_t d : t.shape)
        if (d < 0) return DataLoss(ctx + ": negative dimension");
      if (static_cast<uint64_t>(t.numel()) * DTypeSize(t.dtype) != offs[1] - offs[0])
        return DataLoss(ctx + ": byte size does not match shape");
      t.data = bytes.substr(base + offs[0], offs[1] - offs[0]);
    } catch (const Json::exception& ex) {
      return DataLoss(ctx + ": " + ex.what());
    }
    out.tensors.emplace(it.key(), std::move(t));
  }
  return out;
}

Status WriteSafetensors(const std::string& path, const TensorFile& file) {
  return WriteFileAtomic(path, SerializeSafetensors(file));
}

Result<TensorFile> ReadSafetensors(const std::string& path) {
  VQI_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  return ParseSafetensors(bytes, path);
}

}  // namespace vqi
