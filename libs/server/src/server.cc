#include "vqi/server/server.h"

#include <charconv>
#include <condition_variable>
#include <thread>

#include "context.h"
#include "listener.h"
#include "openapi.h"
#include "vqi/base/file.h"
#include "vqi/base/log.h"
#include "vqi/server/http_error.h"

namespace vqi::server {
namespace {

// What the pre-routing handler learned about the request being handled on this thread.
// httplib runs pre-routing, the handler and the logger of one request on one worker thread,
// one after the other; pre-routing resets every field, so nothing leaks between requests.
struct RequestState {
  std::chrono::steady_clock::time_point start{};
  std::optional<TokenInfo> token;
  bool counted = false;  // counted in in_flight_
};
thread_local RequestState tls_state;

void ReplyError(httplib::Response& res, int http_status, const std::string& code,
                const std::string& message) {
  res.status = http_status;
  res.set_content(ErrorJson(code, message).dump() + "\n", "application/json");
}

void ReplyStatus(httplib::Response& res, const Status& s) {
  ReplyError(res, HttpStatusFor(s.code()), ErrorCodeFor(s.code()), s.message());
}

bool ParseLength(const std::string& s, uint64_t* v) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), *v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

}  // namespace

struct Server::Impl {
  ServerContext ctx;
  Router router;
  std::unique_ptr<httplib::Server> http;
  ListenerControl* control = nullptr;
  bool bound = false;

  std::atomic<bool> draining{false};
  std::atomic<int> in_flight{0};
  std::mutex mu;
  std::condition_variable cv;
  bool stopped = false;         // guarded by mu: listen returned
  std::thread shutdown_thread;  // guarded by mu

  // Checks a request against the route table before its body is read: route, size limits,
  // token and scope. Returns true after writing an error response.
  bool Precheck(const httplib::Request& req, httplib::Response& res);
  void Install();
};

bool Server::Impl::Precheck(const httplib::Request& req, httplib::Response& res) {
  if (draining) {
    CloseAfterResponse() = true;
    res.set_header("Connection", "close");
    ReplyError(res, 503, "unavailable", "the server is shutting down");
    return true;
  }
  const Router::Match m = router.Find(req.method, req.path);
  if (!m.route) {
    if (m.path_known)
      ReplyError(res, 405, "method_not_allowed", req.method + " is not a method of " + req.path);
    else
      ReplyError(res, 404, "no_route",
                 "no route " + req.method + " " + req.path + " (see /v1/openapi.json)");
    return true;
  }
  const Route& route = *m.route;

  // Body limits, from the headers alone: the body is never read when it is refused.
  if (req.has_header("Transfer-Encoding")) {
    ReplyError(res, 411, "length_required",
               "send the request body with a Content-Length (Transfer-Encoding is not accepted)");
    return true;
  }
  const std::string encoding = req.get_header_value("Content-Encoding");
  if (!encoding.empty() && encoding != "identity") {
    ReplyError(res, 415, "unsupported_media_type",
               "Content-Encoding '" + encoding + "' is not accepted: send the body uncompressed");
    return true;
  }
  const int64_t limit = route.body == Body::kNone   ? 0
                        : route.body == Body::kJson ? ctx.options.max_body_bytes
                                                    : ctx.options.max_upload_bytes;
  if (req.has_header("Content-Length")) {
    uint64_t length = 0;
    if (!ParseLength(req.get_header_value("Content-Length"), &length)) {
      ReplyError(res, 400, "bad_request", "Content-Length is not a decimal number");
      return true;
    }
    if (length > static_cast<uint64_t>(limit)) {
      ReplyError(
          res, 413, "payload_too_large",
          route.body == Body::kNone
              ? req.method + " " + route.pattern + " takes no request body"
              : "request body of " + std::to_string(length) +
                    " bytes is larger than the limit of " + std::to_string(limit) + " bytes for " +
                    route.method + " " + route.pattern +
                    (route.body == Body::kJson ? " (--max-body-bytes" : " (--max-upload-bytes") +
                    ", docs/limits.md)");
      return true;
    }
  }
  if (route.body == Body::kStream && req.is_multipart_form_data()) {
    ReplyError(
        res, 400, "invalid_argument",
        "send the artifact as raw bytes (application/octet-stream), not multipart/form-data");
    return true;
  }

  // Authentication and scope.
  if (route.access != Access::kPublic) {
    const std::string auth = req.get_header_value("Authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (auth.size() <= kBearer.size() || auth.compare(0, kBearer.size(), kBearer) != 0) {
      res.set_header("WWW-Authenticate", "Bearer");
      ReplyError(res, 401, "unauthenticated",
                 "this route needs a bearer token (Authorization: Bearer <token>)");
      return true;
    }
    auto token = ctx.tokens->Authenticate(std::string_view(auth).substr(kBearer.size()));
    if (!token.ok()) {
      if (token.status().code() != StatusCode::kPermissionDenied) {
        ReplyStatus(res, token.status());  // the token store failed (busy, damaged)
        return true;
      }
      VQI_LOG_INFO("server: {} {}: refused token: {}", req.method, req.path,
                   token.status().message());
      res.set_header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
      ReplyError(res, 401, "unauthenticated",
                 "the bearer token is not valid (unknown, malformed or revoked)");
      return true;
    }
    tls_state.token = std::move(token).value();  // also names the caller in the access log
    if (!Allows(tls_state.token->scope, route.access)) {
      ReplyError(res, 403, "permission_denied",
                 "token '" + tls_state.token->name + "' has scope " +
                     ScopeName(tls_state.token->scope) + "; " + route.method + " " + route.pattern +
                     " needs " + AccessName(route.access));
      tls_state.token.reset();
      return true;
    }
  }
  return false;
}

