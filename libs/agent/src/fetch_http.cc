// HttpClient over libcurl (fetch_http.h).
#include "vqi/agent/fetch_http.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>

#include "vqi/base/file.h"

namespace vqi::agent {
namespace {

constexpr size_t kMaxErrorBody = 64 << 10;  // what is kept of an error response's body

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

// One request's state, shared with curl's callbacks.
struct Exchange {
  CURL* curl = nullptr;
  std::map<std::string, std::string> headers;  // lowercase names, of the last response
  bool body_started = false;
  long status = 0;
  bool ok_status = false;  // 200/206: the body goes to the sink
  std::string error_body;  // of any other status (bounded)
  int64_t body_bytes = 0;
  int64_t max_body_bytes = 0;
  bool too_big = false;
  bool cancelled = false;
  const BodySink* sink = nullptr;
  BodyResponse head;
  bool head_ok = true;  // a 206 carried a usable Content-Range
};

// "bytes 100-199/1000" → start 100, total 1000.
bool ParseContentRange(const std::string& v, int64_t* start, int64_t* total) {
  long long a = 0, b = 0, t = 0;
  if (std::sscanf(v.c_str(), "bytes %lld-%lld/%lld", &a, &b, &t) != 3 || a < 0 || b < a)
    return false;
  *start = a;
  *total = t;
  return true;
}

// The head of a 200/206 response from its status and headers; false for a 206 without a
// usable Content-Range.
bool FillHead(Exchange* x) {
  x->head.status = x->status;
  if (auto it = x->headers.find("etag"); it != x->headers.end()) x->head.etag = it->second;
  if (x->status == 206) {
    auto it = x->headers.find("content-range");
    return it != x->headers.end() &&
           ParseContentRange(it->second, &x->head.range_start, &x->head.total_size);
  }
  if (auto it = x->headers.find("content-length"); it != x->headers.end())
    x->head.total_size = std::atoll(it->second.c_str());
  return true;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* x = static_cast<Exchange*>(user);
  const std::string line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {
    x->headers.clear();  // a new response (e.g. after 100 Continue)
  } else {
    const size_t colon = line.find(':');
    if (colon != std::string::npos)
      x->headers[Lower(line.substr(0, colon))] = Trim(line.substr(colon + 1));
  }
  return size * n;
}

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* x = static_cast<Exchange*>(user);
  const size_t len = size * n;
  if (!x->body_started) {
    x->body_started = true;
    curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &x->status);
    x->ok_status = x->status == 200 || x->status == 206;
    x->head_ok = FillHead(x);
  }
  if (!x->ok_status) {
    const size_t keep =
        std::min(len, kMaxErrorBody - std::min(kMaxErrorBody, x->error_body.size()));
    x->error_body.append(data, keep);
    return len;
  }
  if (x->body_bytes + static_cast<int64_t>(len) > x->max_body_bytes) {
    x->too_big = true;
    return 0;  // CURLE_WRITE_ERROR
  }
  if (!x->head_ok) return 0;
  x->body_bytes += static_cast<int64_t>(len);
  if (!(*x->sink)(x->head, std::string_view(data, len))) {
    x->cancelled = true;
    return 0;
  }
  return len;
}

// The server's `{"error": {"code", "message"}}`, or the start of the body.
std::string ServerMessage(const std::string& body) {
  auto j = ParseJson(body, "error body");
  if (j.ok() && j->is_object() && j->contains("error") && (*j)["error"].is_object()) {
    const Json& e = (*j)["error"];
    std::string code =
        e.contains("code") && e["code"].is_string() ? e["code"].get<std::string>() : "";
    std::string msg =
        e.contains("message") && e["message"].is_string() ? e["message"].get<std::string>() : "";
    return code.empty() ? msg : code + ": " + msg;
  }
  std::string s = body.substr(0, 200);
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  return s;
}

}  // namespace

Status StatusForHttp(long http_status, const std::string& what) {
  if (http_status == 408 || http_status == 429 || http_status >= 500) return Unavailable(what);
  if (http_status == 401 || http_status == 403) return PermissionDenied(what);
  if (http_status == 404) return NotFound(what);
  if (http_status == 413) return ResourceExhausted(what);
  return InvalidArgument(what);
}

bool IsRetryable(const Status& status) { return status.code() == StatusCode::kUnavailable; }

struct HttpClient::Impl {
  CURL* curl = nullptr;
  char errbuf[CURL_ERROR_SIZE] = {};
  ~Impl() {
    if (curl) curl_easy_cleanup(curl);
  }
};

HttpClient::HttpClient(HttpOptions options, std::unique_ptr<Impl> impl)
    : options_(std::move(options)), impl_(std::move(impl)) {}
HttpClient::~HttpClient() = default;

