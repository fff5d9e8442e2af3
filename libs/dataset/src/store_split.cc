// Split snapshots: the part and the label event of every member are stored, so a snapshot
// returns the same samples and digest however the labels change later.
#include <chrono>

#include "store_impl.h"
#include "text_formats.h"
#include "vqi/base/json.h"
#include "vqi/dataset/split.h"

namespace vqi::dataset {
namespace {

constexpr const char* kSampleColumns =
    "i.id, i.name, i.capture_id, i.width, i.height, i.format, e.boxes, e.seq";

Result<Sample> ReadSample(const Store& store, Stmt& st) {
  Sample s;
  s.image_id = st.Text(0);
  s.name = EscapeNonUtf8(st.Text(1));
  s.capture_id = EscapeNonUtf8(st.Text(2));
  s.width = static_cast<int>(st.Int(3));
  s.height = static_cast<int>(st.Int(4));
  s.path = store.BlobPath(s.image_id, st.Text(5));
  VQI_ASSIGN_OR_RETURN(s.boxes, BoxesFromJson(st.Text(6)));
  return s;
}

Result<SplitInfo> ReadInfo(Stmt& st) {
  SplitInfo info;
  info.name = st.Text(0);
  info.seed = static_cast<uint64_t>(st.Int(1));
  VQI_ASSIGN_OR_RETURN(Json r, ParseJson(st.Text(2), "split ratios"));
  if (r.is_array() && r.size() == 3 && r[0].is_number() && r[1].is_number() && r[2].is_number())
    info.ratios = SplitRatios{r[0].get<double>(), r[1].get<double>(), r[2].get<double>()};
  info.digest = st.Text(3);
  info.created_at = st.Real(4);
  info.train = st.Int(5);
  info.val = st.Int(6);
  info.test = st.Int(7);
  return info;
}

constexpr const char* kInfoQuery =
    "SELECT s.name, s.seed, s.ratios, s.digest, s.created_at, "
    "(SELECT COUNT(*) FROM split_members m WHERE m.split = s.name AND m.part = 'train'), "
    "(SELECT COUNT(*) FROM split_members m WHERE m.split = s.name AND m.part = 'val'), "
    "(SELECT COUNT(*) FROM split_members m WHERE m.split = s.name AND m.part = 'test') "
    "FROM splits s";

}  // namespace

Result<SplitInfo> Store::CreateSplit(const std::string& split, const SplitRatios& ratios,
                                     uint64_t seed, bool replace) {
  VQI_RETURN_IF_ERROR(ValidateRatios(ratios));
  if (split.empty()) return InvalidArgument("split name is empty");
  // Labeled images with their current event.
  VQI_ASSIGN_OR_RETURN(
      Stmt st, impl_->db.Prepare(std::string("SELECT ") + kSampleColumns +
                                 " FROM images i JOIN label_events e ON e.seq = (SELECT "
                                 "seq FROM label_events x WHERE x.image_id = i.id AND "
                                 "x.status = 'APPROVED' ORDER BY x.event_time DESC, x.seq DESC "
                                 "LIMIT 1) ORDER BY i.id"));
  std::vector<Sample> samples;
  std::vector<int64_t> seqs;
  while (true) {
    VQI_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    VQI_ASSIGN_OR_RETURN(Sample s, ReadSample(*this, st));
    samples.push_back(std::move(s));
    seqs.push_back(st.Int(7));
  }
  if (samples.empty())
    return FailedPrecondition("no labeled images to split (import a dataset first)");
  const std::vector<std::string> parts = AssignSplit(samples, ratios, seed);
  std::vector<std::pair<std::string, Sample>> members;
  for (size_t i = 0; i < samples.size(); ++i) members.emplace_back(parts[i], samples[i]);
  const std::string digest = SplitDigestOf(members);

  auto existing = SplitDigest(split);
  if (existing.ok() && !replace) {
    if (*existing != digest)
      return AlreadyExists("split '" + split + "' exists with other content (digest " +
                           existing->substr(0, 12) + "); choose another name or replace it");
  } else {
    VQI_RETURN_IF_ERROR(Transaction([&]() -> Status {
      for (const char* sql :
           {"DELETE FROM split_members WHERE split = ?", "DELETE FROM splits WHERE name = ?"}) {
        VQI_ASSIGN_OR_RETURN(Stmt del, impl_->db.Prepare(sql));
        VQI_RETURN_IF_ERROR(del.Bind(1, split).Run());
      }
      VQI_ASSIGN_OR_RETURN(Stmt ins,
                           impl_->db.Prepare("INSERT INTO splits(name, seed, ratios, digest, "
                                             "created_at) VALUES(?,?,?,?,?)"));
      const double now =
          std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
              .count();
      ins.Bind(1, split).Bind(2, static_cast<int64_t>(seed));
      ins.Bind(3, Json::array({ratios.train, ratios.val, ratios.test}).dump());
      VQI_RETURN_IF_ERROR(ins.Bind(4, digest).Bind(5, now).Run());
      VQI_ASSIGN_OR_RETURN(Stmt mem,
                           impl_->db.Prepare("INSERT INTO split_members(split, image_id, part, "
                                             "event_seq) VALUES(?,?,?,?)"));
      for (size_t i = 0; i < samples.size(); ++i) {
        mem.Reset();
        mem.Bind(1, split).Bind(2, samples[i].image_id).Bind(3, parts[i]).Bind(4, seqs[i]);
        VQI_RETURN_IF_ERROR(mem.Run());
      }
      return Status::Ok();
    }));
  }
  VQI_ASSIGN_OR_RETURN(std::vector<SplitInfo> all, Splits());
  for (const SplitInfo& info : all)
    if (info.name == split) return info;
  return Internal("split '" + split + "' vanished after creation");
}

Result<std::vector<SplitInfo>> Store::Splits() const {
  VQI_ASSIGN_OR_RETURN(Stmt st, impl_->db.Prepare(std::string(kInfoQuery) + " ORDER BY s.name"));
  std::vector<SplitInfo> out;
  while (true) {
    VQI_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    VQI_ASSIGN_OR_RETURN(SplitInfo info, ReadInfo(st));
    out.push_back(std::move(info));
  }
  return out;
}

Result<std::string> Store::SplitDigest(const std::string& split) const {
  VQI_ASSIGN_OR_RETURN(Stmt st, impl_->db.Prepare("SELECT digest FROM splits WHERE name = ?"));
  st.Bind(1, split);
  VQI_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return NotFound("no split named '" + split + "' (create it with `vqi dataset split`)");
  return st.Text(0);
}

Result<std::vector<Sample>> Store::SplitSamples(const std::string& split,
                                                const std::string& part) const {
  if (part != "train" && part != "val" && part != "test")
    return InvalidArgument("split part '" + part + "': expected train, val or test");
  VQI_RETURN_IF_ERROR(SplitDigest(split).status());
  VQI_ASSIGN_OR_RETURN(Stmt st,
                       impl_->db.Prepare(std::string("SELECT ") + kSampleColumns +
                                         " FROM split_members m JOIN images i ON i.id = m.image_id "
                                         "JOIN label_events e ON e.seq = m.event_seq "
                                         "WHERE m.split = ? AND m.part = ? ORDER BY i.name, i.id"));
  st.Bind(1, split).Bind(2, part);
  std::vector<Sample> out;
  while (true) {
    VQI_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    VQI_ASSIGN_OR_RETURN(Sample s, ReadSample(*this, st));
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace vqi::dataset