void Server::Impl::Install() {
  httplib::Server& s = *http;
  s.new_task_queue = [n = ctx.options.threads] { return new httplib::ThreadPool(n); };
  s.set_payload_max_length(
      static_cast<size_t>(std::max(ctx.options.max_body_bytes, ctx.options.max_upload_bytes)));
  s.set_read_timeout(kReadTimeoutSeconds);  // also bounds the TLS handshake (SO_RCVTIMEO)
  s.set_write_timeout(kWriteTimeoutSeconds);

  s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (ConnectionStream* c = CurrentConnection()) c->StartBody();
    tls_state = RequestState{};
    tls_state.start = std::chrono::steady_clock::now();
    tls_state.counted = true;
    ++in_flight;
    auto& mreq = const_cast<httplib::Request&>(req);  // httplib's own, non-const object
    // httplib would apply a parsed Range to every response (slicing JSON bodies): only the
    // artifact handler honours Range, parsing the header itself.
    mreq.ranges.clear();
    // RFC 9112 §6.3: a request with neither Content-Length nor Transfer-Encoding has an empty
    // body; httplib 0.11 would read until the connection closes.
    if ((req.method == "POST" || req.method == "PUT" || req.method == "PATCH") &&
        !req.has_header("Content-Length") && !req.has_header("Transfer-Encoding"))
      mreq.headers.emplace("Content-Length", "0");
    if (!Precheck(req, res)) return httplib::Server::HandlerResponse::Unhandled;
    // A refused request's body (if the client sent one) is never read, so the connection ends
    // after the response (httplib would parse the unread body as further requests).
    if (req.has_header("Content-Length") && req.get_header_value("Content-Length") != "0") {
      CloseAfterResponse() = true;
      if (!res.has_header("Connection")) res.set_header("Connection", "close");
    }
    return httplib::Server::HandlerResponse::Handled;
  });
  // curl sends `Expect: 100-continue` before a large body: answer the refusal instead of 100,
  // so the client never sends the body.
  s.set_expect_100_continue_handler([this](const httplib::Request& req, httplib::Response& res) {
    RequestState saved = std::move(tls_state);
    const bool refused = Precheck(req, res);
    tls_state = std::move(saved);
    if (!refused) return 100;
    CloseAfterResponse() = true;
    res.set_header("Connection", "close");
    return res.status;
  });
  s.set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
        if (res.body.empty() && !res.has_header("Content-Length") && res.status != 304) {
          std::string msg = std::string("HTTP ") + std::to_string(res.status);
          if (res.status == 416) msg = "the Range header is not a valid byte range";
          if (res.status == 400) msg = "malformed HTTP request";
          if (res.status == 414) msg = "the request URI is longer than 8192 bytes";
          if (res.status == 404) msg = "no route " + req.method + " " + req.path;
          ReplyError(res, res.status, ErrorCodeForHttp(res.status), msg);
        }
        return httplib::Server::HandlerResponse::Unhandled;
      }));
  s.set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown exception";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        VQI_LOG_ERROR("server: {} {}: handler threw: {}", req.method, req.path, what);
        ReplyError(res, 500, "internal", "internal error: " + what);
      });
  s.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    double ms = -1;
    if (tls_state.counted) {
      ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                     tls_state.start)
               .count();
      --in_flight;
    }
    if (req.method.empty()) {  // httplib could not parse a request line
      VQI_LOG_INFO("access {} malformed request {}", req.remote_addr, res.status);
      tls_state = RequestState{};
      return;
    }
    const std::string bytes = res.get_header_value("Content-Length");
    VQI_LOG_INFO("access {} {} {} {} {}B {:.1f}ms {}", req.remote_addr, req.method, req.path,
                 res.status, bytes.empty() ? std::to_string(res.body.size()) : bytes, ms,
                 tls_state.token ? tls_state.token->name : "-");
    tls_state = RequestState{};
  });

  for (const Route& route : router.routes()) {
    const std::string re = Router::PatternRegex(route.pattern);
    const Route* r = &route;
    auto run = [r](const httplib::Request& req, httplib::Response& res,
                   const httplib::ContentReader* reader) {
      Call call{req, res, reader, tls_state.token ? &*tls_state.token : nullptr, {}};
      const auto names = Router::PatternParams(r->pattern);
      for (size_t i = 0; i < names.size() && i + 1 < req.matches.size(); ++i)
        call.params[names[i]] = req.matches[i + 1].str();
      Status st = r->handler(call);
      if (!st.ok()) {
        if (st.code() == StatusCode::kInternal || st.code() == StatusCode::kDataLoss)
          VQI_LOG_ERROR("server: {} {}: {}", req.method, req.path, st.ToString());
        res.headers.erase("Content-Range");
        ReplyStatus(res, st);
      }
    };
    auto plain = [run](const httplib::Request& req, httplib::Response& res) {
      run(req, res, nullptr);
    };
    auto streamed = [run](const httplib::Request& req, httplib::Response& res,
                          const httplib::ContentReader& reader) { run(req, res, &reader); };
    if (route.method == "GET") {
      s.Get(re, plain);
    } else if (route.method == "DELETE") {
      s.Delete(re, plain);
    } else if (route.method == "POST") {
      if (route.body == Body::kStream)
        s.Post(re, streamed);
      else
        s.Post(re, plain);
    } else if (route.method == "PUT") {
      if (route.body == Body::kStream)
        s.Put(re, streamed);
      else
        s.Put(re, plain);
    }
  }
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  std::thread t;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stopped = true;  // ends a pending grace wait
    t = std::move(impl_->shutdown_thread);
  }
  impl_->cv.notify_all();
  if (t.joinable()) t.join();
}

