// vqi results shadow: the latest shadow statistics devices published (docs/design/shadow.md),
// per device and per candidate summed over the fleet, from <home>/fleet/shadow.db (written by
// `vqi server --mqtt`).
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <string>

#include "cli.h"
#include "vqi/base/file.h"
#include "vqi/base/json.h"
#include "vqi/fleet/shadow.h"
#include "vqi/fleet/shadow_store.h"

namespace vqi::cli {
namespace {

namespace fl = vqi::fleet;

struct ShadowFlags {
  std::string candidate;  // COMPONENT@VERSION, "" = all
  bool json = false;
};

Status RunShadow(const Context& ctx, const ShadowFlags& f) {
  const std::string path = fl::ShadowDbPath(ctx.home);
  if (!FileExists(path))
    return NotFound("no shadow statistics received yet: " + path +
                    " does not exist (they arrive while `vqi server --mqtt` runs and a "
                    "deployment names a candidate: vqi deployment create --shadow C@V)");
  std::string component, version;
  if (!f.candidate.empty()) {
    const size_t at = f.candidate.rfind('@');
    if (at == std::string::npos || at == 0 || at + 1 == f.candidate.size())
      return InvalidArgument("--candidate '" + f.candidate + "': expected COMPONENT@VERSION");
    component = f.candidate.substr(0, at);
    version = f.candidate.substr(at + 1);
  }
  VQI_ASSIGN_OR_RETURN(auto store, fl::OpenSqliteShadowStore(path, false));
  VQI_ASSIGN_OR_RETURN(std::vector<fl::StoredShadowStats> rows, store->List(component, version));
  std::map<std::string, std::vector<fl::ShadowStats>> by_candidate;
  for (const auto& r : rows)
    by_candidate[r.stats.candidate_component + "@" + r.stats.candidate_version].push_back(r.stats);
  if (ctx.json || f.json) {
    Json out = Json::array();
    for (const auto& [key, stats] : by_candidate) {
      Json devices = Json::array();
      for (const fl::ShadowStats& s : stats) devices.push_back(fl::ShadowStatsToJson(s));
      out.push_back({{"candidate", key},
                     {"fleet", fl::AggregateShadow(stats).ToJson()},
                     {"devices", devices}});
    }
    std::cout << out.dump(2) << "\n";
    return Status::Ok();
  }
  if (rows.empty()) {
    std::cout << "no shadow statistics" << (f.candidate.empty() ? "" : " for " + f.candidate)
              << "\n";
    return Status::Ok();
  }
  for (const auto& [key, stats] : by_candidate) {
    const fl::ShadowAggregate a = fl::AggregateShadow(stats);
    std::printf(
        "candidate %s: %lld images on %lld devices, verdict agreement %.4f, box match "
        "%.4f, score shift %+.4f, model %.2f ms vs live %.2f ms (x%.3f), candidate "
        "errors %lld\n",
        key.c_str(), static_cast<long long>(a.images), static_cast<long long>(a.devices),
        a.VerdictAgreement(), a.BoxMatch(), a.ScoreShift(), a.CandidateLatencyMs(),
        a.LiveLatencyMs(), a.LatencyRatio(), static_cast<long long>(a.candidate_errors));
    std::printf("  %-28s %-16s %8s %9s %9s %9s %9s %9s\n", "THING", "LIVE", "IMAGES", "VERDICT",
                "BOXES", "SHIFT", "LIVE MS", "CAND MS");
    for (const fl::ShadowStats& s : stats) {
      const fl::ShadowAggregate one = fl::AggregateShadow({s});
      std::printf("  %-28s %-16s %8lld %9.4f %9.4f %+9.4f %9.2f %9.2f\n", s.thing.c_str(),
                  s.live_version.c_str(), static_cast<long long>(s.images), one.VerdictAgreement(),
                  one.BoxMatch(), one.ScoreShift(), one.LiveLatencyMs(), one.CandidateLatencyMs());
    }
  }
  return Status::Ok();
}

const bool kRegistered = Register([](CLI::App& app, Context& ctx) {
  CLI::App& noun = Noun(app, "results", "Inspection results received from devices");
  auto f = std::make_shared<ShadowFlags>();
  auto* shadow = noun.add_subcommand(
      "shadow",
      "Shadow statistics: how a candidate model agrees with the live one, per device "
      "and over the fleet");
  shadow->add_option("--candidate", f->candidate, "only COMPONENT@VERSION")->check(NonEmpty());
  shadow->add_flag("--json", f->json, "machine-readable output");
  shadow->callback([&ctx, f] { Exit(RunShadow(ctx, *f)); });
});

}  // namespace
}  // namespace vqi::cli
