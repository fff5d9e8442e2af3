// Public routes: health and the OpenAPI document; shared helpers for JSON fields.
#include "context.h"
#include "vqi/base/file.h"

namespace vqi::server {

Result<std::string> StringField(const Json& body, const std::string& field) {
  if (!body.is_object()) return InvalidArgument("request body: expected a JSON object");
  auto it = body.find(field);
  if (it == body.end()) return InvalidArgument("request body: missing field '" + field + "'");
  if (!it->is_string())
    return InvalidArgument("request body: field '" + field + "' must be a string");
  return it->get<std::string>();
}

Result<std::string> OptionalStringField(const Json& body, const std::string& field) {
  if (!body.is_object()) return InvalidArgument("request body: expected a JSON object");
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::string();
  if (!it->is_string())
    return InvalidArgument("request body: field '" + field + "' must be a string");
  return it->get<std::string>();
}

Result<int64_t> PositiveParam(const Call& call, const std::string& name) {
  const std::string& text = call.Param(name);
  int64_t v = 0;
  bool ok = !text.empty() && text.size() <= 18 && text[0] != '0';
  for (char ch : text) ok = ok && ch >= '0' && ch <= '9';
  if (ok) v = std::stoll(text);
  if (!ok || v < 1)
    return InvalidArgument("path parameter " + name + " '" + text + "' is not a positive integer");
  return v;
}

Result<std::string> UploadedBlob(const ServerContext& ctx, const Json& body,
                                 const std::string& field) {
  VQI_ASSIGN_OR_RETURN(std::string digest, StringField(body, field));
  bool hex = digest.size() == 64;
  for (char ch : digest) hex = hex && ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'));
  if (!hex)
    return InvalidArgument(
        "request body: field '" + field +
        "' must be the sha256 of an uploaded artifact (64 lowercase hex digits)");
  const std::string path = ctx.artifacts_dir + "/" + digest.substr(0, 2) + "/" + digest;
  if (!FileExists(path))
    return NotFound("request body: field '" + field + "': no artifact " + digest +
                    " (upload it first: PUT /v1/artifacts)");
  return path;
}

void AddMetaRoutes(Router& router, ServerContext& ctx) {
  router.Add({"GET",
              "/v1/health",
              Access::kPublic,
              Body::kNone,
              "meta",
              "Liveness: 200 while the server accepts requests",
              200,
              nullptr,
              {{"type", "object"}, {"properties", {{"status", {{"type", "string"}}}}}},
              [](Call& c) {
                c.Reply(200, Json{{"status", "ok"}});
                return Status::Ok();
              }});
  router.Add({"GET",
              "/v1/openapi.json",
              Access::kPublic,
              Body::kNone,
              "meta",
              "This API as an OpenAPI 3.0 document, generated from the route table",
              200,
              nullptr,
              {{"type", "object"}},
              [&ctx](Call& c) {
                c.Reply(200, ctx.openapi());
                return Status::Ok();
              }});
}

}  // namespace vqi::server
