// The agent's durable state under <root>/state/ (docs/design/agent.md, "Durable state").
// Every write is WriteFileAtomic (temporary file, fsync, rename, folder fsync).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "vqi/base/json.h"
#include "vqi/base/status.h"

namespace vqi::agent {

// One component of a set as installed on the device.
struct InstalledComponent {
  std::string version;
  Json configuration = Json::object();  // effective
  Json recipe;                          // canonical (component::RecipeToJson)
  bool operator==(const InstalledComponent&) const = default;
};
using ComponentSet = std::map<std::string, InstalledComponent>;

Json SetToJson(const ComponentSet& set);
Result<ComponentSet> SetFromJson(const Json& doc, std::string_view origin);

// The device's current set, as committed.
struct CurrentState {
  ComponentSet set;
  std::string deployment_id;  // the deployment that produced it ("" = none yet)
  uint64_t sequence = 0;
};

// A deployment being applied. `phase` is one of the kPhase* names.
struct Inflight {
  Json deployment;  // the queued item (DeploymentToJson + "source")
  ComponentSet target, previous;
  std::string phase;
  int attempts = 1;
  std::string reason;  // why it is rolling back, once it is
};

inline constexpr const char* kPhasePrepared = "prepared";
inline constexpr const char* kPhaseStopping = "stopping";
inline constexpr const char* kPhaseStarting = "starting";
inline constexpr const char* kPhaseSoaking = "soaking";
inline constexpr const char* kPhaseRollingBack = "rolling-back";
inline constexpr const char* kPhaseCommitted = "committed";

// The paths of the root layout (COMMON19.md).
struct Layout {
  std::string root;  // absolute, no trailing '/'
  std::string state() const { return root + "/state"; }
  std::string inbox() const { return root + "/state/inbox"; }
  std::string results() const { return root + "/state/deployments"; }
  std::string current() const { return root + "/state/current.json"; }
  std::string previous() const { return root + "/state/previous.json"; }
  std::string inflight() const { return root + "/state/inflight.json"; }
  std::string last() const { return root + "/state/last.json"; }
  std::string status() const { return root + "/state/status.json"; }
  std::string lock() const { return root + "/state/agent.lock"; }
  std::string logs() const { return root + "/logs"; }
  std::string work(std::string_view name) const { return root + "/work/" + std::string(name); }
};

// Absolute form of `root`, with the state, inbox, results, logs, work and packages folders made.
Result<Layout> OpenLayout(const std::string& root);

Result<CurrentState> LoadCurrent(const Layout& l);  // an empty state when there is none
Status SaveCurrent(const Layout& l, const CurrentState& s);
Status SavePrevious(const Layout& l, const ComponentSet& set);
Result<std::optional<Inflight>> LoadInflight(const Layout& l);
Status SaveInflight(const Layout& l, const Inflight& f);
Status RemoveInflight(const Layout& l);

// A deployment's outcome: {deploymentId, sequence, status, reason, components, at}.
Status SaveOutcome(const Layout& l, const Json& outcome);

// Writes `data` to `path` through a temporary file and rename, without fsync (status only).
Status WriteFileReplace(const std::string& path, std::string_view data);

// UTC now as RFC 3339 ("2026-12-06T06:30:00Z").
std::string NowRfc3339();

}  // namespace vqi::agent
