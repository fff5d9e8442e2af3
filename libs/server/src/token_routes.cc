// Token administration over HTTP (admin scope): list, create, revoke.
#include "context.h"

namespace vqi::server {
namespace {

Json TokenJson(const TokenInfo& t) {
  Json j{
      {"id", t.id}, {"name", t.name}, {"scope", ScopeName(t.scope)}, {"created_at", t.created_at}};
  j["revoked_at"] = t.revoked_at ? Json(*t.revoked_at) : Json(nullptr);
  return j;
}

}  // namespace

void AddTokenRoutes(Router& router, ServerContext& ctx) {
  const Json token_schema = {
      {"type", "object"},
      {"properties",
       {{"id", {{"type", "string"}}},
        {"name", {{"type", "string"}}},
        {"scope", {{"type", "string"}, {"enum", {"read", "write", "admin", "device"}}}},
        {"created_at", {{"type", "string"}}},
        {"revoked_at", {{"type", "string"}, {"nullable", true}}},
        {"token", {{"type", "string"}}}}}};
  router.Add({"GET",
              "/v1/tokens",
              Access::kAdmin,
              Body::kNone,
              "tokens",
              "Every token (without secrets)",
              200,
              nullptr,
              {{"type", "object"},
               {"properties", {{"tokens", {{"type", "array"}, {"items", token_schema}}}}}},
              [&ctx](Call& c) -> Status {
                VQI_ASSIGN_OR_RETURN(auto list, ctx.tokens->List());
                Json arr = Json::array();
                for (const auto& t : list) arr.push_back(TokenJson(t));
                c.Reply(200, Json{{"tokens", arr}});
                return Status::Ok();
              }});
  router.Add({"POST",
              "/v1/tokens",
              Access::kAdmin,
              Body::kJson,
              "tokens",
              "Create a token; the response holds it once",
              201,
              {{"type", "object"},
               {"required", {"name", "scope"}},
               {"properties", {{"name", {{"type", "string"}}}, {"scope", {{"type", "string"}}}}}},
              token_schema,
              [&ctx](Call& c) -> Status {
                VQI_ASSIGN_OR_RETURN(Json body, c.JsonBody());
                VQI_ASSIGN_OR_RETURN(std::string name, StringField(body, "name"));
                VQI_ASSIGN_OR_RETURN(std::string scope_name, StringField(body, "scope"));
                auto scope = ParseScope(scope_name);
                if (!scope.ok()) return scope.status().WithContext("request body: field 'scope'");
                VQI_ASSIGN_OR_RETURN(NewToken t, ctx.tokens->Create(name, *scope));
                Json j = TokenJson(t.info);
                j["token"] = t.token;
                c.Reply(201, j);
                return Status::Ok();
              }});
  router.Add({"DELETE", "/v1/tokens/{id}", Access::kAdmin, Body::kNone, "tokens",
              "Revoke a token by id or name", 200, nullptr, token_schema,
              [&ctx](Call& c) -> Status {
                VQI_ASSIGN_OR_RETURN(TokenInfo t, ctx.tokens->Revoke(c.Param("id")));
                c.Reply(200, TokenJson(t));
                return Status::Ok();
              }});
}

}  // namespace vqi::server
