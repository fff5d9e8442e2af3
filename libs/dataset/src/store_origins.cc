// Image origins (uploads from devices) and the unlabeled pool with them (docs/design/dataset.md
// "Origins").
#include <optional>

#include "store_impl.h"
#include "vqi/dataset/text.h"

namespace vqi::dataset {
namespace {

constexpr const char* kOriginColumns =
    "seq, image_id, thing, component, model_name, model_version, result_id, best_score, "
    "image_name, received, message_id";

ImageOrigin OriginFromRow(const Stmt& st) {
  ImageOrigin o;
  o.seq = st.Int(0);
  o.image_id = st.Text(1);
  o.thing = st.Text(2);
  o.component = st.Text(3);
  o.model_name = st.Text(4);
  o.model_version = st.Text(5);
  o.result_id = st.Text(6);
  o.best_score = st.IsNull(7) ? -1 : st.Real(7);
  o.image_name = st.Text(8);
  o.received = st.Text(9);
  o.message_id = st.Text(10);
  return o;
}

}  // namespace

Result<bool> Store::AddOrigin(const ImageOrigin& o) {
  if (o.thing.empty() || o.message_id.empty())
    return InvalidArgument("image origin: thing and message id are required");
  for (const std::string* text : {&o.thing, &o.component, &o.model_name, &o.model_version,
                                  &o.result_id, &o.image_name, &o.received, &o.message_id})
    if (!IsValidUtf8(*text))
      return InvalidArgument("image origin: '" + EscapeNonUtf8(*text) + "' is not valid UTF-8");
  if (!HasImage(o.image_id)) return NotFound("origin for unknown image " + o.image_id);
  if (!o.result_id.empty()) {
    // The same observation sent again under a new message id (the device re-inspected the image
    // after a crash before its journal commit): not a new origin.
    VQI_ASSIGN_OR_RETURN(
        Stmt same, impl_->db.Prepare("SELECT 1 FROM image_origins WHERE image_id = ? AND thing = ? "
                                     "AND result_id = ? AND model_name = ? AND model_version = ?"));
    same.Bind(1, o.image_id).Bind(2, o.thing).Bind(3, o.result_id).Bind(4, o.model_name);
    same.Bind(5, o.model_version);
    VQI_ASSIGN_OR_RETURN(bool exists, same.Step());
    if (exists) return false;
  }
  VQI_ASSIGN_OR_RETURN(
      Stmt st, impl_->db.Prepare("INSERT OR IGNORE INTO image_origins(image_id, thing, component, "
                                 "model_name, model_version, result_id, best_score, image_name, "
                                 "received, message_id) VALUES(?,?,?,?,?,?,?,?,?,?)"));
  st.Bind(1, o.image_id).Bind(2, o.thing).Bind(3, o.component).Bind(4, o.model_name);
  st.Bind(5, o.model_version).Bind(6, o.result_id);
  if (o.best_score >= 0)
    st.Bind(7, o.best_score);
  else
    st.BindNull(7);
  st.Bind(8, o.image_name).Bind(9, o.received).Bind(10, o.message_id);
  VQI_RETURN_IF_ERROR(st.Run());
  return impl_->db.Changes() > 0;
}

Result<std::vector<ImageOrigin>> Store::Origins(const std::string& image_id) const {
  VQI_ASSIGN_OR_RETURN(Stmt st, impl_->db.Prepare(std::string("SELECT ") + kOriginColumns +
                                                  " FROM image_origins WHERE image_id = ? "
                                                  "ORDER BY seq"));
  st.Bind(1, image_id);
  std::vector<ImageOrigin> out;
  while (true) {
    VQI_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.push_back(OriginFromRow(st));
  }
  return out;
}

Result<std::vector<PoolImage>> Store::UnlabeledPool(const PoolQuery& q) const {
  if (q.limit < 0) return InvalidArgument("pool query: limit must be >= 0");
  const bool by_thing = !q.thing.empty();
  const std::string thing_clause = by_thing ? " AND o.thing = ?1" : "";
  VQI_ASSIGN_OR_RETURN(
      Stmt st, impl_->db.Prepare(
                   "SELECT i.id, i.name, i.capture_id, i.width, i.height, i.format, "
                   "(SELECT MAX(o.seq) FROM image_origins o WHERE o.image_id = i.id" +
                   thing_clause +
                   ") AS last FROM images i WHERE NOT EXISTS (SELECT 1 FROM label_events e WHERE "
                   "e.image_id = i.id AND e.status = 'APPROVED')" +
                   (by_thing ? std::string(" AND last IS NOT NULL") : std::string()) +
                   " ORDER BY last IS NULL, last DESC, i.name, i.id LIMIT ?2"));
  if (by_thing) st.Bind(1, q.thing);
  st.Bind(2, q.limit > 0 ? q.limit : int64_t{-1});
  std::vector<PoolImage> out;
  while (true) {
    VQI_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    PoolImage p;
    p.sample.image_id = st.Text(0);
    p.sample.name = EscapeNonUtf8(st.Text(1));
    p.sample.capture_id = EscapeNonUtf8(st.Text(2));
    p.sample.width = static_cast<int>(st.Int(3));
    p.sample.height = static_cast<int>(st.Int(4));
    p.format = st.Text(5);
    p.sample.path = BlobPath(p.sample.image_id, p.format);
    out.push_back(std::move(p));
  }
  for (PoolImage& p : out) {
    VQI_ASSIGN_OR_RETURN(p.origins, Origins(p.sample.image_id));
  }
  return out;
}

Result<int64_t> Store::UnlabeledPoolSize(const std::string& thing) const {
  VQI_ASSIGN_OR_RETURN(
      Stmt st,
      impl_->db.Prepare(
          std::string("SELECT COUNT(*) FROM images i WHERE NOT EXISTS (SELECT 1 FROM label_events "
                      "e WHERE e.image_id = i.id AND e.status = 'APPROVED')") +
          (thing.empty() ? ""
                         : " AND EXISTS (SELECT 1 FROM image_origins o WHERE o.image_id = i.id "
                           "AND o.thing = ?1)")));
  if (!thing.empty()) st.Bind(1, thing);
  VQI_RETURN_IF_ERROR(st.Step().status());
  return st.Int(0);
}

Result<PoolPage> Store::UnlabeledPoolPage(const PoolQuery& q) const {
  std::optional<sqlite::Transaction> snapshot;
  if (!impl_->in_transaction) {
    VQI_ASSIGN_OR_RETURN(sqlite::Transaction tx, sqlite::Transaction::BeginRead(impl_->db));
    snapshot.emplace(std::move(tx));
  }
  PoolPage page;
  VQI_ASSIGN_OR_RETURN(page.images, UnlabeledPool(q));
  VQI_ASSIGN_OR_RETURN(page.total, UnlabeledPoolSize(q.thing));
  if (snapshot) VQI_RETURN_IF_ERROR(snapshot->Commit());
  return page;
}

}  // namespace vqi::dataset