Result<std::unique_ptr<Server>> Server::Create(const ServerOptions& options) {
  if (options.home.empty()) return InvalidArgument("server: the vqi home is empty");
  if (options.threads < 1 || options.threads > 1024)
    return InvalidArgument("server: threads must be in [1, 1024]");
  if (options.max_body_bytes < 0 || options.max_upload_bytes < 0)
    return InvalidArgument("server: size limits must not be negative");
  if (options.tls.cert_file.empty() != options.tls.key_file.empty())
    return InvalidArgument("server: give both --tls-cert and --tls-key, or neither");
  if (!options.tls.client_ca_file.empty() && options.tls.cert_file.empty())
    return InvalidArgument("server: --tls-client-ca needs --tls-cert and --tls-key");

  auto impl = std::make_unique<Impl>();
  ServerContext& ctx = impl->ctx;
  ctx.options = options;
  ctx.artifacts_dir = options.home + "/artifacts";
  ctx.uploads_dir = options.home + "/server/uploads";
  VQI_RETURN_IF_ERROR(MakeDirs(ctx.artifacts_dir));
  VQI_RETURN_IF_ERROR(MakeDirs(ctx.uploads_dir));
  VQI_ASSIGN_OR_RETURN(ctx.tokens, OpenTokenStore(options.home));
  VQI_ASSIGN_OR_RETURN(ctx.uploads, OpenUploadLog(options.home));

  if (options.tls.cert_file.empty()) {
    auto l = std::make_unique<Listener<httplib::Server>>();
    impl->control = l.get();
    impl->http = std::move(l);
  } else {
    for (const std::string& f :
         {options.tls.cert_file, options.tls.key_file, options.tls.client_ca_file})
      if (!f.empty() && !FileExists(f))
        return InvalidArgument("server: TLS file " + f + " does not exist");
    auto l = std::make_unique<Listener<httplib::SSLServer>>(
        options.tls.cert_file.c_str(), options.tls.key_file.c_str(),
        options.tls.client_ca_file.empty() ? nullptr : options.tls.client_ca_file.c_str());
    if (!l->is_valid())
      return InvalidArgument("server: cannot load the TLS certificate " + options.tls.cert_file +
                             " with key " + options.tls.key_file +
                             (options.tls.client_ca_file.empty()
                                  ? ""
                                  : " and client CA " + options.tls.client_ca_file) +
                             " (PEM files; does the key match the certificate?)");
    impl->control = l.get();
    impl->http = std::move(l);
  }

  AddMetaRoutes(impl->router, ctx);
  AddArtifactRoutes(impl->router, ctx);
  AddDatasetRoutes(impl->router, ctx);
  AddTokenRoutes(impl->router, ctx);
#ifdef VQI_SERVER_WITH_REGISTRY
  VQI_RETURN_IF_ERROR(AddModelRoutes(impl->router, ctx));
#endif
#ifdef VQI_SERVER_WITH_FLEET
  VQI_RETURN_IF_ERROR(AddFleetRoutes(impl->router, ctx));
  VQI_RETURN_IF_ERROR(AddShadowRoutes(impl->router, ctx));
#endif
  VQI_RETURN_IF_ERROR(AddResultsRoutes(impl->router, ctx));
#ifdef VQI_SERVER_WITH_COMPONENTS
  VQI_RETURN_IF_ERROR(AddComponentRoutes(impl->router, ctx));
#endif
  Impl* raw = impl.get();
  const bool tls = !options.tls.cert_file.empty();
  ctx.openapi = [raw, tls] { return BuildOpenApi(raw->router, tls); };
  impl->Install();
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Result<int> Server::Bind() {
  const auto& o = impl_->ctx.options;
  int port = 0;
  if (o.port == 0) {
    port = impl_->http->bind_to_any_port(o.bind_address);
    if (port <= 0) return Unavailable("server: cannot bind " + o.bind_address + " to a free port");
  } else {
    if (!impl_->http->bind_to_port(o.bind_address, o.port))
      return Unavailable("server: cannot bind " + o.bind_address + ":" + std::to_string(o.port) +
                         " (in use, or not an address of this machine)");
    port = o.port;
  }
  impl_->bound = true;
  return port;
}

Status Server::Run() {
  if (!impl_->bound) return FailedPrecondition("server: Run before Bind");
  const bool ok = impl_->http->listen_after_bind();
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stopped = true;
  }
  impl_->cv.notify_all();
  if (!ok && !impl_->draining) return Unavailable("server: the listening socket failed");
  return Status::Ok();
}

