// vqi-ipc: the component IPC from a shell (docs/design/ipc.md "vqi-ipc"), for recipes whose
// lifecycle is a script, and for tests and measurements. Uses VQI_IPC_SOCKET and SVCUID from
// the environment the agent gave the lifecycle step. Links libs/ipc_client (and libs/base).
//
//   vqi-ipc get-config [POINTER] [--component NAME]   prints the JSON value
//   vqi-ipc publish TOPIC JSON                        cloud (spooled), prints the message id
//   vqi-ipc publish-local TOPIC JSON | subscribe-local FILTER [COUNT]
//   vqi-ipc metric NAME VALUE | state RUNNING|ERRORED | upload FILE [CONTENT_TYPE]
//   vqi-ipc round-trips N                             N UpdateState calls, prints the mean
// Exit: 0 done, 1 refused or failed (the error and its code on stderr), 2 usage.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "vqi/ipc_client/client.h"

namespace {

int Usage() {
  std::fprintf(stderr,
               "usage: vqi-ipc get-config [POINTER] [--component NAME] | publish TOPIC JSON | "
               "publish-local TOPIC JSON | subscribe-local FILTER [COUNT] | metric NAME VALUE | "
               "state RUNNING|ERRORED | upload FILE [CONTENT_TYPE] | round-trips N\n");
  return 2;
}

int Fail(const vqi::Status& s) {
  std::fprintf(stderr, "vqi-ipc: %s: %s\n", vqi::ipc::CodeName(s.code()).c_str(),
               s.message().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> a(argv + 1, argv + argc);
  if (a.empty()) return Usage();
  auto c = vqi::ipc::IpcClient::ConnectFromEnv();
  if (!c.ok()) return Fail(c.status());
  vqi::ipc::IpcClient& ipc = **c;
  const std::string& verb = a[0];
  auto json = [](const std::string& text) { return vqi::ParseJson(text, "JSON argument"); };
  if (verb == "get-config" && a.size() <= 4) {
    std::string ptr, component;
    for (size_t i = 1; i < a.size(); ++i) {
      if (a[i] == "--component" && i + 1 < a.size()) {
        component = a[++i];
      } else {
        ptr = a[i];
      }
    }
    auto v = ipc.GetConfiguration(component, ptr);
    if (!v.ok()) return Fail(v.status());
    std::printf("%s\n", v->dump().c_str());
    return 0;
  }
  if ((verb == "publish" || verb == "publish-local") && a.size() == 3) {
    auto body = json(a[2]);
    if (!body.ok()) return Fail(body.status());
    if (verb == "publish-local") {
      vqi::Status s = ipc.PublishToTopic(a[1], *body);
      return s.ok() ? 0 : Fail(s);
    }
    auto id = ipc.PublishToIoTCore(a[1], *body);
    if (!id.ok()) return Fail(id.status());
    std::printf("%s\n", id->c_str());
    return 0;
  }
  if (verb == "subscribe-local" && (a.size() == 2 || a.size() == 3)) {
    vqi::Status s = ipc.SubscribeToTopic(a[1]);
    if (!s.ok()) return Fail(s);
    const long n = a.size() == 3 ? std::strtol(a[2].c_str(), nullptr, 10) : 1;
    for (long i = 0; i < n; ++i) {
      auto e = ipc.NextEvent(-1);
      if (!e.ok()) return Fail(e.status());
      std::printf("%s %s\n", e->topic.c_str(), e->payload.dump().c_str());
      std::fflush(stdout);
    }
    return 0;
  }
  if (verb == "metric" && a.size() == 3) {
    char* end = nullptr;
    const double v = std::strtod(a[2].c_str(), &end);
    if (!end || *end) return Usage();
    vqi::Status s = ipc.PutMetric(a[1], v);
    return s.ok() ? 0 : Fail(s);
  }
  if (verb == "state" && a.size() == 2) {
    vqi::Status s = ipc.UpdateState(a[1]);
    return s.ok() ? 0 : Fail(s);
  }
  if (verb == "upload" && (a.size() == 2 || a.size() == 3)) {
    auto id = ipc.UploadFile(a[1], a.size() == 3 ? a[2] : "application/octet-stream");
    if (!id.ok()) return Fail(id.status());
    std::printf("%s\n", id->c_str());
    return 0;
  }
  if (verb == "round-trips" && a.size() == 2) {
    const long n = std::strtol(a[1].c_str(), nullptr, 10);
    if (n < 1 || n > 10000000) return Usage();
    const auto t0 = std::chrono::steady_clock::now();
    for (long i = 0; i < n; ++i) {
      vqi::Status s = ipc.UpdateState("RUNNING");
      if (!s.ok()) return Fail(s);
    }
    const double us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() /
        static_cast<double>(n);
    std::printf("%ld round trips, mean %.1f us\n", n, us);
    return 0;
  }
  return Usage();
}
