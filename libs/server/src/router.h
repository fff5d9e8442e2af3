// The route table: every HTTP route of the server is one Route here. The server registers
// each with httplib from this table, the pre-routing handler authorizes against it, and the
// OpenAPI document is generated from it — so the three cannot drift apart.
#pragma once

#include <httplib.h>

#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "vqi/base/json.h"
#include "vqi/base/status.h"
#include "vqi/server/scope.h"
#include "vqi/server/token_store.h"

namespace vqi::server {

enum class Body {
  kNone,    // no request body (Content-Length must be absent or 0)
  kJson,    // a JSON document, at most max_body_bytes, read by httplib into req.body
  kStream,  // raw bytes streamed to the handler (uploads), at most max_upload_bytes
};

// One request as a handler sees it.
struct Call {
  const httplib::Request& req;
  httplib::Response& res;
  const httplib::ContentReader* reader = nullptr;  // Body::kStream only
  const TokenInfo* token = nullptr;                // null on public routes
  std::map<std::string, std::string> params;       // path parameters by name

  const std::string& Param(const std::string& name) const;
  // The request body as JSON (libs/base ParseJson, depth-limited); InvalidArgument when it
  // is empty or malformed.
  Result<Json> JsonBody() const;
  // Sets status and a JSON body.
  void Reply(int status, const Json& body) const;
};

// Returns OK after replying, or an error the router turns into the JSON error shape.
using Handler = std::function<Status(Call&)>;

struct Route {
  std::string method;   // GET, POST, PUT, DELETE (GET routes answer HEAD too)
  std::string pattern;  // "/v1/artifacts/{sha256}": {name} matches one path segment
  Access access = Access::kRead;
  Body body = Body::kNone;
  std::string tag;       // OpenAPI tag (resource)
  std::string summary;   // one line, for OpenAPI and docs/api.md
  int success = 200;     // the success status documented
  Json request_schema;   // optional OpenAPI schema of the JSON body
  Json response_schema;  // optional OpenAPI schema of the success body
  Handler handler;
};

class Router {
 public:
  void Add(Route route);
  const std::vector<Route>& routes() const { return routes_; }

  struct Match {
    const Route* route = nullptr;  // null: no route for this method
    bool path_known = false;       // some route has this path (→ 405 rather than 404)
    std::map<std::string, std::string> params;
  };
  // HEAD matches GET routes.
  Match Find(const std::string& method, const std::string& path) const;

  // The regex httplib matches for `pattern` (also used by Find).
  static std::string PatternRegex(const std::string& pattern);
  // The names of the {params} of `pattern`, in order.
  static std::vector<std::string> PatternParams(const std::string& pattern);

 private:
  std::vector<Route> routes_;
  std::vector<std::regex> regexes_;
};

}  // namespace vqi::server
