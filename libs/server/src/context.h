// What route handlers share: the options, the stores, and helpers to reply.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "router.h"
#include "vqi/server/server.h"
#include "vqi/server/token_store.h"
#include "vqi/server/upload_log.h"

namespace vqi::server {

// A store used by one thread at a time (a sqlite::Db inside), shared by the worker threads:
// With() runs `fn` on it under the lock.
template <class T>
class Locked {
 public:
  explicit Locked(std::unique_ptr<T> value) : value_(std::move(value)) {}
  template <class Fn>
  auto With(Fn&& fn) {
    std::lock_guard<std::mutex> lock(mu_);
    return fn(*value_);
  }

 private:
  std::mutex mu_;
  std::unique_ptr<T> value_;  // guarded by mu_
};

struct ServerContext {
  ServerOptions options;
  std::string artifacts_dir;  // <home>/artifacts, the one blob store
  std::string uploads_dir;    // <home>/server/uploads, temporary files of uploads
  std::unique_ptr<TokenStore> tokens;
  std::unique_ptr<UploadLog> uploads;            // keeps fresh uploads from `vqi store gc`
  std::function<Json()> openapi;                 // the document, built from the route table
  std::vector<std::shared_ptr<void>> resources;  // stores the route files opened (kept alive)
};

// One registration function per resource (src/<resource>_routes.cc).
void AddMetaRoutes(Router& router, ServerContext& ctx);
void AddArtifactRoutes(Router& router, ServerContext& ctx);
void AddDatasetRoutes(Router& router, ServerContext& ctx);
void AddTokenRoutes(Router& router, ServerContext& ctx);
// Compiled in when libs/registry is built (VQI_SERVER_WITH_REGISTRY): opens the registry.
Status AddModelRoutes(Router& router, ServerContext& ctx);
// Compiled in when libs/component and libs/signing are built (VQI_SERVER_WITH_COMPONENTS).
Status AddComponentRoutes(Router& router, ServerContext& ctx);
// Compiled in when libs/fleet is built (VQI_SERVER_WITH_FLEET): opens the fleet store.
Status AddFleetRoutes(Router& router, ServerContext& ctx);
// GET /v1/shadow (libs/fleet shadow_store.h, docs/design/shadow.md): opens <home>/fleet/shadow.db.
Status AddShadowRoutes(Router& router, ServerContext& ctx);
// /v1/results, /v1/things/{name}/results/stats (libs/results): opens the results store.
Status AddResultsRoutes(Router& router, ServerContext& ctx);

// A path parameter that must be a positive decimal integer (a version number).
Result<int64_t> PositiveParam(const Call& call, const std::string& name);
// The blob file of an artifact digest named by request body field `field`; InvalidArgument
// for a malformed digest, NotFound (naming the field) when it was never uploaded.
Result<std::string> UploadedBlob(const ServerContext& ctx, const Json& body,
                                 const std::string& field);

// A required string field of a JSON object body; InvalidArgument naming it otherwise.
Result<std::string> StringField(const Json& body, const std::string& field);
// An optional string field ("" when absent); InvalidArgument when present but not a string.
Result<std::string> OptionalStringField(const Json& body, const std::string& field);

}  // namespace vqi::server
