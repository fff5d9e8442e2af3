// /v1/components and /v1/keys: the signed component store (libs/component's store and
// packaging use cases, libs/signing keys) over HTTP. Creation and packaging sign with a
// publisher key of this home (<home>/keys), named in the request.
#include <unistd.h>

#include <filesystem>

#include "context.h"
#include "vqi/base/file.h"
#include "vqi/blob/blob_store.h"
#include "vqi/component/from_model.h"
#include "vqi/component/package.h"
#include "vqi/component/store.h"
#include "vqi/registry/store.h"
#include "vqi/server/http_error.h"
#include "vqi/signing/encoding.h"
#include "vqi/signing/keys.h"

namespace vqi::server {
namespace {

namespace comp = vqi::component;
namespace fs = std::filesystem;
using ComponentStore = Locked<comp::Store>;
using RegistryStore = Locked<registry::Store>;

Json ComponentJson(const comp::StoredComponent& c, bool full) {
  Json arts = Json::array();
  for (const comp::StoredArtifact& a : c.artifacts)
    arts.push_back({{"name", a.name},
                    {"uri", a.uri},
                    {"digest", a.digest},
                    {"size", a.size},
                    {"unarchive", a.unarchive},
                    {"url", "/v1/artifacts/" + a.digest}});
  Json j{{"name", c.name},     {"version", c.version}, {"publisher", c.publisher},
         {"key_id", c.key_id}, {"created", c.created}, {"artifacts", arts},
         {"source", c.source}};
  if (full) {
    auto recipe = ParseJson(c.recipe_json, "recipe");
    j["recipe"] = recipe.ok() ? *recipe : Json(c.recipe_json);
    j["recipe_text"] = c.recipe_text;
    j["manifest"] = c.manifest;
    j["signature"] = signing::ToHex(c.signature);
  }
  return j;
}

Result<std::unique_ptr<blob::BlobStore>> OpenBlobs(const ServerContext& ctx) {
  blob::BlobStoreOptions o;
  o.max_blob_bytes = comp::kMaxArtifactBytes;
  return blob::BlobStore::Open(ctx.artifacts_dir, o);
}

// A temporary folder removed on destruction.
struct TempDir {
  std::string path;
  ~TempDir() {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
  }
};

// POST /v1/components {"recipe": text, "format": "json"|"yaml", "artifacts": {file: sha256},
// "vars": {KEY: VALUE}, "key": name}: the recipe and the uploaded blobs (linked under their
// file names) go through CreateComponent exactly as `vqi component create` files do.
Status CreateFromRequest(ServerContext& ctx, ComponentStore& store, Call& c) {
  VQI_ASSIGN_OR_RETURN(Json body, c.JsonBody());
  VQI_ASSIGN_OR_RETURN(std::string recipe, StringField(body, "recipe"));
  VQI_ASSIGN_OR_RETURN(std::string key, StringField(body, "key"));
  VQI_ASSIGN_OR_RETURN(std::string format, OptionalStringField(body, "format"));
  if (format.empty()) format = "json";
  if (format != "json" && format != "yaml")
    return InvalidArgument("request body: field 'format' must be json or yaml");
  TempDir dir;
  std::string tmpl = ctx.uploads_dir + "/component-XXXXXX";
  if (!::mkdtemp(tmpl.data())) return Unavailable("cannot create a folder in " + ctx.uploads_dir);
  dir.path = tmpl;
  comp::CreateRequest q;
  q.key_name = key;
  q.recipe_file = dir.path + "/recipe." + format;
  VQI_RETURN_IF_ERROR(WriteFileAtomic(q.recipe_file, recipe));
  if (body.contains("artifacts")) {
    if (!body["artifacts"].is_object())
      return InvalidArgument(
          "request body: field 'artifacts' must be an object {file name: sha256}");
    for (auto& [name, digest] : body["artifacts"].items()) {
      if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
          name.find('\0') != std::string::npos)
        return InvalidArgument("request body: artifacts: '" + name + "' is not a plain file name");
      VQI_ASSIGN_OR_RETURN(std::string blob, UploadedBlob(ctx, Json{{"artifacts." + name, digest}},
                                                          "artifacts." + name));
      const std::string target = dir.path + "/" + name;
      std::error_code ec;
      fs::create_hard_link(blob, target, ec);  // same file system: no copy
      if (ec) fs::copy_file(blob, target, ec);
      if (ec) return Unavailable("cannot stage artifact " + name + ": " + ec.message());
      q.artifact_files.push_back(target);
    }
  }
  if (body.contains("vars")) {
    if (!body["vars"].is_object())
      return InvalidArgument("request body: field 'vars' must be an object");
    for (auto& [k, v] : body["vars"].items()) {
      if (!v.is_string()) return InvalidArgument("request body: vars." + k + " must be a string");
      q.vars[k] = v.get<std::string>();
    }
  }
  VQI_ASSIGN_OR_RETURN(auto blobs, OpenBlobs(ctx));
  signing::KeyStore keys(ctx.options.home);
  VQI_ASSIGN_OR_RETURN(comp::PutOutcome put, store.With([&](comp::Store& s) {
    return comp::CreateComponent({&s, blobs.get(), &keys}, q);
  }));
  Json j = ComponentJson(put.component, false);
  j["created_now"] = put.created;
  c.Reply(put.created ? 201 : 200, j);
  return Status::Ok();
}

// POST /v1/components/from-model {"group", "key", "publisher"?}: the latest approved version,
// through the same use case as `vqi component from-model` (publisher "" = the key's name).
// Locks: component store, then registry (no route takes them the other way round).
Status FromModel(ServerContext& ctx, ComponentStore& store, RegistryStore& registry, Call& c) {
  VQI_ASSIGN_OR_RETURN(Json body, c.JsonBody());
  VQI_ASSIGN_OR_RETURN(std::string group, StringField(body, "group"));
  VQI_ASSIGN_OR_RETURN(std::string key, StringField(body, "key"));
  VQI_ASSIGN_OR_RETURN(std::string publisher, OptionalStringField(body, "publisher"));
  VQI_ASSIGN_OR_RETURN(auto blobs, OpenBlobs(ctx));
  signing::KeyStore keys(ctx.options.home);
  VQI_ASSIGN_OR_RETURN(comp::PutOutcome put, store.With([&](comp::Store& s) {
    return registry.With([&](registry::Store& r) {
      return comp::ComponentFromModel({&s, blobs.get(), &keys}, r, group, key, publisher);
    });
  }));
  Json j = ComponentJson(put.component, false);
  j["created_now"] = put.created;
  j["model"] = put.component.source;
  c.Reply(put.created ? 201 : 200, j);
  return Status::Ok();
}

Status Verify(ServerContext& ctx, ComponentStore& store, Call& c) {
  VQI_ASSIGN_OR_RETURN(auto blobs, OpenBlobs(ctx));
  signing::KeyStore keys(ctx.options.home);
  VQI_ASSIGN_OR_RETURN(signing::TrustedKeys trusted, keys.Trusted());
  const std::string name = c.Param("name"), version = c.Param("version");
  // Existence first, so an unknown component is 404 rather than "verified: false".
  VQI_RETURN_IF_ERROR(store.With([&](comp::Store& s) { return s.Get(name, version).status(); }));
  const Status st = store.With(
      [&](comp::Store& s) { return comp::VerifyComponent(s, *blobs, name, version, trusted); });
  Json j{{"name", name}, {"version", version}, {"verified", st.ok()}};
  if (!st.ok()) {
    if (st.code() != StatusCode::kPermissionDenied && st.code() != StatusCode::kDataLoss &&
        st.code() != StatusCode::kNotFound)
      return st;  // the check itself failed (busy, I/O): not a verdict
    j["error"] = ErrorJson(ErrorCodeFor(st.code()), st.message())["error"];
  }
  c.Reply(200, j);
  return Status::Ok();
}

}  // namespace

