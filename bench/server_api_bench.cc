// Operations per second of the HTTP API (`vqi server`'s libs/server in-process on loopback,
// one keep-alive client): registry register / get / list / approve / latest-approved, and
// health as the floor of one request. Prints one line per operation; exits non-zero if any
// request failed. Usage: server_api_bench [VERSIONS] (default 300).
#include <httplib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

#include "vqi/base/json.h"
#include "vqi/base/log.h"
#include "vqi/server/server.h"
#include "vqi/server/token_store.h"

namespace {

using Clock = std::chrono::steady_clock;

std::string Report(double map50) {
  vqi::OrderedJson j;
  j["model"] = "model.onnx";
  j["source"] = {{"dataset", "metal"},
                 {"split", "s1"},
                 {"part", "test"},
                 {"split_digest", std::string(64, 'a')}};
  j["failed_images"] = 0;
  j["metrics"] = {
      {"images", 20},     {"map50", map50}, {"map75", 0.4}, {"map50_95", 0.5},
      {"precision", 0.8}, {"recall", 0.75}, {"f1", 0.77},   {"per_class", vqi::Json::array()}};
  return j.dump();
}

bool failed = false;

void Measure(const char* what, int n, const std::function<bool(int)>& op) {
  const auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    if (!op(i)) {
      std::fprintf(stderr, "%s: request %d failed\n", what, i);
      failed = true;
      return;
    }
  }
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("%-40s %6d ops  %8.0f ops/s  %7.3f ms/op\n", what, n, n / s, 1000 * s / n);
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);  // no access log lines
  const int n = argc > 1 ? std::atoi(argv[1]) : 300;
  const std::string home =
      std::filesystem::temp_directory_path() / ("vqi-apibench-" + std::to_string(getpid()));
  std::filesystem::remove_all(home);
  std::string token;
  {
    auto tokens = vqi::server::OpenTokenStore(home);
    auto t = (*tokens)->Create("bench", vqi::server::Scope::kWrite);
    token = t->token;
  }
  vqi::server::ServerOptions o;
  o.home = home;
  o.threads = 4;
  auto server = vqi::server::Server::Create(o);
  if (!server.ok()) {
    std::fprintf(stderr, "%s\n", server.status().ToString().c_str());
    return 1;
  }
  const int port = *(*server)->Bind();
  std::thread run([&] { (void)(*server)->Run(); });

  httplib::Client c("127.0.0.1", port);
  c.set_keep_alive(true);
  c.set_tcp_nodelay(true);  // else Nagle holds each POST body for the server's delayed ACK
  c.set_bearer_token_auth(token.c_str());
  auto put = [&](const std::string& bytes) {
    auto r = c.Put("/v1/artifacts", bytes, "application/octet-stream");
    return r ? vqi::Json::parse(r->body)["sha256"].get<std::string>() : std::string();
  };
  const std::string model = put(std::string(1 << 20, 'm'));
  const std::string report = put(Report(0.86));
  const std::string body =
      vqi::Json{{"model", model}, {"report", report}, {"min_map50", 0.5}}.dump();

  Measure("GET /v1/health", n, [&](int) {
    auto r = c.Get("/v1/health");
    return r && r->status == 200;
  });
  Measure("POST /v1/models/g/versions (register)", n, [&](int) {
    auto r = c.Post("/v1/models/g/versions", body, "application/json");
    return r && r->status == 201;
  });
  Measure("GET /v1/models/g/versions/{n}", n, [&](int i) {
    auto r = c.Get("/v1/models/g/versions/" + std::to_string(i + 1));
    return r && r->status == 200;
  });
  Measure("POST .../versions/{n}/approval", n, [&](int i) {
    auto r = c.Post("/v1/models/g/versions/" + std::to_string(i + 1) + "/approval",
                    R"({"status": "Approved", "reason": "bench"})", "application/json");
    return r && r->status == 200;
  });
  Measure("GET /v1/models/g/latest-approved", n, [&](int) {
    auto r = c.Get("/v1/models/g/latest-approved");
    return r && r->status == 200;
  });
  Measure(("GET /v1/models/g/versions (" + std::to_string(n) + " versions)").c_str(),
          std::max(1, n / 10), [&](int) {
            auto r = c.Get("/v1/models/g/versions");
            return r && r->status == 200;
          });
  (*server)->Shutdown();
  run.join();
  std::filesystem::remove_all(home);
  return failed ? 1 : 0;
}