void Server::Shutdown() {
  if (impl_->draining.exchange(true)) return;
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (!impl_->bound || impl_->stopped) return;
  VQI_LOG_INFO("server: shutting down: no new connections; {} request(s) in flight get up to {} s",
               impl_->in_flight.load(), impl_->ctx.options.shutdown_grace.count());
  impl_->control->StopAccepting();
  Impl* impl = impl_.get();
  impl_->shutdown_thread = std::thread([impl] {
    std::unique_lock<std::mutex> l(impl->mu);
    if (!impl->cv.wait_for(l, impl->ctx.options.shutdown_grace, [impl] { return impl->stopped; })) {
      VQI_LOG_WARN("server: {} request(s) still in flight after {} s: cutting them",
                   impl->in_flight.load(), impl->ctx.options.shutdown_grace.count());
      impl->control->AbortInFlight();
    }
  });
}

bool Server::tls() const { return !impl_->ctx.options.tls.cert_file.empty(); }

std::vector<RouteInfo> Server::Routes() const {
  std::vector<RouteInfo> out;
  for (const Route& r : impl_->router.routes())
    out.push_back({r.method, r.pattern, r.access, r.summary});
  return out;
}

Json Server::OpenApi() const { return impl_->ctx.openapi(); }

}  // namespace vqi::server