Status AddComponentRoutes(Router& router, ServerContext& ctx) {
  VQI_ASSIGN_OR_RETURN(auto opened,
                       comp::OpenSqliteStore(comp::ComponentsDbPath(ctx.options.home)));
  auto store = std::make_shared<ComponentStore>(std::move(opened));
  ctx.resources.push_back(store);
  VQI_ASSIGN_OR_RETURN(auto reg,
                       registry::OpenSqliteStore(registry::RegistryDbPath(ctx.options.home)));
  auto registry = std::make_shared<RegistryStore>(std::move(reg));
  ctx.resources.push_back(registry);
  ComponentStore* s = store.get();
  RegistryStore* r = registry.get();
  const Json component_schema = {
      {"type", "object"},
      {"properties",
       {{"name", {{"type", "string"}}},
        {"version", {{"type", "string"}}},
        {"publisher", {{"type", "string"}}},
        {"key_id", {{"type", "string"}}},
        {"artifacts", {{"type", "array"}, {"items", {{"type", "object"}}}}}}}};

  router.Add({"GET",
              "/v1/components",
              Access::kReadOrDevice,
              Body::kNone,
              "components",
              "Components (?name= filters by substring), with their versions",
              200,
              nullptr,
              {{"type", "object"}},
              [s](Call& c) -> Status {
                const std::string filter = c.req.get_param_value("name");
                VQI_ASSIGN_OR_RETURN(auto list,
                                     s->With([&](comp::Store& st) { return st.List(filter); }));
                Json arr = Json::array();
                for (const auto& x : list)
                  arr.push_back({{"name", x.name},
                                 {"versions", x.versions},
                                 {"latest", x.latest},
                                 {"publisher", x.publisher},
                                 {"created", x.created}});
                c.Reply(200, Json{{"components", arr}});
                return Status::Ok();
              }});
  router.Add(
      {"POST",
       "/v1/components",
       Access::kWrite,
       Body::kJson,
       "components",
       "Create and sign a component from a recipe and uploaded artifacts",
       201,
       {{"type", "object"},
        {"required", {"recipe", "key"}},
        {"properties",
         {{"recipe",
           {{"type", "string"}, {"description", "the recipe text (Greengrass v2, JSON or YAML)"}}},
          {"format", {{"type", "string"}, {"enum", {"json", "yaml"}}}},
          {"artifacts",
           {{"type", "object"}, {"description", "file name -> sha256 of the uploaded artifact"}}},
          {"vars", {{"type", "object"}}},
          {"key",
           {{"type", "string"}, {"description", "publisher key of this home that signs"}}}}}},
       component_schema,
       [&ctx, s](Call& c) { return CreateFromRequest(ctx, *s, c); }});
  router.Add({"POST",
              "/v1/components/from-model",
              Access::kWrite,
              Body::kJson,
              "components",
              "Package the latest approved model of a group as the next vqi.model.<group> version",
              201,
              {{"type", "object"},
               {"required", {"group", "key"}},
               {"properties",
                {{"group", {{"type", "string"}}},
                 {"key", {{"type", "string"}}},
                 {"publisher", {{"type", "string"}}}}}},
              component_schema,
              [&ctx, s, r](Call& c) { return FromModel(ctx, *s, *r, c); }});
  router.Add({"GET",
              "/v1/components/{name}/versions",
              Access::kReadOrDevice,
              Body::kNone,
              "components",
              "The versions of a component, ascending",
              200,
              nullptr,
              {{"type", "object"}},
              [s](Call& c) -> Status {
                VQI_ASSIGN_OR_RETURN(
                    auto v, s->With([&](comp::Store& st) { return st.Versions(c.Param("name")); }));
                c.Reply(200, Json{{"name", c.Param("name")}, {"versions", v}});
                return Status::Ok();
              }});
  router.Add({"GET", "/v1/components/{name}/versions/{version}", Access::kReadOrDevice, Body::kNone,
              "components", "One version: recipe, artifacts, manifest and signature", 200, nullptr,
              component_schema, [s](Call& c) -> Status {
                VQI_ASSIGN_OR_RETURN(auto x, s->With([&](comp::Store& st) {
                  return st.Get(c.Param("name"), c.Param("version"));
                }));
                c.Reply(200, ComponentJson(x, true));
                return Status::Ok();
              }});
  router.Add(
      {"POST",
       "/v1/components/{name}/versions/{version}/verify",
       Access::kReadOrDevice,
       Body::kNone,
       "components",
       "Check the signature (trusted keys of this home) and re-hash every artifact",
       200,
       nullptr,
       {{"type", "object"},
        {"properties", {{"verified", {{"type", "boolean"}}}, {"error", {{"type", "object"}}}}}},
       [&ctx, s](Call& c) { return Verify(ctx, *s, c); }});
  router.Add({"GET",
              "/v1/keys",
              Access::kRead,
              Body::kNone,
              "keys",
              "Publisher keys (public parts only)",
              200,
              nullptr,
              {{"type", "object"}},
              [&ctx](Call& c) -> Status {
                signing::KeyStore keys(ctx.options.home);
                VQI_ASSIGN_OR_RETURN(auto list, keys.List());
                Json arr = Json::array();
                for (const auto& k : list)
                  arr.push_back({{"name", k.name},
                                 {"key_id", k.key_id},
                                 {"created", k.created},
                                 {"public_key", k.public_key_hex},
                                 {"can_sign", k.has_secret},
                                 {"trusted_only", k.trusted_only}});
                c.Reply(200, Json{{"keys", arr}});
                return Status::Ok();
              }});
  return Status::Ok();
}

}  // namespace vqi::server
