// Removing images and checking the store against its blobs.
#include <filesystem>
#include <set>

#include "store_impl.h"
#include "text_formats.h"

namespace vqi::dataset {

namespace {

bool IsHexPrefix(const std::string& s) {
  if (s.size() < 6 || s.size() > 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

constexpr const char* kImageColumns = "id, name, capture_id, width, height, format, source";

ImageRecord ReadImage(const Stmt& st) {
  ImageRecord r;
  r.image_id = st.Text(0);
  r.name = st.Text(1);
  r.capture_id = st.Text(2);
  r.width = static_cast<int>(st.Int(3));
  r.height = static_cast<int>(st.Int(4));
  r.format = st.Text(5);
  r.source = st.Text(6);
  return r;
}

}  // namespace

Result<std::vector<ImageRecord>> Store::FindImages(const std::string& key) const {
  std::vector<ImageRecord> out;
  std::set<std::string> seen;
  auto collect = [&](const std::string& sql, const std::string& arg) -> Status {
    VQI_ASSIGN_OR_RETURN(Stmt st, impl_->db.Prepare(sql));
    st.Bind(1, arg);
    while (true) {
      VQI_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return Status::Ok();
      ImageRecord r = ReadImage(st);
      if (seen.insert(r.image_id).second) out.push_back(std::move(r));
    }
  };
  const std::string select = std::string("SELECT ") + kImageColumns + " FROM images WHERE ";
  if (IsHexPrefix(key))  // ids are lowercase hex: a range scan on the primary key
    VQI_RETURN_IF_ERROR(collect(
        select + "substr(id, 1, " + std::to_string(key.size()) + ") = ?1 ORDER BY id", key));
  VQI_RETURN_IF_ERROR(collect(select + "name = ?1 ORDER BY id", key));
  // A legacy non-UTF-8 name can be given in its %XX form.
  if (out.empty() && key.find('%') != std::string::npos) {
    VQI_ASSIGN_OR_RETURN(Stmt st, impl_->db.Prepare(select + "1 ORDER BY id"));
    while (true) {
      VQI_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      ImageRecord r = ReadImage(st);
      if (!IsValidUtf8(r.name) && EscapeNonUtf8(r.name) == key) out.push_back(std::move(r));
    }
  }
  return out;
}

Result<RemovedImage> Store::RemoveImage(const std::string& image_id, bool drop_from_splits) {
  RemovedImage removed;
  Status st = Transaction([&]() -> Status {
    VQI_ASSIGN_OR_RETURN(Stmt q, impl_->db.Prepare(std::string("SELECT ") + kImageColumns +
                                                   " FROM images WHERE id = ?"));
    q.Bind(1, image_id);
    VQI_ASSIGN_OR_RETURN(bool found, q.Step());
    if (!found) return NotFound("no image " + image_id + " in this dataset");
    removed.image = ReadImage(q);
    VQI_ASSIGN_OR_RETURN(
        Stmt sp, impl_->db.Prepare("SELECT DISTINCT split FROM split_members WHERE image_id = ? "
                                   "ORDER BY split"));
    sp.Bind(1, image_id);
    while (true) {
      VQI_ASSIGN_OR_RETURN(bool row, sp.Step());
      if (!row) break;
      removed.splits.push_back(sp.Text(0));
    }
    if (!removed.splits.empty() && !drop_from_splits) {
      std::string list;
      for (const std::string& s : removed.splits) list += (list.empty() ? "'" : ", '") + s + "'";
      return FailedPrecondition("image " + image_id.substr(0, 12) + " is in split snapshot(s) " +
                                list + "; pass --force to drop it from them too");
    }
    for (const char* sql :
         {"DELETE FROM split_members WHERE image_id = ?",
          "DELETE FROM label_events WHERE image_id = ?",
          "DELETE FROM image_origins WHERE image_id = ?", "DELETE FROM images WHERE id = ?"}) {
      VQI_ASSIGN_OR_RETURN(Stmt del, impl_->db.Prepare(sql));
      VQI_RETURN_IF_ERROR(del.Bind(1, image_id).Run());
      if (std::string(sql).find("label_events") != std::string::npos)
        removed.label_events = impl_->db.Changes();
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  // After the commit: a crash here leaves an unreferenced blob, never a row without its blob.
  VQI_RETURN_IF_ERROR(impl_->blobs->Remove(image_id).status());
  return removed;
}

Result<StoreCheck> Store::Check() const {
  StoreCheck check;
  VQI_ASSIGN_OR_RETURN(Stmt st, impl_->db.Prepare("SELECT id, format FROM images ORDER BY id"));
  while (true) {
    VQI_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    ++check.images;
    const std::string path = BlobPath(st.Text(0), st.Text(1));
    std::error_code ec;
    if (path.empty() || !std::filesystem::exists(path, ec))
      check.problems.push_back("image " + st.Text(0) + ": blob missing (" + path + ")");
  }
  VQI_ASSIGN_OR_RETURN(blob::VerifyReport report, impl_->blobs->Verify());
  check.blobs = report.blobs;
  for (const std::string& c : report.corrupt) check.problems.push_back("damaged blob " + c);
  return check;
}

}  // namespace vqi::dataset
