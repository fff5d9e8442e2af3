#include "vqi/model/checkpoint.h"

#include <charconv>

namespace vqi::model {

Status WriteCheckpoint(const std::string& path, const Checkpoint& ckpt) {
  TensorFile f;
  f.tensors = ckpt.weights;
  f.metadata["vqi.format"] = kCheckpointFormat;
  f.metadata["vqi.model"] = ckpt.model.ToJson().dump();
  f.metadata["vqi.train"] = ckpt.train.dump();
  f.metadata["vqi.split_digest"] = ckpt.split_digest;
  f.metadata["vqi.metrics"] = ckpt.metrics.dump();
  f.metadata["vqi.run_id"] = ckpt.run_id;
  f.metadata["vqi.epoch"] = std::to_string(ckpt.epoch);
  return WriteSafetensors(path, f);
}

Result<Checkpoint> ReadCheckpoint(const std::string& path) {
  VQI_ASSIGN_OR_RETURN(TensorFile f, ReadSafetensors(path));
  return CheckpointFromTensorFile(std::move(f), path);
}

Result<Checkpoint> CheckpointFromTensorFile(TensorFile f, const std::string& path) {
  auto it = f.metadata.find("vqi.format");
  if (it == f.metadata.end() || it->second != kCheckpointFormat)
    return InvalidArgument(path + ": not a vqi checkpoint (metadata vqi.format is missing or not " +
                           std::string(kCheckpointFormat) + ")");
  Checkpoint c;
  auto meta = [&](const std::string& k) {
    auto m = f.metadata.find(k);
    return m == f.metadata.end() ? std::string() : m->second;
  };
  VQI_ASSIGN_OR_RETURN(Json model, ParseJson(meta("vqi.model"), path + " vqi.model"));
  VQI_ASSIGN_OR_RETURN(c.model, ModelConfig::FromJson(model));
  if (!meta("vqi.train").empty()) {
    VQI_ASSIGN_OR_RETURN(c.train, ParseJson(meta("vqi.train"), path + " vqi.train"));
  }
  if (!meta("vqi.metrics").empty()) {
    VQI_ASSIGN_OR_RETURN(c.metrics, ParseJson(meta("vqi.metrics"), path + " vqi.metrics"));
  }
  c.split_digest = meta("vqi.split_digest");
  c.run_id = meta("vqi.run_id");
  if (const std::string e = meta("vqi.epoch"); !e.empty()) {
    auto r = std::from_chars(e.data(), e.data() + e.size(), c.epoch);
    if (r.ec != std::errc() || r.ptr != e.data() + e.size() || c.epoch < 0)
      return InvalidArgument(path + ": metadata vqi.epoch '" + e + "' is not an epoch number");
  }
  c.weights = std::move(f.tensors);
  return c;
}

}  // namespace vqi::model
