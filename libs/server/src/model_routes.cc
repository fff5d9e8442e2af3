// /v1/models: the model registry (libs/registry) over HTTP. Registration takes artifacts
// uploaded first (PUT /v1/artifacts) by digest and runs the same use case as
// `vqi model register` (report parsing, the mAP50 gate, lineage) on their blob files.
#include "context.h"
#include "vqi/blob/blob_store.h"
#include "vqi/registry/register.h"
#include "vqi/registry/store.h"

namespace vqi::server {
namespace {

using RegistryStore = Locked<registry::Store>;

// The registry's JSON form, each artifact with the URL it downloads from.
Json VersionJson(const registry::ModelVersion& v) {
  Json j = Json::parse(registry::ToJson(v).dump());
  if (j.contains("artifacts") && j["artifacts"].is_array())
    for (Json& a : j["artifacts"])
      if (a.contains("digest")) a["url"] = "/v1/artifacts/" + a["digest"].get<std::string>();
  return j;
}

Status RegisterVersion(ServerContext& ctx, RegistryStore& store, Call& c) {
  VQI_ASSIGN_OR_RETURN(Json body, c.JsonBody());
  if (!body.is_object()) return InvalidArgument("request body: expected a JSON object");
  registry::RegisterRequest q;
  q.group = c.Param("group");
  q.created_by = c.token ? "token:" + c.token->name : "anonymous";
  VQI_ASSIGN_OR_RETURN(q.description, OptionalStringField(body, "description"));
  VQI_ASSIGN_OR_RETURN(q.model, UploadedBlob(ctx, body, "model"));
  VQI_ASSIGN_OR_RETURN(q.report, UploadedBlob(ctx, body, "report"));
  if (body.contains("model_int8")) {
    VQI_ASSIGN_OR_RETURN(q.model_int8, UploadedBlob(ctx, body, "model_int8"));
  }
  if (body.contains("checkpoint")) {
    VQI_ASSIGN_OR_RETURN(q.checkpoint, UploadedBlob(ctx, body, "checkpoint"));
  }
  if (body.contains("min_map50")) {
    if (!body["min_map50"].is_number())
      return InvalidArgument("request body: field 'min_map50' must be a number in [0, 1]");
    const double g = body["min_map50"].get<double>();
    if (!(g >= 0 && g <= 1))
      return InvalidArgument("request body: field 'min_map50' must be in [0, 1]");
    q.min_map50 = g;
  }
  if (body.contains("lineage")) {
    const Json& l = body["lineage"];
    if (!l.is_object()) return InvalidArgument("request body: field 'lineage' must be an object");
    for (auto [field, target] : {std::pair{"dataset", &q.dataset},
                                 {"split", &q.split},
                                 {"split_digest", &q.split_digest},
                                 {"source_revision", &q.source_revision},
                                 {"parent", &q.parent}}) {
      auto v = OptionalStringField(l, field);
      if (!v.ok()) return v.status().WithContext("lineage");
      *target = *v;
    }
    if (l.contains("train_config")) {
      if (!l["train_config"].is_object())
        return InvalidArgument("request body: field 'lineage.train_config' must be an object");
      q.train_config = l["train_config"];
    }
  }
  for (auto& [key, value] : body.items()) {
    static const std::set<std::string> kKnown = {"description", "model",     "report", "model_int8",
                                                 "checkpoint",  "min_map50", "lineage"};
    if (!kKnown.count(key))
      return InvalidArgument("request body: unknown field '" + key +
                             "' (accepted: description, model, model_int8, checkpoint, report, "
                             "min_map50, lineage)");
  }
  // Reads and checks the files before touching any store (as `vqi model register` does).
  VQI_ASSIGN_OR_RETURN(registry::PreparedRegistration prepared, registry::PrepareRegistration(q));
  blob::BlobStoreOptions bo;
  bo.max_blob_bytes = registry::kMaxArtifactBytes;
  VQI_ASSIGN_OR_RETURN(auto blobs, blob::BlobStore::Open(ctx.artifacts_dir, bo));
  VQI_ASSIGN_OR_RETURN(registry::ModelVersion v, store.With([&](registry::Store& s) {
    return registry::CommitRegistration(s, *blobs, prepared);
  }));
  c.res.set_header("Location", "/v1/models/" + v.group + "/versions/" + std::to_string(v.version));
  c.Reply(201, VersionJson(v));
  return Status::Ok();
}

Status SetApproval(RegistryStore& store, Call& c) {
  VQI_ASSIGN_OR_RETURN(int64_t n, PositiveParam(c, "n"));
  VQI_ASSIGN_OR_RETURN(Json body, c.JsonBody());
  VQI_ASSIGN_OR_RETURN(std::string status, StringField(body, "status"));
  VQI_ASSIGN_OR_RETURN(std::string reason, OptionalStringField(body, "reason"));
  auto parsed = registry::ParseApprovalStatus(status);
  if (!parsed.ok()) return parsed.status().WithContext("request body: field 'status'");
  registry::Approval a;
  a.status = *parsed;
  a.actor = c.token ? "token:" + c.token->name : "anonymous";
  a.reason = reason;
  VQI_ASSIGN_OR_RETURN(registry::ApprovalEvent e, store.With([&](registry::Store& s) {
    return s.SetApproval(c.Param("group"), n, a);
  }));
  VQI_ASSIGN_OR_RETURN(registry::ModelVersion v,
                       store.With([&](registry::Store& s) { return s.Get(c.Param("group"), n); }));
  Json j = VersionJson(v);
  j["event"] = Json::parse(registry::ToJson(e).dump());
  c.Reply(200, j);
  return Status::Ok();
}

}  // namespace

Status AddModelRoutes(Router& router, ServerContext& ctx) {
  VQI_ASSIGN_OR_RETURN(auto opened,
                       registry::OpenSqliteStore(registry::RegistryDbPath(ctx.options.home)));
  auto store = std::make_shared<RegistryStore>(std::move(opened));
  ctx.resources.push_back(store);
  RegistryStore* s = store.get();
  const Json version_schema = {
      {"type", "object"},
      {"properties",
       {{"group", {{"type", "string"}}},
        {"version", {{"type", "integer"}}},
        {"status",
         {{"type", "string"}, {"enum", {"PendingManualApproval", "Approved", "Rejected"}}}},
        {"artifacts", {{"type", "array"}, {"items", {{"type", "object"}}}}},
        {"metrics", {{"type", "object"}}},
        {"lineage", {{"type", "object"}}}}}};

  router.Add({"GET",
              "/v1/models",
              Access::kRead,
              Body::kNone,
              "models",
              "Model package groups",
              200,
              nullptr,
              {{"type", "object"}},
              [s](Call& c) -> Status {
                VQI_ASSIGN_OR_RETURN(auto groups,
                                     s->With([](registry::Store& st) { return st.Groups(); }));
                Json arr = Json::array();
                for (const auto& g : groups) arr.push_back(Json::parse(registry::ToJson(g).dump()));
                c.Reply(200, Json{{"groups", arr}});
                return Status::Ok();
              }});
  router.Add({"GET",
              "/v1/models/{group}/versions",
              Access::kRead,
              Body::kNone,
              "models",
              "Every version of a group, ascending",
              200,
              nullptr,
              {{"type", "object"},
               {"properties", {{"versions", {{"type", "array"}, {"items", version_schema}}}}}},
              [s](Call& c) -> Status {
                VQI_ASSIGN_OR_RETURN(auto list, s->With([&](registry::Store& st) {
                  return st.List(c.Param("group"));
                }));
                Json arr = Json::array();
                for (const auto& v : list) arr.push_back(VersionJson(v));
                c.Reply(200, Json{{"group", c.Param("group")}, {"versions", arr}});
                return Status::Ok();
              }});
  router.Add(
      {"POST",
       "/v1/models/{group}/versions",
       Access::kWrite,
       Body::kJson,
       "models",
       "Register a version from uploaded artifacts (model, report; the mAP50 gate)",
       201,
       {{"type", "object"},
        {"required", {"model", "report"}},
        {"properties",
         {{"model",
           {{"type", "string"}, {"description", "sha256 of the uploaded ONNX fp32 model"}}},
          {"model_int8", {{"type", "string"}}},
          {"checkpoint", {{"type", "string"}}},
          {"report", {{"type", "string"}, {"description", "sha256 of the uploaded eval report"}}},
          {"description", {{"type", "string"}}},
          {"min_map50", {{"type", "number"}}},
          {"lineage", {{"type", "object"}}}}}},
       version_schema,
       [&ctx, s](Call& c) { return RegisterVersion(ctx, *s, c); }});
  router.Add({"GET", "/v1/models/{group}/versions/{n}", Access::kRead, Body::kNone, "models",
              "One version: artifacts, metrics, lineage, approval status", 200, nullptr,
              version_schema, [s](Call& c) -> Status {
                VQI_ASSIGN_OR_RETURN(int64_t n, PositiveParam(c, "n"));
                VQI_ASSIGN_OR_RETURN(auto v, s->With([&](registry::Store& st) {
                  return st.Get(c.Param("group"), n);
                }));
                c.Reply(200, VersionJson(v));
                return Status::Ok();
              }});
  router.Add({"GET",
              "/v1/models/{group}/versions/{n}/history",
              Access::kRead,
              Body::kNone,
              "models",
              "The approval history of a version, oldest first",
              200,
              nullptr,
              {{"type", "object"}},
              [s](Call& c) -> Status {
                VQI_ASSIGN_OR_RETURN(int64_t n, PositiveParam(c, "n"));
                VQI_ASSIGN_OR_RETURN(auto h, s->With([&](registry::Store& st) {
                  return st.History(c.Param("group"), n);
                }));
                Json arr = Json::array();
                for (const auto& e : h) arr.push_back(Json::parse(registry::ToJson(e).dump()));
                c.Reply(200, Json{{"history", arr}});
                return Status::Ok();
              }});
  router.Add({"POST",
              "/v1/models/{group}/versions/{n}/approval",
              Access::kWrite,
              Body::kJson,
              "models",
              "Approve or reject a version (status, reason); illegal transitions are 409",
              200,
              {{"type", "object"},
               {"required", {"status"}},
               {"properties",
                {{"status", {{"type", "string"}, {"enum", {"Approved", "Rejected"}}}},
                 {"reason", {{"type", "string"}}}}}},
              version_schema,
              [s](Call& c) { return SetApproval(*s, c); }});
  router.Add({"GET", "/v1/models/{group}/latest-approved", Access::kRead, Body::kNone, "models",
              "The highest-numbered Approved version (404 when none is)", 200, nullptr,
              version_schema, [s](Call& c) -> Status {
                VQI_ASSIGN_OR_RETURN(auto v, s->With([&](registry::Store& st) {
                  return st.LatestApproved(c.Param("group"));
                }));
                c.Reply(200, VersionJson(v));
                return Status::Ok();
              }});
  return Status::Ok();
}

}  // namespace vqi::server
