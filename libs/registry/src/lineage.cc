// Lineage for RegisterModel: what the training run recorded in its checkpoint's safetensors
// metadata (read from the header only, never the weights), flags, and the report's source.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <sstream>
#include <vector>

#include "show.h"
#include "vqi/base/file.h"
#include "vqi/base/safetensors.h"
#include "vqi/registry/register.h"

namespace vqi::registry {
namespace {

// The "__metadata__" of a safetensors file, reading only its header.
Result<std::map<std::string, std::string>> ReadSafetensorsMetadata(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NotFound(path + ": no such checkpoint");
    return Unavailable(path + ": " + std::strerror(errno));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    return InvalidArgument(path + ": not a regular file");
  unsigned char len8[8];
  if (st.st_size < 8 || ::pread(fd, len8, 8, 0) != 8)
    return InvalidArgument(path + ": not a safetensors checkpoint (shorter than 8 bytes)");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | len8[i];
  if (n > kMaxSafetensorsHeaderBytes || n > uint64_t(st.st_size) - 8)
    return InvalidArgument(path + ": not a safetensors checkpoint (header length " +
                           std::to_string(n) + ")");
  std::string header(n, '\0');
  if (::pread(fd, header.data(), n, 8) != static_cast<ssize_t>(n))
    return Unavailable(path + ": short read of the safetensors header");
  VQI_ASSIGN_OR_RETURN(Json h, ParseJson(header, path + " (safetensors header)"));
  std::map<std::string, std::string> out;
  if (!h.is_object() || !h.contains("__metadata__")) return out;
  const Json& m = h["__metadata__"];
  if (!m.is_object()) return InvalidArgument(path + ": __metadata__ is not an object");
  for (auto it = m.begin(); it != m.end(); ++it)
    if (it.value().is_string()) out[it.key()] = it.value().get<std::string>();
  return out;
}

// "dataset NAME split SPLIT[ + synthetic N]" (libs/train's TrainData::source).
void ParseTrainSource(const std::string& source, std::string* dataset, std::string* split) {
  std::istringstream in(source);
  std::vector<std::string> w;
  for (std::string t; in >> t && w.size() < 4;) w.push_back(t);
  if (w.size() == 4 && w[0] == "dataset" && w[2] == "split") {
    *dataset = w[1];
    *split = w[3];
  }
}

Status Agree(const char* what, const std::string& flag, const std::string& recorded,
             const std::string& checkpoint) {
  if (flag.empty() || recorded.empty() || flag == recorded) return Status::Ok();
  return InvalidArgument(std::string(what) + " '" + Show(flag) + "' contradicts the checkpoint " +
                         checkpoint + ", which records '" + Show(recorded) + "'");
}

std::string JsonString(const Json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

}  // namespace

Result<Lineage> GatherLineage(const RegisterRequest& q, const ReportSummary& report,
                              std::string* checkpoint_path) {
  Lineage l;
  std::string ckpt = q.checkpoint;
  if (ckpt.empty() && !q.run_dir.empty()) {
    const std::string& c = q.run_checkpoint;
    const auto& choices = RunCheckpointChoices();
    if (std::find(choices.begin(), choices.end(), c) == choices.end())
      return InvalidArgument("--run-checkpoint '" + Show(c, 64) +
                             "': not one of best, last, smoothed");
    ckpt = q.run_dir + "/" + c + ".safetensors";
    if (!FileExists(ckpt))
      return NotFound("--run " + q.run_dir + ": no " + c +
                      ".safetensors (is it a `vqi model train` output folder?)");
  }
  *checkpoint_path = ckpt;
  std::string ck_digest, ck_revision, ck_dataset, ck_split;
  Json ck_train;
  if (!ckpt.empty()) {
    VQI_ASSIGN_OR_RETURN(auto meta, ReadSafetensorsMetadata(ckpt));
    if (meta["vqi.format"] != "vqi-checkpoint/1")
      return InvalidArgument(ckpt + ": not a vqi checkpoint (metadata vqi.format is '" +
                             Show(meta["vqi.format"], 64) + "', expected vqi-checkpoint/1)");
    if (!meta["vqi.train"].empty()) {
      VQI_ASSIGN_OR_RETURN(ck_train, ParseJson(meta["vqi.train"], ckpt + " metadata vqi.train"));
      if (!ck_train.is_object())
        return InvalidArgument(ckpt + ": metadata vqi.train is not a JSON object");
      ParseTrainSource(JsonString(ck_train, "source"), &ck_dataset, &ck_split);
    }
    ck_digest = meta["vqi.split_digest"];
    ck_revision = meta["vqi.source_revision"];
    l.run_id = meta["vqi.run_id"];
  }
  VQI_RETURN_IF_ERROR(Agree("--split-digest", q.split_digest, ck_digest, ckpt));
  VQI_RETURN_IF_ERROR(Agree("--source-revision", q.source_revision, ck_revision, ckpt));
  VQI_RETURN_IF_ERROR(Agree("--dataset", q.dataset, ck_dataset, ckpt));
  VQI_RETURN_IF_ERROR(Agree("--split", q.split, ck_split, ckpt));

  l.split_digest = !q.split_digest.empty() ? q.split_digest : ck_digest;
  l.dataset = !q.dataset.empty() ? q.dataset : ck_dataset;
  l.split = !q.split.empty() ? q.split : ck_split;
  // Nothing recorded: the evaluated split (its test part) is the one trained on (train part),
  // unless the checkpoint names another snapshot.
  const std::string r_digest = JsonString(report.source, "split_digest");
  if (l.split_digest.empty() || l.split_digest == r_digest) {
    if (l.dataset.empty() && l.split.empty()) {
      l.dataset = JsonString(report.source, "dataset");
      l.split = JsonString(report.source, "split");
    }
    if (l.split_digest.empty()) l.split_digest = r_digest;
  }
  if (!q.train_config.is_null()) {
    if (!q.train_config.is_object())
      return InvalidArgument("training configuration must be a JSON object");
    l.train_config = q.train_config;
  } else if (ck_train.is_object()) {
    l.train_config = ck_train;
  }
  l.source_revision = !q.source_revision.empty() ? q.source_revision
                      : !ck_revision.empty()     ? ck_revision
                                                 : "unknown";
  l.parent = q.parent;
  return l;
}

}  // namespace vqi::registry
