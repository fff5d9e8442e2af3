#include "openapi.h"

#include <algorithm>
#include <cctype>

namespace vqi::server {
namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

Json ErrorResponse(const std::string& description) {
  return {
      {"description", description},
      {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}};
}

}  // namespace

Json BuildOpenApi(const Router& router, bool tls) {
  Json paths = Json::object();
  for (const Route& r : router.routes()) {
    Json op;
    op["operationId"] = Lower(r.method) + r.pattern;
    op["summary"] = r.summary;
    op["tags"] = Json::array({r.tag});
    op["x-vqi-access"] = AccessName(r.access);
    if (r.access == Access::kPublic) {
      op["security"] = Json::array();
    } else {
      op["security"] = Json::array({Json{{"bearer", Json::array()}}});
    }
    Json params = Json::array();
    for (const std::string& name : Router::PatternParams(r.pattern))
      params.push_back(
          {{"name", name}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}});
    if (!params.empty()) op["parameters"] = params;
    if (r.body == Body::kJson) {
      op["requestBody"] = {{"required", true},
                           {"content",
                            {{"application/json",
                              {{"schema", r.request_schema.is_null() ? Json{{"type", "object"}}
                                                                     : r.request_schema}}}}}};
    } else if (r.body == Body::kStream) {
      op["requestBody"] = {{"required", true},
                           {"content",
                            {{"application/octet-stream",
                              {{"schema", {{"type", "string"}, {"format", "binary"}}}}}}}};
    }
    Json ok{{"description", "success"}};
    if (!r.response_schema.is_null()) {
      const bool binary = r.response_schema.value("format", "") == "binary";
      ok["content"] = {{binary ? "application/octet-stream" : "application/json",
                        {{"schema", r.response_schema}}}};
    }
    Json responses{{std::to_string(r.success), ok}};
    if (r.access != Access::kPublic) {
      responses["401"] = ErrorResponse("no valid bearer token");
      responses["403"] =
          ErrorResponse(std::string("the token lacks scope ") + AccessName(r.access));
    }
    responses["default"] = ErrorResponse("an error (see docs/api.md for the codes)");
    op["responses"] = responses;
    paths[r.pattern][Lower(r.method)] = op;
  }
  Json doc;
  doc["openapi"] = "3.0.3";
  doc["info"] = {{"title", "vqi control-plane API"},
                 {"version", "1"},
                 {"description",
                  "Datasets, models, approvals, components and artifacts of one vqi "
                  "home. See docs/api.md."}};
  doc["servers"] = Json::array({Json{{"url", tls ? "https://localhost" : "http://localhost"}}});
  doc["paths"] = paths;
  doc["components"] = {
      {"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}},
      {"schemas",
       {{"Error",
         {{"type", "object"},
          {"required", {"error"}},
          {"properties",
           {{"error",
             {{"type", "object"},
              {"required", {"code", "message"}},
              {"properties",
               {{"code", {{"type", "string"}}}, {"message", {{"type", "string"}}}}}}}}}}}}}};
  return doc;
}

}  // namespace vqi::server
