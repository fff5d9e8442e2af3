// Public routes: health and the OpenAPI document; shared helpers for JSON fields.
#include "context.h"

namespace vqi::server {

Result<std::string> StringField(const Json& body, const std::string& field) {
  if (!body.is_object()) return InvalidArgument("request body: expected a JSON object");
  auto it = body.find(field);
  if (it == body.end()) return InvalidArgument("request body: missing field '" + field + "'");
  if (!it->is_string()) return InvalidArgument("request body: field '" + field + "' must be a string");
  return it->get<std::string>();
}

Result<std::string> OptionalStringField(const Json& body, const std::string& field) {
  if (!body.is_object()) return InvalidArgument("request body: expected a JSON object");
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::string();
  if (!it->is_string()) return InvalidArgument("request body: field '" + field + "' must be a string");
  return it->get<std::string>();
}

void AddMetaRoutes(Router& router, ServerContext& ctx) {
  router.Add({"GET", "/v1/health", Access::kPublic, Body::kNone, "meta",
              "Liveness: 200 while the server accepts requests", 200, nullptr,
              {{"type", "object"}, {"properties", {{"status", {{"type", "string"}}}}}},
              [](Call& c) {
                c.Reply(200, Json{{"status", "ok"}});
                return Status::Ok();
              }});
  router.Add({"GET", "/v1/openapi.json", Access::kPublic, Body::kNone, "meta",
              "This API as an OpenAPI 3.0 document, generated from the route table", 200, nullptr,
              {{"type", "object"}}, [&ctx](Call& c) {
                c.Reply(200, ctx.openapi());
                return Status::Ok();
              }});
}

}  // namespace vqi::server
