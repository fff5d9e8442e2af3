// What route handlers share: the options, the stores, and helpers to reply.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "router.h"
#include "vqi/server/server.h"
#include "vqi/server/token_store.h"

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
  std::function<Json()> openapi;  // the document, built from the route table
};

// One registration function per resource (src/<resource>_routes.cc).
void AddMetaRoutes(Router& router, ServerContext& ctx);
void AddArtifactRoutes(Router& router, ServerContext& ctx);
void AddDatasetRoutes(Router& router, ServerContext& ctx);
void AddTokenRoutes(Router& router, ServerContext& ctx);

// A required string field of a JSON object body; InvalidArgument naming it otherwise.
Result<std::string> StringField(const Json& body, const std::string& field);
// An optional string field ("" when absent); InvalidArgument when present but not a string.
Result<std::string> OptionalStringField(const Json& body, const std::string& field);

}  // namespace vqi::server
