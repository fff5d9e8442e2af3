#include "vqi/onnx/float16.h"

#include <cstring>
#include <map>
#include <vector>

#include "proto_util.h"

namespace vqi::onnx {

uint16_t FloatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t exp = (x >> 23) & 0xffu;
  uint32_t mant = x & 0x7fffffu;
  if (exp == 0xff) return static_cast<uint16_t>(sign | 0x7c00u | (mant ? 0x200u : 0u));
  int e = static_cast<int>(exp) - 127 + 15;
  if (e >= 31) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow -> inf
  if (e <= 0) {                                               // subnormal or zero
    if (e < -10) return static_cast<uint16_t>(sign);
    mant |= 0x800000u;
    const int shift = 14 - e;
    uint32_t h = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1), halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (h & 1u))) ++h;
    return static_cast<uint16_t>(sign | h);
  }
  uint32_t h = (static_cast<uint32_t>(e) << 10) | (mant >> 13);
  const uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;  // may carry into exponent: correct
  return static_cast<uint16_t>(sign | h);
}

float HalfToFloat(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu, x;
  if (exp == 0) {
    if (mant == 0) {
      x = sign;
    } else {  // subnormal: normalize
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while (!(mant & 0x400u));
      x = sign | (static_cast<uint32_t>(127 - 15 - e) << 23) | ((mant & 0x3ffu) << 13);
    }
  } else if (exp == 31) {
    x = sign | 0x7f800000u | (mant << 13);
  } else {
    x = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

void ConvertConvWeightsToFloat16(::onnx::ModelProto* m) {
  ::onnx::GraphProto* g = m->mutable_graph();
  std::map<std::string, int> index;
  for (int i = 0; i < g->initializer_size(); ++i) index[g->initializer(i).name()] = i;
  std::vector<::onnx::NodeProto> casts;
  std::vector<bool> drop(static_cast<size_t>(g->initializer_size()), false);
  std::vector<::onnx::TensorProto> halves;
  for (const auto& node : g->node()) {
    if (node.op_type() != "Conv") continue;
    for (int k = 1; k < node.input_size(); ++k) {
      auto it = index.find(node.input(k));
      if (it == index.end() || drop[static_cast<size_t>(it->second)]) continue;
      const ::onnx::TensorProto& t = g->initializer(it->second);
      if (t.data_type() != ::onnx::TensorProto::FLOAT || !t.has_raw_data()) continue;
      const size_t n = t.raw_data().size() / 4;
      std::vector<float> f(n);
      std::memcpy(f.data(), t.raw_data().data(), n * 4);
      std::string raw(n * 2, '\0');
      for (size_t i = 0; i < n; ++i) {
        const uint16_t h = FloatToHalf(f[i]);
        std::memcpy(&raw[i * 2], &h, 2);
      }
      ::onnx::TensorProto half;
      half.set_name(t.name() + "_fp16");
      half.set_data_type(::onnx::TensorProto::FLOAT16);
      *half.mutable_dims() = t.dims();
      half.set_raw_data(raw);
      halves.push_back(std::move(half));
      ::onnx::NodeProto cast;
      cast.set_op_type("Cast");
      cast.set_name(t.name() + "_Cast");
      cast.add_input(t.name() + "_fp16");
      cast.add_output(t.name());
      auto* to = cast.add_attribute();
      to->set_name("to");
      to->set_type(::onnx::AttributeProto::INT);
      to->set_i(::onnx::TensorProto::FLOAT);
      casts.push_back(std::move(cast));
      drop[static_cast<size_t>(it->second)] = true;
    }
  }
  if (casts.empty()) return;
  ::google::protobuf::RepeatedPtrField<::onnx::TensorProto> inits;
  for (int i = 0; i < g->initializer_size(); ++i)
    if (!drop[static_cast<size_t>(i)]) *inits.Add() = g->initializer(i);
  for (auto& h : halves) *inits.Add() = std::move(h);
  g->mutable_initializer()->Swap(&inits);
  ::google::protobuf::RepeatedPtrField<::onnx::NodeProto> nodes;
  for (auto& c : casts) *nodes.Add() = std::move(c);
  for (const auto& n : g->node()) *nodes.Add() = n;
  g->mutable_node()->Swap(&nodes);
  for (auto& p : *m->mutable_metadata_props())
    if (p.key() == "vqi.weights") p.set_value("float16");
}

Result<std::string> ConvertWeightsToFloat16(const std::string& onnx_bytes,
                                            const std::string& where) {
  ::onnx::ModelProto m;
  VQI_RETURN_IF_ERROR(ParseModel(onnx_bytes, where, &m));
  ConvertConvWeightsToFloat16(&m);
  VQI_RETURN_IF_ERROR(CheckModel(m, where + " (float16)").status());
  std::string out;
  if (!m.SerializeToString(&out)) return Internal(where + ": ONNX serialization failed");
  return out;
}

}  // namespace vqi::onnx
