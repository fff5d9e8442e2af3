// component::Store on SQLite (libs/sqlite): components + component_artifacts tables.
#include <algorithm>
#include <filesystem>

#include "vqi/base/file.h"
#include "vqi/component/store.h"
#include "vqi/signing/encoding.h"
#include "vqi/sqlite/sqlite.h"

namespace vqi::component {
namespace {

constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS components(
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  publisher TEXT NOT NULL,
  key_id TEXT NOT NULL,
  created TEXT NOT NULL,
  recipe_json TEXT NOT NULL,
  recipe_text TEXT NOT NULL,
  manifest BLOB NOT NULL,
  signature BLOB NOT NULL,
  source TEXT NOT NULL DEFAULT '',
  PRIMARY KEY(name, version));
CREATE TABLE IF NOT EXISTS component_artifacts(
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  artifact TEXT NOT NULL,
  uri TEXT NOT NULL,
  digest TEXT NOT NULL,
  size INTEGER NOT NULL,
  unarchive TEXT NOT NULL,
  PRIMARY KEY(name, version, artifact),
  FOREIGN KEY(name, version) REFERENCES components(name, version));
CREATE INDEX IF NOT EXISTS component_artifacts_digest ON component_artifacts(digest);
)sql";

bool IsHex64(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

Status CheckComponent(const StoredComponent& c) {
  if (c.name.empty()) return InvalidArgument("component name: empty");
  if (c.version.empty()) return InvalidArgument("component " + c.name + ": version: empty");
  const std::string who = "component " + c.name + "@" + c.version;
  if (c.signature.size() != 64)
    return InvalidArgument(who + ": signature: " + std::to_string(c.signature.size()) +
                           " bytes, expected 64 (the store holds signed components only)");
  if (c.manifest.empty()) return InvalidArgument(who + ": manifest: empty");
  std::set<std::string> names;
  for (const StoredArtifact& a : c.artifacts) {
    if (!names.insert(a.name).second)
      return InvalidArgument(who + ": artifact '" + a.name + "' appears twice");
    if (!IsHex64(a.digest))
      return InvalidArgument(who + ": artifact '" + a.name + "': digest is not a SHA-256 hex");
  }
  return Status::Ok();
}

class SqliteStore : public Store {
 public:
  SqliteStore(sqlite::Db db, Clock* clock) : db_(std::move(db)), clock_(clock) {}

  Result<PutOutcome> Put(const StoredComponent& in) override {
    VQI_RETURN_IF_ERROR(CheckComponent(in));
    StoredComponent c = in;
    std::sort(c.artifacts.begin(), c.artifacts.end(),
              [](const StoredArtifact& a, const StoredArtifact& b) { return a.name < b.name; });
    c.created = signing::FormatRfc3339(clock_->NowMs());
    PutOutcome out;
    Status st = db_.InTransaction([&]() -> Status {
      auto existing = Get(c.name, c.version);
      if (existing.ok()) {
        if (existing->manifest == c.manifest && existing->signature == c.signature) {
          out = {*existing, false};
          return Status::Ok();
        }
        return AlreadyExists("component " + c.name + "@" + c.version +
                             " is already stored with a different recipe, artifacts or "
                             "signature (created " +
                             existing->created +
                             "); versions are immutable: publish a new version");
      }
      if (existing.status().code() != StatusCode::kNotFound) return existing.status();
      VQI_ASSIGN_OR_RETURN(
          sqlite::Stmt ins,
          db_.Prepare(
              "INSERT INTO components(name, version, publisher, key_id, created, recipe_json, "
              "recipe_text, manifest, signature, source) VALUES(?,?,?,?,?,?,?,?,?,?)"));
      ins.Bind(1, c.name).Bind(2, c.version).Bind(3, c.publisher).Bind(4, c.key_id);
      ins.Bind(5, c.created).Bind(6, c.recipe_json).Bind(7, c.recipe_text);
      ins.BindBlob(8, c.manifest).BindBlob(9, c.signature).Bind(10, c.source);
      VQI_RETURN_IF_ERROR(ins.Run());
      VQI_ASSIGN_OR_RETURN(sqlite::Stmt art,
                           db_.Prepare("INSERT INTO component_artifacts(name, version, artifact, "
                                       "uri, digest, size, unarchive) "
                                       "VALUES(?,?,?,?,?,?,?)"));
      for (const StoredArtifact& a : c.artifacts) {
        art.Reset();
        art.Bind(1, c.name).Bind(2, c.version).Bind(3, a.name).Bind(4, a.uri).Bind(5, a.digest);
        art.Bind(6, a.size).Bind(7, a.unarchive);
        VQI_RETURN_IF_ERROR(art.Run());
      }
      out = {c, true};
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return out;
  }

  Result<std::vector<ComponentSummary>> List(const std::string& name_filter) override {
    VQI_ASSIGN_OR_RETURN(sqlite::Stmt q,
                         db_.Prepare("SELECT name, version, publisher, created FROM components "
                                     "WHERE instr(name, ?) > 0 ORDER BY name"));
    q.Bind(1, name_filter);
    std::vector<ComponentSummary> out;
    std::vector<std::pair<std::string, std::string>> meta;  // publisher, created per version
    for (;;) {
      VQI_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      if (out.empty() || out.back().name != q.Text(0)) out.push_back({q.Text(0), {}, "", "", ""});
      ComponentSummary& s = out.back();
      s.versions.push_back(q.Text(1));
      if (s.latest.empty() || VersionLess(s.latest, q.Text(1))) {
        s.latest = q.Text(1);
        s.publisher = q.Text(2);
        s.created = q.Text(3);
      }
    }
    for (ComponentSummary& s : out) std::sort(s.versions.begin(), s.versions.end(), VersionLess);
    return out;
  }

  Result<std::vector<std::string>> Versions(const std::string& name) override {
    VQI_ASSIGN_OR_RETURN(sqlite::Stmt q,
                         db_.Prepare("SELECT version FROM components WHERE name = ?"));
    q.Bind(1, name);
    std::vector<std::string> out;
    for (;;) {
      VQI_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      out.push_back(q.Text(0));
    }
    if (out.empty()) return NotFound("no component named '" + name + "' (see vqi component list)");
    std::sort(out.begin(), out.end(), VersionLess);
    return out;
  }

  Result<StoredComponent> Get(const std::string& name, const std::string& version) override {
    VQI_ASSIGN_OR_RETURN(sqlite::Stmt q,
                         db_.Prepare("SELECT publisher, key_id, created, recipe_json, recipe_text, "
                                     "manifest, signature, source "
                                     "FROM components WHERE name = ? AND version = ?"));
    q.Bind(1, name).Bind(2, version);
    VQI_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) {
      auto versions = Versions(name);
      if (!versions.ok()) return versions.status();
      std::string list;
      for (const std::string& v : *versions) list += (list.empty() ? "" : ", ") + v;
      return NotFound("component " + name + " has no version " + version + " (versions: " + list +
                      ")");
    }
    StoredComponent c;
    c.name = name;
    c.version = version;
    c.publisher = q.Text(0);
    c.key_id = q.Text(1);
    c.created = q.Text(2);
    c.recipe_json = q.Text(3);
    c.recipe_text = q.Text(4);
    c.manifest = q.Blob(5);
    c.signature = q.Blob(6);
    c.source = q.Text(7);
    VQI_ASSIGN_OR_RETURN(
        sqlite::Stmt a,
        db_.Prepare("SELECT artifact, uri, digest, size, unarchive FROM component_artifacts "
                    "WHERE name = ? AND version = ? ORDER BY artifact"));
    a.Bind(1, name).Bind(2, version);
    for (;;) {
      VQI_ASSIGN_OR_RETURN(bool more, a.Step());
      if (!more) break;
      c.artifacts.push_back({a.Text(0), a.Text(1), a.Text(2), a.Int(3), a.Text(4)});
    }
    return c;
  }

  Result<std::set<std::string>> ReferencedDigests() override {
    VQI_ASSIGN_OR_RETURN(sqlite::Stmt q,
                         db_.Prepare("SELECT DISTINCT digest FROM component_artifacts"));
    std::set<std::string> out;
    for (;;) {
      VQI_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      out.insert(q.Text(0));
    }
    return out;
  }

 private:
  sqlite::Db db_;
  Clock* clock_;
};

}  // namespace

std::string ComponentsDbPath(const std::string& home) { return home + "/components/components.db"; }
std::string ArtifactsDir(const std::string& home) { return home + "/artifacts"; }

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               const SqliteStoreOptions& options) {
  if (options.create) {
    const std::string dir = std::filesystem::path(path).parent_path().string();
    if (!dir.empty()) VQI_RETURN_IF_ERROR(MakeDirs(dir));
  }
  sqlite::OpenOptions o;
  o.create = options.create;
  VQI_ASSIGN_OR_RETURN(sqlite::Db db, sqlite::Db::Open(path, o));
  VQI_RETURN_IF_ERROR(db.Migrate({{1, kSchemaV1, nullptr}}).WithContext("component store " + path));
  return std::unique_ptr<Store>(
      new SqliteStore(std::move(db), options.clock ? options.clock : &RealClock()));
}

}  // namespace vqi::component