Result<std::unique_ptr<HttpClient>> HttpClient::Create(const HttpOptions& options) {
  HttpOptions o = options;
  while (!o.base_url.empty() && o.base_url.back() == '/') o.base_url.pop_back();
  if (o.base_url.rfind("http://", 0) != 0 && o.base_url.rfind("https://", 0) != 0)
    return InvalidArgument("server URL '" + options.base_url +
                           "' must start with http:// or https://");
  for (const std::string* f : {&o.ca_file, &o.client_cert_file, &o.client_key_file})
    if (!f->empty() && !FileExists(*f))
      return InvalidArgument("TLS file " + *f + " does not exist");
  if (o.client_cert_file.empty() != o.client_key_file.empty())
    return InvalidArgument("a client certificate needs both its certificate and its key file");
  if (o.max_json_bytes <= 0) return InvalidArgument("max_json_bytes must be positive");
  GlobalInit();
  auto impl = std::make_unique<Impl>();
  impl->curl = curl_easy_init();
  if (!impl->curl) return Internal("curl_easy_init failed");
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(o), std::move(impl)));
}

Result<BodyResponse> HttpClient::GetBody(const std::string& path, int64_t range_from,
                                         const std::string& if_range, int64_t max_body_bytes,
                                         const BodySink& sink) {
  CURL* c = impl_->curl;
  curl_easy_reset(c);  // keeps the connection and TLS session caches
  const std::string url = options_.base_url + path;
  const std::string where = "GET " + url;
  Exchange x;
  x.curl = c;
  x.max_body_bytes = max_body_bytes;
  x.sink = &sink;
  impl_->errbuf[0] = '\0';

  curl_slist* headers = nullptr;
  const std::string auth = "Authorization: Bearer " + options_.token;
  if (!options_.token.empty()) headers = curl_slist_append(headers, auth.c_str());
  const std::string if_range_h = "If-Range: " + if_range;
  if (range_from > 0 && !if_range.empty()) headers = curl_slist_append(headers, if_range_h.c_str());
  headers = curl_slist_append(headers, "Accept-Encoding: identity");
  const std::string range = std::to_string(range_from) + "-";

  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, impl_->errbuf);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(options_.low_speed_bytes));
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options_.low_speed_time.count()));
  if (options_.max_recv_bytes_per_second > 0)
    curl_easy_setopt(c, CURLOPT_MAX_RECV_SPEED_LARGE,
                     static_cast<curl_off_t>(options_.max_recv_bytes_per_second));
  if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (!options_.client_cert_file.empty()) {
    curl_easy_setopt(c, CURLOPT_SSLCERT, options_.client_cert_file.c_str());
    curl_easy_setopt(c, CURLOPT_SSLKEY, options_.client_key_file.c_str());
  }
  if (range_from > 0) curl_easy_setopt(c, CURLOPT_RANGE, range.c_str());
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);

  ++requests_;
  const CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  if (x.status == 0) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &x.status);

  if (x.cancelled)
    return Cancelled(where + ": cancelled after " + std::to_string(x.body_bytes) + " bytes");
  if (x.too_big)
    return ResourceExhausted(where + ": body larger than the limit of " +
                             std::to_string(max_body_bytes) +
                             " bytes (docs/limits.md, Agent downloads)");
  if (!x.head_ok) return Unavailable(where + ": 206 without a usable Content-Range");
  if (rc != CURLE_OK) {
    std::string msg = impl_->errbuf[0] ? impl_->errbuf : curl_easy_strerror(rc);
    if (rc == CURLE_PARTIAL_FILE)
      msg = "body cut short after " + std::to_string(x.body_bytes) + " bytes (" + msg + ")";
    const std::string text = where + ": " + msg;
    switch (rc) {
      case CURLE_PEER_FAILED_VERIFICATION:
      case CURLE_SSL_CERTPROBLEM:
      case CURLE_SSL_CACERT_BADFILE:
      case CURLE_SSL_ISSUER_ERROR:
        return PermissionDenied(text);
      case CURLE_UNSUPPORTED_PROTOCOL:
      case CURLE_URL_MALFORMAT:
        return InvalidArgument(text);
      default:
        return Unavailable(text);
    }
  }
  if (x.status != 200 && x.status != 206)
    return StatusForHttp(x.status, where + ": HTTP " + std::to_string(x.status) + ": " +
                                       ServerMessage(x.error_body));

  if (!x.body_started && !FillHead(&x))  // an empty body: no write callback ran
    return Unavailable(where + ": 206 without a usable Content-Range");
  BodyResponse r = x.head;
  r.body_bytes = x.body_bytes;
  return r;
}

Result<Json> HttpClient::GetJson(const std::string& path) {
  std::string body;
  auto r =
      GetBody(path, 0, "", options_.max_json_bytes, [&](const BodyResponse&, std::string_view d) {
        body.append(d);
        return true;
      });
  if (!r.ok()) return r.status();
  return ParseJson(body, "GET " + options_.base_url + path);
}

}  // namespace vqi::agent
