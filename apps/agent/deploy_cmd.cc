// `vqi-agent deploy` (local mode, like `greengrass-cli deployment create`) and `status`.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "commands.h"
#include "vqi/agent/engine.h"
#include "vqi/agent/server_source.h"
#include "vqi/agent/spool.h"
#include "vqi/base/file.h"

namespace vqi::agent_cli {
namespace fs = std::filesystem;
using agent::Layout;

namespace {

int Fail(const vqi::Status& st) {
  std::fprintf(stderr, "vqi-agent: %s\n", st.message().c_str());
  return 1;
}

void PrintOutcome(const Json& out, bool json) {
  if (json) {
    std::printf("%s\n", out.dump(2).c_str());
    return;
  }
  std::printf("deployment %s: %s", out.value("deploymentId", "").c_str(),
              out.value("status", "").c_str());
  if (!out.value("reason", "").empty()) std::printf(": %s", out.value("reason", "").c_str());
  std::printf("\n");
  const Json comps = out.value("components", Json::object());
  for (const auto& [name, c] : comps.items())
    std::printf("  %s %s %s\n", name.c_str(), c.value("version", "").c_str(),
                c.value("state", "").c_str());
}

}  // namespace

int Deploy(const DeployArgs& a) {
  auto layout = agent::OpenLayout(a.root);
  if (!layout.ok()) return Fail(layout.status());
  auto text = ReadFile(a.file, 1 << 20);
  if (!text.ok()) return Fail(text.status());
  auto doc = ParseJson(*text, a.file);
  if (!doc.ok()) return Fail(doc.status());
  auto roots = agent::ParseCreateDeployment(*doc, a.file);
  if (!roots.ok()) return Fail(roots.status());
  roots->sequence = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                              std::chrono::system_clock::now().time_since_epoch())
                                              .count());
  roots->id = "local-" + std::to_string(roots->sequence);
  std::error_code ec;
  const std::string recipes = fs::absolute(a.recipes, ec).string();
  const std::string artifacts = fs::absolute(a.artifacts, ec).string();
  auto source = agent::LocalArtifactSource::Open(recipes, artifacts);
  if (!source.ok()) return Fail(source.status());
  auto full = agent::ResolveLocal(*roots, (*source)->recipes());
  if (!full.ok()) return Fail(full.status());
  // Everything the daemon will do before it stops anything is checked here too, so a bad
  // deployment is refused with its reason and nothing on the device changes.
  auto current = agent::LoadCurrent(*layout);
  if (!current.ok()) return Fail(current.status());
  auto target = agent::TargetSet(*full, current->set, **source);
  if (!target.ok()) return Fail(target.status());
  agent::PlanOptions popts;
  popts.root = layout->root;
  popts.thing_name = a.thing;
  popts.is_root = ::geteuid() == 0;
  auto running = agent::BuildPlan(current->set, popts, nullptr);
  auto plan = agent::BuildPlan(*target, popts, running.ok() ? &*running : nullptr);
  if (!plan.ok()) return Fail(plan.status());
  for (const auto& c : plan->components) {
    if (!c.changed) continue;
    auto files = (*source)->GetArtifacts(c.recipe, c.manifest);
    if (!files.ok()) return Fail(files.status());
  }
  const Json src = {{"kind", "local"}, {"recipes", recipes}, {"artifacts", artifacts}};
  if (auto st = agent::Enqueue(*layout, *full, src); !st.ok()) return Fail(st);
  if (!agent::AgentRunning(*layout) || a.wait_seconds <= 0) {
    std::printf("deployment %s: QUEUED (%s)\n", full->id.c_str(),
                agent::AgentRunning(*layout)
                    ? "not waiting"
                    : ("no agent runs on " + layout->root + "; `vqi-agent run --root " +
                       layout->root + "` applies it")
                          .c_str());
    return 0;
  }
  const std::string result = layout->results() + "/" + full->id + ".json";
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(a.wait_seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (FileExists(result)) {
      auto out = ReadJsonFile(result);
      if (!out.ok()) return Fail(out.status());
      PrintOutcome(*out, a.json);
      return out->value("status", "") == "SUCCEEDED" ? 0 : 3;
    }
    if (!agent::AgentRunning(*layout)) {
      std::fprintf(stderr, "vqi-agent: the agent on %s stopped before deployment %s finished\n",
                   layout->root.c_str(), full->id.c_str());
      return 4;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::fprintf(stderr, "vqi-agent: deployment %s: no outcome after %.0f s (--wait)\n",
               full->id.c_str(), a.wait_seconds);
  return 4;
}

int Status(const StatusArgs& a) {
  auto layout = agent::OpenLayout(a.root);
  if (!layout.ok()) return Fail(layout.status());
  auto current = agent::LoadCurrent(*layout);
  if (!current.ok()) return Fail(current.status());
  const bool running = agent::AgentRunning(*layout);
  Json states = Json::object();
  if (running && FileExists(layout->status())) {
    auto st = ReadJsonFile(layout->status());
    if (st.ok()) states = st->value("components", Json::object());
  }
  Json comps = Json::object();
  for (const auto& [name, c] : current->set) {
    comps[name] = {{"version", c.version}, {"configuration", c.configuration}};
    comps[name]["state"] = states.contains(name) ? states[name].value("state", "NEW") : "NEW";
    if (states.contains(name) && states[name].contains("reason"))
      comps[name]["reason"] = states[name]["reason"];
  }
  Json last;
  if (FileExists(layout->last())) {
    auto l = ReadJsonFile(layout->last());
    if (l.ok()) last = *l;
  }
  // The network side (vqi-agent run --bundle): state/net.json and state/transfer.json.
  Json net;
  if (FileExists(layout->state() + "/net.json")) {
    auto n = ReadJsonFile(layout->state() + "/net.json");
    if (n.ok() && n->is_object()) net = *n;
  }
  if (net.is_object() && !running) net["connected"] = false;
  Json doc = {{"root", layout->root},
              {"agentRunning", running},
              {"deploymentId", current->deployment_id},
              {"sequence", current->sequence},
              {"components", comps},
              {"lastDeployment", last},
              {"transfer", agent::ReadTransfer(layout->root)},
              {"rejectedMessages", net.is_object() ? net.value("rejectedMessages", 0) : 0},
              {"network", net},
              // Issue 20: results and uploads waiting for the broker (docs/design/ipc.md).
              {"spool", agent::SpoolSummary(layout->root + "/spool")}};
  if (a.json) {
    std::printf("%s\n", doc.dump(2).c_str());
    return 0;
  }
  std::printf("agent: %s\n", running ? "running" : "not running");
  std::printf("set: %s\n",
              current->deployment_id.empty() ? "(none)" : current->deployment_id.c_str());
  for (const auto& [name, c] : comps.items())
    std::printf("  %s %s %s\n", name.c_str(), c["version"].get<std::string>().c_str(),
                c["state"].get<std::string>().c_str());
  if (net.is_object())
    std::printf("mqtt: %s %s, %lld message(s) rejected\n", net.value("broker", "").c_str(),
                net.value("connected", false) ? "connected" : "not connected",
                static_cast<long long>(net.value("rejectedMessages", 0)));
  const Json& t = doc["transfer"];
  std::printf("transfer: %lld bytes downloaded, %lld from the cache, %lld requests\n",
              static_cast<long long>(t.value("bytesDownloaded", 0)),
              static_cast<long long>(t.value("bytesFromCache", 0)),
              static_cast<long long>(t.value("requests", 0)));
  std::printf("spool: %llu message(s), %llu bytes waiting for the broker\n",
              static_cast<unsigned long long>(doc["spool"].value("messages", uint64_t{0})),
              static_cast<unsigned long long>(doc["spool"].value("bytes", uint64_t{0})));
  if (!last.is_null())
    std::printf("last deployment: %s %s%s%s\n", last.value("deploymentId", "").c_str(),
                last.value("status", "").c_str(), last.value("reason", "").empty() ? "" : ": ",
                last.value("reason", "").c_str());
  return 0;
}

}  // namespace vqi::agent_cli
