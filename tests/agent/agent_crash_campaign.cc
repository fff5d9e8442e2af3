// The seeded kill -9 campaign of issue 19, acceptance 4 (LABELS slow; bench/agent_crash_campaign.sh
// runs ≥ 1,000 points). Each point: from a whole set, deploy another one (three good sets and one
// whose program fails, so it rolls back), wait for a seeded target phase (inbox, prepare,
// prepared, stopping, starting, soaking, rolling-back, committed, outcome, done — observed with
// inotify on the durable state), kill -9 the agent after a seeded log-uniform delay, optionally
// kill it again 1–3 times during the restart's recovery, restart it, and prove the device is on
// the whole old set or the whole new set: current.json, the outcome, status.json, the installed
// artifacts' bytes, and every process carrying the root's marker (one per component with a run
// step, its version and interpolated model path/configuration from /proc/<pid>/environ, a
// child of the new agent — no orphan, nothing of the other set).
//
// Environment: VQI_AGENT_CRASH_SEED (first seed, default 19; point i uses seed + i),
// VQI_AGENT_CRASH_POINTS (default 20), VQI_AGENT_CRASH_FAILDIR (agent logs of failed points).
// Replay one point: VQI_AGENT_CRASH_SEED=<its seed> VQI_AGENT_CRASH_POINTS=1. The target phase
// is the seed modulo the phase count, so consecutive seeds cover every phase.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <set>

#include "crash_campaign_agent.h"
#include "crash_campaign_check.h"
#include "crash_campaign_sets.h"
#include "vqi/agent/engine.h"
#include "vqi/agent/state.h"
#include "vqi/base/file.h"

namespace vqi::agent_test {
namespace {

// ---------------------------------------------------------------- one point

struct PointResult {
  std::string call = "-";  // syscall mode: the mutation the agent died at ("none": finished first)
  std::string from, to, target, hit, recovery;  // recovery: phases hit by recovery kills
  int recovery_kills = 0;
  std::string result;  // "old" | "new" | "" (failed)
  std::string status;  // the deployment's outcome
  std::vector<std::string> problems;
  double seconds = 0;
};

class Campaign {
 public:
  Campaign() { Reset(); }
  void Reset() {
    agent_.reset();
    h_ = std::make_unique<AgentHarness>();
    WriteCampaignComponents(*h_);
    layout_ = *agent::OpenLayout(h_->root());
    agent_ = std::make_unique<AgentProcess>(h_->root(), h_->dir() + "/agent.log");
    on_.clear();
  }
  std::string AgentLog() const { return Slurp(h_->dir() + "/agent.log"); }

  PointResult Run(uint64_t seed);

 private:
  Cmd Deploy(const SetDef& s, double wait) {
    Write(h_->dir() + "/d.json", DocOf(s));
    char w[32];
    std::snprintf(w, sizeof w, "%g", wait);
    return Sh(std::string(AgentBin()) + " deploy --root " + h_->root() + " --file " + h_->dir() +
              "/d.json --recipes " + h_->dir() + "/recipes --artifacts " + h_->dir() +
              "/artifacts --wait " + w);
  }
  // Waits until the device has settled on a whole set after the restart (outcome of `id`
  // written): returns "old"/"new", or "" with `problems` filled.
  std::string Settle(const SetDef& from, const SetDef& to, const std::string& id,
                     std::vector<std::string>& problems);

