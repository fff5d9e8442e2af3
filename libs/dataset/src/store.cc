#include "vqi/dataset/store.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>

#include "store_impl.h"
#include "text_formats.h"
#include "vqi/base/file.h"
#include "vqi/base/json.h"
#include "vqi/dataset/limits.h"
#include "vqi/dataset/split.h"

namespace vqi::dataset {
namespace fs = std::filesystem;

namespace {

// Version 1 is the schema stores had before versioning (IF NOT EXISTS: it adopts them).
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS classes (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS images (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, capture_id TEXT NOT NULL, width INTEGER NOT NULL,
  height INTEGER NOT NULL, format TEXT NOT NULL, source TEXT NOT NULL, added_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS label_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, image_id TEXT NOT NULL REFERENCES images(id),
  boxes TEXT NOT NULL, status TEXT NOT NULL CHECK (status IN ('PENDING','APPROVED','REJECTED')),
  event_time REAL NOT NULL, job TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS label_events_image ON label_events(image_id, event_time, seq);
CREATE TABLE IF NOT EXISTS splits (
  name TEXT PRIMARY KEY, seed INTEGER NOT NULL, ratios TEXT NOT NULL, digest TEXT NOT NULL,
  created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS split_members (
  split TEXT NOT NULL REFERENCES splits(name), image_id TEXT NOT NULL, part TEXT NOT NULL,
  event_seq INTEGER NOT NULL, PRIMARY KEY (split, image_id));
)sql";

// Version 2: where uploaded images came from (store_origins.cc).
constexpr const char* kSchemaV2 = R"sql(
CREATE TABLE image_origins (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, image_id TEXT NOT NULL REFERENCES images(id),
  thing TEXT NOT NULL, component TEXT NOT NULL, model_name TEXT NOT NULL,
  model_version TEXT NOT NULL, result_id TEXT NOT NULL, best_score REAL, image_name TEXT NOT NULL,
  received TEXT NOT NULL, message_id TEXT NOT NULL, UNIQUE (thing, message_id));
CREATE INDEX image_origins_image ON image_origins(image_id, seq);
)sql";

const std::vector<sqlite::Migration> kMigrations = {{1, kSchemaV1, nullptr},
                                                    {2, kSchemaV2, nullptr}};

double Now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

Status Store::SyncBlobs() { return impl_->blobs->Sync(); }

std::string BoxesToJson(const std::vector<Box>& boxes) {
  Json arr = Json::array();
  for (const Box& b : boxes) arr.push_back({b.class_id, b.x, b.y, b.w, b.h});
  return arr.dump();
}

Result<std::vector<Box>> BoxesFromJson(const std::string& text) {
  VQI_ASSIGN_OR_RETURN(Json j, ParseJson(text, "stored boxes"));
  std::vector<Box> boxes;
  try {
    for (const Json& b : j)
      boxes.push_back(Box{b.at(0).get<int>(), b.at(1).get<float>(), b.at(2).get<float>(),
                          b.at(3).get<float>(), b.at(4).get<float>()});
  } catch (const Json::exception& e) {
    return DataLoss(std::string("stored boxes: ") + e.what());
  }
  return boxes;
}

namespace {

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 64 || name[0] == '.') return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      return false;
  return true;
}

std::string ExtensionOf(const std::string& format) {
  if (format == "jpeg") return ".jpg";
  return "." + format;
}

}  // namespace

const char* LabelStatusName(LabelStatus s) {
  switch (s) {
    case LabelStatus::kPending:
      return "PENDING";
    case LabelStatus::kApproved:
      return "APPROVED";
    case LabelStatus::kRejected:
      return "REJECTED";
  }
  return "?";
}

Result<LabelStatus> ParseLabelStatus(std::string_view s) {
  if (s == "APPROVED") return LabelStatus::kApproved;
  if (s == "PENDING") return LabelStatus::kPending;
  if (s == "REJECTED") return LabelStatus::kRejected;
  return InvalidArgument("unknown label status '" + std::string(s) +
                         "' (expected APPROVED, PENDING or REJECTED)");
}

std::string CaptureIdOf(const std::string& file_name) {
  const size_t c = file_name.find("-cropped");
  if (c != std::string::npos && c > 0) return file_name.substr(0, c);
  const size_t dot = file_name.rfind('.');
  return dot == std::string::npos || dot == 0 ? file_name : file_name.substr(0, dot);
}

Store::Store(std::string dir, std::unique_ptr<Impl> impl)
    : dir_(std::move(dir)), impl_(std::move(impl)) {}
Store::~Store() = default;

std::vector<std::string> Store::List(const std::string& home) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(fs::path(home) / "datasets", ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string n = it->path().filename().string();
    if (ValidName(n) && fs::exists(it->path() / "dataset.db", ec)) names.push_back(n);
  }
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::unique_ptr<Store>> Store::Open(const std::string& home, const std::string& name,
                                           bool create, int busy_timeout_ms) {
  if (!ValidName(name))
    return InvalidArgument("dataset name '" + EscapeNonUtf8(name) +
                           "': use 1-64 letters, digits, '-', '_', '.' (not first)");
  std::error_code ec;
  const std::string dir = fs::absolute(fs::path(home) / "datasets" / name, ec).string();
  if (!create && !fs::exists(dir + "/dataset.db", ec)) {
    const std::vector<std::string> names = List(home);
    std::string known;
    for (const std::string& n : names) known += (known.empty() ? "" : ", ") + n;
    return NotFound("no dataset '" + name + "' in " + home + " (" +
                    (names.empty() ? std::string("there are none yet") : "existing: " + known) +
                    "); create one with `vqi dataset import` or `vqi dataset synth`");
  }
  blob::BlobStoreOptions blob_options;
  blob_options.durability = blob::Durability::kBatch;
  blob_options.max_blob_bytes = kMaxImageFileBytes;
  VQI_ASSIGN_OR_RETURN(auto blobs, blob::BlobStore::Open(dir + "/blobs", blob_options));
  sqlite::OpenOptions db_options;
  db_options.busy_timeout_ms = busy_timeout_ms;
  VQI_ASSIGN_OR_RETURN(Db db, Db::Open(dir + "/dataset.db", db_options));
  VQI_RETURN_IF_ERROR(db.Migrate(kMigrations));
  return std::unique_ptr<Store>(
      new Store(dir, std::make_unique<Impl>(std::move(db), std::move(blobs))));
}

std::vector<std::string> Store::ClassNames() const {
  std::vector<std::string> names;
  auto st = impl_->db.Prepare("SELECT name FROM classes ORDER BY id");
  if (!st.ok()) return names;
  while (true) {
    auto row = st->Step();
    if (!row.ok() || !*row) break;
    names.push_back(EscapeNonUtf8(st->Text(0)));  // legacy names from before the UTF-8 check
  }
  return names;
}

Result<int> Store::EnsureClass(const std::string& name) {
  if (name.empty() || !IsValidUtf8(name))
    return InvalidArgument("class name '" + EscapeNonUtf8(name) + "' is empty or not UTF-8");
  const std::vector<std::string> names = ClassNames();
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<int>(i);
  VQI_ASSIGN_OR_RETURN(Stmt st, impl_->db.Prepare("INSERT INTO classes(id, name) VALUES(?, ?)"));
  VQI_RETURN_IF_ERROR(st.Bind(1, static_cast<int64_t>(names.size())).Bind(2, name).Run());
  return static_cast<int>(names.size());
}

Status Store::Transaction(const std::function<Status()>& body) {
  if (impl_->in_transaction) return body();  // nested: part of the outer transaction
  VQI_ASSIGN_OR_RETURN(sqlite::Transaction tx, sqlite::Transaction::Begin(impl_->db));
  impl_->in_transaction = true;
  Status st = body();
  impl_->in_transaction = false;
  // Blobs reach the disk before the rows that reference them.
  if (st.ok()) st = SyncBlobs();
  if (st.ok()) st = tx.Commit();
  return st;  // not committed: rolled back by tx
}

std::string Store::BlobPath(const std::string& image_id, const std::string& format) const {
  auto path = impl_->blobs->Path(image_id, ExtensionOf(format));
  return path.ok() ? *path : std::string();
}

bool Store::HasImage(const std::string& image_id) const {
  auto st = impl_->db.Prepare("SELECT 1 FROM images WHERE id = ?");
  if (!st.ok()) return false;
  st->Bind(1, image_id);
  auto row = st->Step();
  return row.ok() && *row;
}

Result<bool> Store::AddImage(const ImageRecord& r, std::string_view bytes) {
  if (HasImage(r.image_id)) return false;
  if (!IsValidUtf8(r.name))
    return InvalidArgument("image name '" + EscapeNonUtf8(r.name) + "' is not valid UTF-8");
  VQI_ASSIGN_OR_RETURN(blob::PutResult put, impl_->blobs->Put(bytes, ExtensionOf(r.format)));
  if (put.digest != r.image_id)
    return InvalidArgument("image " + r.name + ": id " + r.image_id +
                           " is not the SHA-256 of its bytes (" + put.digest + ")");
  if (!impl_->in_transaction) VQI_RETURN_IF_ERROR(SyncBlobs());
  VQI_ASSIGN_OR_RETURN(Stmt st,
                       impl_->db.Prepare("INSERT INTO images(id, name, capture_id, width, height, "
                                         "format, source, added_at) VALUES(?,?,?,?,?,?,?,?)"));
  st.Bind(1, r.image_id).Bind(2, r.name).Bind(3, r.capture_id).Bind(4, int64_t{r.width});
  st.Bind(5, int64_t{r.height}).Bind(6, r.format).Bind(7, r.source).Bind(8, Now());
  VQI_RETURN_IF_ERROR(st.Run());
  return true;
}

Result<bool> Store::AppendLabel(const LabelEvent& e) {
  if (!HasImage(e.image_id)) return NotFound("label for unknown image " + e.image_id);
  if (!IsValidUtf8(e.job))
    return InvalidArgument("label job '" + EscapeNonUtf8(e.job) + "' is not valid UTF-8");
  const std::string boxes = BoxesToJson(e.boxes);
  VQI_ASSIGN_OR_RETURN(Stmt dup,
                       impl_->db.Prepare("SELECT 1 FROM label_events WHERE image_id=? AND boxes=? "
                                         "AND status=? AND event_time=? AND job=?"));
  dup.Bind(1, e.image_id).Bind(2, boxes).Bind(3, LabelStatusName(e.status));
  dup.Bind(4, e.event_time).Bind(5, e.job);
  VQI_ASSIGN_OR_RETURN(bool exists, dup.Step());
  if (exists) return false;
  VQI_ASSIGN_OR_RETURN(Stmt st,
                       impl_->db.Prepare("INSERT INTO label_events(image_id, boxes, status, "
                                         "event_time, job) VALUES(?,?,?,?,?)"));
  st.Bind(1, e.image_id).Bind(2, boxes).Bind(3, LabelStatusName(e.status));
  st.Bind(4, e.event_time).Bind(5, e.job);
  VQI_RETURN_IF_ERROR(st.Run());
  return true;
}

Result<std::vector<LabelEvent>> Store::LabelHistory(const std::string& image_id) const {
  VQI_ASSIGN_OR_RETURN(Stmt st,
                       impl_->db.Prepare("SELECT seq, boxes, status, event_time, job FROM "
                                         "label_events WHERE image_id=? ORDER BY event_time, seq"));
  st.Bind(1, image_id);
  std::vector<LabelEvent> out;
  while (true) {
    VQI_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    LabelEvent e;
    e.seq = st.Int(0);
    e.image_id = image_id;
    VQI_ASSIGN_OR_RETURN(e.boxes, BoxesFromJson(st.Text(1)));
    VQI_ASSIGN_OR_RETURN(e.status, ParseLabelStatus(st.Text(2)));
    e.event_time = st.Real(3);
    e.job = st.Text(4);
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::optional<LabelEvent>> Store::CurrentLabel(const std::string& image_id) const {
  VQI_ASSIGN_OR_RETURN(std::vector<LabelEvent> history, LabelHistory(image_id));
  for (auto it = history.rbegin(); it != history.rend(); ++it)
    if (it->status == LabelStatus::kApproved) return std::optional<LabelEvent>(*it);
  return std::optional<LabelEvent>();
}

Result<int64_t> Store::ImageCount() const {
  VQI_ASSIGN_OR_RETURN(Stmt st, impl_->db.Prepare("SELECT COUNT(*) FROM images"));
  VQI_RETURN_IF_ERROR(st.Step().status());
  return st.Int(0);
}

// Sample rows with the current label; `labeled` selects the labeled or the unlabeled images.
// Each labeled sample's `image_id` is paired with its event seq in the returned order.
Result<std::vector<Sample>> Store::ImagesWithCurrentLabels(bool labeled) const {
  // Latest approved event per image: event_time first, then insertion order.
  VQI_ASSIGN_OR_RETURN(
      Stmt st,
      impl_->db.Prepare("SELECT i.id, i.name, i.capture_id, i.width, i.height, i.format, "
                        "(SELECT e.boxes FROM label_events e WHERE e.image_id = i.id AND "
                        "e.status = 'APPROVED' ORDER BY e.event_time DESC, e.seq DESC LIMIT 1) "
                        "FROM images i ORDER BY i.name, i.id"));
  std::vector<Sample> out;
  while (true) {
    VQI_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    const bool has_label = !st.Text(6).empty();  // NULL: no approved event
    if (has_label != labeled) continue;
    Sample s;
    s.image_id = st.Text(0);
    s.name = EscapeNonUtf8(st.Text(1));
    s.capture_id = EscapeNonUtf8(st.Text(2));
    s.width = static_cast<int>(st.Int(3));
    s.height = static_cast<int>(st.Int(4));
    s.path = BlobPath(s.image_id, st.Text(5));
    if (has_label) {
      VQI_ASSIGN_OR_RETURN(s.boxes, BoxesFromJson(st.Text(6)));
    }
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<Sample>> Store::LabeledSamples() const { return ImagesWithCurrentLabels(true); }
Result<std::vector<Sample>> Store::UnlabeledSamples() const {
  return ImagesWithCurrentLabels(false);
}

}  // namespace vqi::dataset
