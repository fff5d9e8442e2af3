// HttpClient: the agent's HTTP(S) client over libcurl, for `vqi server` (docs/design/fetch.md).
//
// One CURL easy handle is reused for every request (keep-alive connection, TLS session).
// Errors name the method and URL, and either curl's message or the HTTP status with the
// server's JSON `error.message`. Status codes: Unavailable for transport errors, timeouts,
// bodies cut short, 408, 429 and 5xx (worth retrying); PermissionDenied for 401/403; NotFound
// for 404; InvalidArgument for other 4xx; ResourceExhausted for a body over its limit;
// Cancelled when the body sink asked to stop.
//
// Thread-compatibility: one HttpClient per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "vqi/base/json.h"
#include "vqi/base/status.h"

namespace vqi::agent {

inline constexpr int64_t kMaxMetadataBytes = int64_t{16} << 20;  // docs/limits.md (Agent downloads)

struct HttpOptions {
  std::string base_url;          // "http(s)://host:port", no trailing slash needed
  std::string ca_file;           // PEM CA that signed the server (the bundle's ca.pem); "" = system
  std::string client_cert_file;  // optional client certificate (mutual TLS)
  std::string client_key_file;
  std::string token;  // bearer token (scope device); "" = none
  std::chrono::milliseconds connect_timeout{10000};
  // Abort a transfer slower than low_speed_bytes per second for low_speed_time.
  int64_t low_speed_bytes = 1;
  std::chrono::seconds low_speed_time{30};
  int64_t max_recv_bytes_per_second = 0;  // 0 = unlimited (CURLOPT_MAX_RECV_SPEED_LARGE)
  int64_t max_json_bytes = kMaxMetadataBytes;
};

// What a body download answered.
struct BodyResponse {
  long status = 0;          // 200 or 206
  int64_t range_start = 0;  // first byte of the body within the resource (206), else 0
  int64_t total_size =
      -1;  // the whole resource's size if the server said so (Content-Length/Range)
  std::string etag;
  int64_t body_bytes = 0;  // bytes handed to the sink
};

// Receives body bytes in order, with the response's head (status, range_start, total_size,
// etag filled; body_bytes not yet) known before the first byte; returning false stops the
// transfer (Cancelled).
using BodySink = std::function<bool(const BodyResponse& head, std::string_view data)>;

class HttpClient {
 public:
  // InvalidArgument for an empty or non-http(s) base URL or a missing CA/certificate file.
  static Result<std::unique_ptr<HttpClient>> Create(const HttpOptions& options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  const HttpOptions& options() const { return options_; }
  // Requests sent so far (every attempt counts).
  int64_t requests() const { return requests_; }

  // GET base_url + path; a 200 response's body parsed as JSON (depth-limited).
  Result<Json> GetJson(const std::string& path);
  // GET base_url + path streaming a 200/206 body into `sink`. `range_from` > 0 sends
  // `Range: bytes=<range_from>-` and, with a non-empty `if_range`, `If-Range: <if_range>`.
  // Bodies over `max_body_bytes` are cut: ResourceExhausted.
  Result<BodyResponse> GetBody(const std::string& path, int64_t range_from,
                               const std::string& if_range, int64_t max_body_bytes,
                               const BodySink& sink);

 private:
  struct Impl;
  HttpClient(HttpOptions options, std::unique_ptr<Impl> impl);
  HttpOptions options_;
  std::unique_ptr<Impl> impl_;
  int64_t requests_ = 0;
};

// The vqi Status for an HTTP error status (see the file comment); `what` is the message.
Status StatusForHttp(long http_status, const std::string& what);
// Whether a failed request is worth retrying (Unavailable).
bool IsRetryable(const Status& status);

}  // namespace vqi::agent
