// State transitions per second on one core: a long Pass chain and a Map of 1,000 items,
// in memory (no durability) and durable (SQLite WAL; full = fsync'd commits at every
// external effect and every 4096 transitions, survives power loss; every = one commit per
// transition). Prints one JSON line per measurement.
//
//   build/<dir>/bench/workflow_bench [--quick]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "vqi/workflow/definition.h"
#include "vqi/workflow/engine.h"
#include "vqi/workflow/service.h"
#include "vqi/workflow/store.h"

namespace wf = vqi::workflow;
namespace fs = std::filesystem;

namespace {

std::string PassChain(int n) {
  vqi::Json states = vqi::Json::object();
  auto name = [](int i) {
    std::string s = std::to_string(i);
    s.insert(s.begin(), 'S');
    return s;
  };
  for (int i = 0; i < n; ++i) {
    vqi::Json s = {{"Type", "Pass"}, {"Parameters", {{"i", i}, {"v.$", "$.v"}}}};
    if (i + 1 < n) s["Next"] = name(i + 1); else s["End"] = true;
    states[name(i)] = s;
  }
  return vqi::Json({{"StartAt", "S0"}, {"States", states}}).dump();
}

std::string MapOf(int) {
  return R"({"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrency":1,"ItemsPath":"$.items",
    "ItemProcessor":{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"x.$":"$"},
    "Next":"B"},"B":{"Type":"Pass","End":true}}},"End":true}}})";
}

vqi::Json Items(int n) {
  vqi::Json a = vqi::Json::array();
  for (int i = 0; i < n; ++i) a.push_back(i);
  return {{"items", a}, {"v", 1}};
}

int g_failures = 0;  // a measurement that could not run makes the bench exit non-zero

void Measure(const char* name, const std::string& def, const vqi::Json& input, long transitions,
             const char* mode, int reps) {
  auto machine = wf::LoadDefinitionText(def, name);
  if (!machine.ok()) {
    std::fprintf(stderr, "%s\n", machine.status().ToString().c_str());
    ++g_failures;
    return;
  }
  fs::path dir = fs::temp_directory_path() / ("vqi_wf_bench_" + std::to_string(getpid()));
  fs::create_directories(dir);
  double best = 0;
  for (int r = 0; r < reps; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    wf::ExecutionStatus status = wf::ExecutionStatus::kFailed;
    if (std::strcmp(mode, "memory") == 0) {
      wf::ExecutionOptions o;
      o.max_workers = 1;
      status = wf::RunExecution(*machine, input, o).status;
    } else {
      wf::Durability d = std::strcmp(mode, "every") == 0 ? wf::Durability::kEveryTransition
                                                          : wf::Durability::kFull;
      fs::path db = dir / (std::to_string(r) + ".db");
      auto store = wf::ExecutionStore::Open(db.string(), d);
      if (!store.ok()) {
        std::fprintf(stderr, "%s: %s\n", name, store.status().ToString().c_str());
        ++g_failures;
        return;
      }
      wf::DurableOptions o;
      o.max_workers = 1;
      auto res = wf::StartExecution(**store, def, input, std::to_string(r), o);
      if (!res.ok()) {
        std::fprintf(stderr, "%s: %s\n", name, res.status().ToString().c_str());
        ++g_failures;
        return;
      }
      status = res->status;
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (status != wf::ExecutionStatus::kSucceeded) {
      std::fprintf(stderr, "%s: %s\n", name, wf::ExecutionStatusName(status));
      ++g_failures;
    }
    best = std::max(best, static_cast<double>(transitions) / secs);
  }
  fs::remove_all(dir);
  std::printf("{\"bench\":\"%s\",\"durability\":\"%s\",\"transitions\":%ld,"
              "\"transitions_per_s\":%.0f}\n",
              name, mode, transitions, best);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  // 10,000 states: the longest chain within AWS's limits that vqi enforces (definition ≤ 1 MB:
  // ~76 bytes a state here; history ≤ 25,000 events: ~2 a state). 20,000 exceeded both.
  int chain = quick ? 500 : 10000;
  int items = 1000;
  int reps = quick ? 1 : 3;
  std::string pass_chain = PassChain(chain);
  vqi::Json in = {{"v", 1}};
  // Map: 1 Map state + 2 Pass states per item.
  long map_transitions = 1 + 2L * items;
  for (const char* mode : {"memory", "full"}) {
    Measure("pass_chain", pass_chain, in, chain, mode, reps);
    Measure("map_1000", MapOf(items), Items(items), map_transitions, mode, reps);
  }
  Measure("pass_chain", PassChain(quick ? 50 : 300), in, quick ? 50 : 300, "every", 1);
  return g_failures == 0 ? 0 : 1;
}
