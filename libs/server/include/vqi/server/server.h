// `vqi server`: the HTTP/1.1 JSON API over one vqi home (docs/api.md, docs/design/server.md).
//
// Usage: Create → Bind (the port, chosen when options.port is 0) → Run (blocks) on one thread;
// Shutdown from another (e.g. the signal thread). Shutdown stops accepting connections, lets
// requests in flight finish for up to `shutdown_grace`, then cuts the rest; Run then returns.
//
// Thread-safety: Shutdown may be called from any thread, any number of times; the rest from
// the thread that owns the Server.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "vqi/base/json.h"
#include "vqi/base/status.h"
#include "vqi/server/scope.h"

namespace vqi::server {

struct TlsOptions {
  std::string cert_file;       // PEM server certificate (chain); TLS is on when set
  std::string key_file;        // PEM private key
  std::string client_ca_file;  // optional: require client certificates signed by this CA
};

struct ServerOptions {
  std::string home;  // the vqi home whose stores are served
  std::string bind_address = "127.0.0.1";
  int port = 0;  // 0: a free port (Bind returns it)
  TlsOptions tls;
  int64_t max_body_bytes = int64_t{64} << 20;   // JSON request bodies (docs/limits.md)
  int64_t max_upload_bytes = int64_t{4} << 30;  // artifact uploads, streamed to a file
  int threads = 8;                              // httplib worker threads
  std::chrono::seconds shutdown_grace{30};      // in-flight requests get this long
};

// What the route table says about one route (for tests and docs).
struct RouteInfo {
  std::string method;
  std::string pattern;
  Access access;
  std::string summary;
};

class Server {
 public:
  // Opens the stores under options.home (creating <home>/server and <home>/artifacts) and
  // builds the routes. InvalidArgument for bad options or TLS files that do not load.
  static Result<std::unique_ptr<Server>> Create(const ServerOptions& options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the listening socket; returns the port. Unavailable if the address is taken.
  Result<int> Bind();
  // Serves until Shutdown. REQUIRES: Bind succeeded.
  Status Run();
  // Graceful stop (see the file comment). Returns at once; Run returns when done.
  void Shutdown();

  bool tls() const;
  std::vector<RouteInfo> Routes() const;
  // The OpenAPI 3.0 document served at GET /v1/openapi.json.
  Json OpenApi() const;

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vqi::server