  std::unique_ptr<AgentHarness> h_;
  std::unique_ptr<AgentProcess> agent_;
  agent::Layout layout_;
  std::string on_;  // the set the device is on ("" = unknown/none)
};

std::string IdOf(const std::string& out) {
  const size_t p = out.find("deployment local-");
  if (p == std::string::npos) return "";
  const size_t b = p + 11;
  return out.substr(b, out.find_first_of(": \n", b) - b);
}

std::string Campaign::Settle(const SetDef& from, const SetDef& to, const std::string& id,
                             std::vector<std::string>& problems) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(40);
  std::vector<std::string> po, pn;
  while (std::chrono::steady_clock::now() < end) {
    if (!agent_->Alive()) {
      problems.push_back("the restarted agent ended (" + agent_->exit() + ")");
      return "";
    }
    if (FileExists(layout_.results() + "/" + id + ".json") && !FileExists(layout_.inflight())) {
      po = WholeSetProblems(layout_, from, agent_->pid());
      if (po.empty()) return "old";
      pn = WholeSetProblems(layout_, to, agent_->pid());
      if (pn.empty()) return "new";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  problems.push_back("not on a whole set after 40 s");
  for (const auto& x : po) problems.push_back("vs old " + from.name + ": " + x);
  for (const auto& x : pn) problems.push_back("vs new " + to.name + ": " + x);
  return "";
}

PointResult Campaign::Run(uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  auto log_uniform_us = [&](double max_us) {
    const double u = std::uniform_real_distribution<double>(0, 1)(rng);
    return static_cast<long>(std::exp(u * std::log(max_us + 1)) - 1);
  };
  const auto& sets = Sets();
  const SetDef& from = sets[pick(3)];
  const SetDef* to = &sets[3];
  if (pick(3) != 0) {
    std::vector<const SetDef*> others;
    for (size_t i = 0; i < 3; ++i)
      if (sets[i].name != from.name) others.push_back(&sets[i]);
    to = others[pick(2)];
  }
  std::vector<std::string> targets;
  for (const auto& ph : PhaseOrder())
    if (!(to->fails && ph == "committed") && !(!to->fails && ph == "rolling-back"))
      targets.push_back(ph);
  PointResult r;
  r.from = from.name;
  r.to = to->name;
  r.target = targets[seed % targets.size()];  // consecutive seeds cycle the phases
  const long delay_us = log_uniform_us(300000);
  // Half the points kill at the N-th file-system mutation (the shim) instead of a timed moment.
  const bool by_call = pick(2) == 0;
  const long call_n = 1 + static_cast<long>(pick(40));  // a deployment makes ~10-40
  const bool call_after = pick(2) == 0;
  const int recovery_kills = pick(5) < 2 ? 1 + static_cast<int>(pick(3)) : 0;
  std::vector<long> recovery_delays;
  for (int i = 0; i < recovery_kills; ++i) recovery_delays.push_back(log_uniform_us(1000000));

  const auto t0 = std::chrono::steady_clock::now();
  ::truncate((h_->dir() + "/agent.log").c_str(), 0);
  if (!agent_->Alive()) agent_->Start();
  if (on_ != from.name) {
    // `deploy --wait` only waits when an agent holds the lock; one just started may not yet,
    // and the next deployment would then supersede this one in the inbox.
    for (int i = 0; i < 2000 && agent_->Alive() && !agent::AgentRunning(layout_); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    Cmd d = Deploy(from, 60);
    if (d.code != 0 || d.out.find("SUCCEEDED") == std::string::npos) {
      r.problems.push_back("setting up set " + from.name + " failed: " + d.out);
      return r;
    }
    on_ = from.name;
  }
  const std::string trace = h_->dir() + "/shim.trace";
  if (by_call) {
    ::unlink(trace.c_str());
    agent_->Stop();
    agent_->Start({{"LD_PRELOAD", ShimPath()},
                   {"VQI_CRASH_AT_CALL", std::to_string(call_n)},
                   {"VQI_CRASH_WHEN", call_after ? "after" : "before"},
                   {"VQI_CRASH_ROOT", layout_.root},
                   {"VQI_CRASH_TRACE", trace}});
    r.target = "call-" + std::to_string(call_n) + (call_after ? "-after" : "-before");
  }
  StateWatch watch(layout_);
  Cmd d = Deploy(*to, 0);
  const std::string id = IdOf(d.out);
  if (d.code != 0 || id.empty()) {
    r.problems.push_back("deploy " + to->name + ": " + d.out);
    return r;
  }
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(40);
  if (by_call) {
    // The shim kills the agent at mutation N; a deployment with fewer ends first.
    while (agent_->Alive() && DurablePhase(layout_, id) != "done") {
      if (std::chrono::steady_clock::now() > give_up) {
        r.problems.push_back("syscall mode: neither killed nor done after 40 s");
        return r;
      }
      watch.Wait(5);
    }
    std::string line = Slurp(trace);
    if (line.empty()) {
      r.call = "none";
    } else {
      std::istringstream in(line);
      std::string n, op, path, when;
      in >> n >> op >> path >> when;
      if (path.rfind(layout_.root, 0) == 0) path = path.substr(layout_.root.size());
      r.call = op + ":" + path + ":" + when;
    }
  } else {
    // Wait for the target phase (or a later one), then the seeded delay.
    while (Rank(DurablePhase(layout_, id)) < Rank(r.target)) {
      if (std::chrono::steady_clock::now() > give_up || !agent_->Alive()) {
        r.problems.push_back("phase " + r.target + " never reached (at " +
                             DurablePhase(layout_, id) + ")");
        return r;
      }
      watch.Wait(5);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
  }
  agent_->Kill9();
  r.hit = DurablePhase(layout_, id);
  // Kills during the restart's recovery (orphan adoption, resume, rollback).
  for (long us : recovery_delays) {
    agent_->Start();
    std::this_thread::sleep_for(std::chrono::microseconds(us));
    agent_->Kill9();
    r.recovery += (r.recovery.empty() ? "" : ",") + DurablePhase(layout_, id);
    r.recovery_kills++;
  }
  agent_->Start();
  r.result = Settle(from, *to, id, r.problems);
  auto out = ReadJsonFile(layout_.results() + "/" + id + ".json");
  r.status = out.ok() ? out->value("status", "") : "?";
  const std::string reason = out.ok() ? out->value("reason", "") : "";
  if (!r.result.empty()) {
    on_ = r.result == "new" ? to->name : from.name;
    // The outcome agrees with the set, and a good set fails only by repeated restarts.
    if ((r.result == "new") != (r.status == "SUCCEEDED"))
      r.problems.push_back("on the " + r.result + " set but the outcome is " + r.status + ": " +
                           reason);
    if (to->fails && r.result == "new") r.problems.push_back("the failing set was committed");
    if (!to->fails && r.result == "old" && reason.find("restarted") == std::string::npos)
      r.problems.push_back("a good set was rolled back: " + reason);
    // After a commit the replaced set is what a later rollback restores: previous.json names
    // it and its install folders are whole.
    if (r.result == "new") {
      auto prev = ReadJsonFile(layout_.previous());
      auto set = prev.ok() ? agent::SetFromJson(prev->value("components", Json()), "previous.json")
                           : Result<agent::ComponentSet>(prev.status());
      if (!set.ok()) {
        r.problems.push_back("previous.json: " + set.status().message());
      } else {
        for (const auto& [name, w] : from.comps) {
          auto it = set->find(name);
          if (it == set->end() || it->second.version != w.version)
            r.problems.push_back("previous.json: " + name + " is not " + from.name + "'s");
          const std::string f = layout_.root + "/packages/artifacts/" + name + "/" + w.version +
                                "/" + ArtifactFile(name);
          if (Slurp(f) != ArtifactText(name, w.version))
            r.problems.push_back("the previous set's artifact " + f + " is not whole");
        }
        if (set->size() != from.comps.size()) r.problems.push_back("previous.json: size");
      }
    }
  }
  if (!r.problems.empty()) {
    r.result.clear();
    on_.clear();
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

uint64_t EnvU64(const char* name, uint64_t def) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : def;
}

TEST(AgentCrashCampaign, SeededRandomKills) {
  const uint64_t first = EnvU64("VQI_AGENT_CRASH_SEED", 19);
  const uint64_t points = EnvU64("VQI_AGENT_CRASH_POINTS", 20);
  const char* faildir = std::getenv("VQI_AGENT_CRASH_FAILDIR");
  std::printf(
      "crash campaign: seeds %llu..%llu (%llu points)\n", static_cast<unsigned long long>(first),
      static_cast<unsigned long long>(first + points - 1), static_cast<unsigned long long>(points));
  Campaign c;
  std::map<std::string, std::pair<int, int>> by_phase;  // hit phase → (old, new)
  std::set<std::string> hit;
  int old_sets = 0, new_sets = 0, failures = 0, recovery_kills = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < points; ++i) {
    const uint64_t seed = first + i;
    PointResult r = c.Run(seed);
    std::printf(
        "campaign-point seed=%llu from=%s to=%s target=%s hit=%s call=%s recovery_kills=%d "
        "recovery=%s result=%s status=%s seconds=%.2f%s\n",
        static_cast<unsigned long long>(seed), r.from.c_str(), r.to.c_str(), r.target.c_str(),
        r.hit.c_str(), r.call.c_str(), r.recovery_kills,
        r.recovery.empty() ? "-" : r.recovery.c_str(), r.result.empty() ? "FAIL" : r.result.c_str(),
        r.status.c_str(), r.seconds, r.problems.empty() ? "" : " FAIL");
    std::fflush(stdout);
    recovery_kills += r.recovery_kills;
    if (!r.problems.empty()) {
      ++failures;
      std::string all;
      for (const auto& p : r.problems) all += "\n  " + p;
      ADD_FAILURE() << "seed " << seed << " (replay: VQI_AGENT_CRASH_SEED=" << seed
                    << " VQI_AGENT_CRASH_POINTS=1):" << all;
      const std::string log = c.AgentLog();
      if (faildir) {
        Write(std::string(faildir) + "/seed-" + std::to_string(seed) + ".log",
              all + "\n--- agent.log ---\n" + log);
      } else {
        std::fprintf(stderr, "--- agent.log of seed %llu ---\n%s\n",
                     static_cast<unsigned long long>(seed),
                     log.substr(log.size() > 6000 ? log.size() - 6000 : 0).c_str());
      }
      c.Reset();  // a fresh root: one failure must not cascade
      continue;
    }
    hit.insert(r.hit);
    auto& cell = by_phase[r.hit];
    (r.result == "new" ? cell.second : cell.first)++;
    (r.result == "new" ? new_sets : old_sets)++;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (const auto& [phase, n] : by_phase)
    std::printf("campaign-phase %s old=%d new=%d\n", phase.c_str(), n.first, n.second);
  std::printf(
      "campaign-summary points=%llu old=%d new=%d failures=%d recovery_kills=%d "
      "seconds=%.0f\n",
      static_cast<unsigned long long>(points), old_sets, new_sets, failures, recovery_kills, secs);
  // Twenty points must reach the phases the engine spends time in (targets are seeded over
  // all of them; a kill can land later than its target, never earlier).
  if (points >= 20) {
    for (const char* must : {"prepare", "starting", "soaking", "done"})
      EXPECT_TRUE(hit.count(must)) << "no kill landed in " << must;
  }
}

}  // namespace
}  // namespace vqi::agent_test
