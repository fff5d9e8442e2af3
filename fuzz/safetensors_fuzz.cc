// libFuzzer: safetensors bytes (libs/base) and, for files that parse, the vqi checkpoint
// metadata behind them (libs/model): config JSON -> limits -> the layer plan. Every accepted
// tensor must hold exactly numel x dtype-size bytes; every accepted config must be within the
// documented limits.
#include <cstddef>
#include <cstdint>
#include <string>

#include "vqi/base/safetensors.h"
#include "vqi/model/checkpoint.h"
#include "vqi/model/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  auto f = vqi::ParseSafetensors(bytes, "fuzz");
  if (!f.ok()) return 0;
  for (const auto& [name, t] : f->tensors)
    if (t.data.size() != static_cast<size_t>(t.numel()) * vqi::DTypeSize(t.dtype)) __builtin_trap();
  auto c = vqi::model::CheckpointFromTensorFile(std::move(*f), "fuzz");
  if (!c.ok()) return 0;
  const auto& m = c->model;
  if (m.input_w > vqi::model::kMaxInputSide || m.input_h > vqi::model::kMaxInputSide ||
      m.reg_max > vqi::model::kMaxRegMax || m.nc() > vqi::model::kMaxClasses)
    __builtin_trap();
  auto plan = vqi::model::Plan(m);
  if (!plan.ok()) __builtin_trap();  // a validated config always plans
  // Round trip: what was accepted serializes and parses to the same tensors.
  vqi::TensorFile again;
  again.tensors = c->weights;
  auto back = vqi::ParseSafetensors(vqi::SerializeSafetensors(again), "again");
  if (!back.ok() || back->tensors.size() != c->weights.size()) __builtin_trap();
  return 0;
}
