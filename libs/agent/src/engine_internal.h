// Engine internals shared by engine.cc (deployments, recovery, daemon loop) and lifecycle.cc
// (component lifecycle and supervision).
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>

#include "vqi/agent/deployment.h"
#include "vqi/agent/engine.h"

namespace vqi::agent {

struct StepResult {
  bool ran = false;  // false: no such step, or Skipif matched
  bool timed_out = false;
  bool cancelled = false;  // the agent was asked to stop
  ExitInfo exit;
  bool ok() const { return !ran || (!timed_out && !cancelled && exit.code == 0); }
};

struct Engine::Runtime {
  ComponentState state = ComponentState::kNew;
  std::string version;
  pid_t pid = 0;  // the run process (its group)
  pid_t aux = 0;  // a recover step in progress
  double aux_deadline = 0;
  int errors = 0;
  double restart_at = 0;
  std::string reason;  // the last failure
};

struct Engine::Impl {
  EngineOptions o;
  SourceFactory sources;
  EngineHooks hooks;
  Layout layout;
  PlanOptions popts;
  Supervisor sup;
  int lock_fd = -1;
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  CurrentState current;
  Plan running;
  std::map<std::string, Runtime> rt;
  bool status_dirty = true;
  Json reported = Json::object();  // hooks.reported_states at the last Tick
  double next_log_check = 0;
  double next_inbox = 0;   // the daemon loop's next look at the inbox
  double retry_at = 0;     // a deployment waits for the server until then (0: none)
  double retry_delay = 0;  // its backoff: 2 s doubling to 60 s

  // lifecycle.cc
  std::string LogPath(const std::string& name) const;
  void SetState(const std::string& name, ComponentState s);
  // The state shown (status.json, ComponentStates): RUNNING becomes ERRORED when the component
  // reported ERRORED over the IPC.
  ComponentState Shown(const std::string& name, const Runtime& r) const;
  StepResult RunStep(const PlannedComponent& c, const std::string& step, double default_timeout);
  // NEW → INSTALLED → STARTING/RUNNING/FINISHED; the failure reason as FailedPrecondition.
  Status StartComponent(const PlannedComponent& c);
  void StopComponent(const std::string& name);
  // Waits up to `seconds`, reaps, restarts ERRORED run steps after their backoff.
  void Tick(double seconds);
  void WriteStatus();
  Result<pid_t> SpawnStep(const PlannedComponent& c, const std::string& step);

  // engine.cc
  void CrashPoint(const char* phase);
  // `source`: the one the deployment was planned with (null: made from its "source" object).
  Status ExecuteDeployment(Inflight f, bool resumed, ArtifactSource* source = nullptr);
  void StartMissing(const Plan& plan);
  // `keep_shadow`: the current deployment's shadow candidate (docs/design/shadow.md).
  void RemoveUnusedVersions(const ComponentSet& keep_a, const ComponentSet& keep_b,
                            const std::optional<ShadowRef>& keep_shadow = std::nullopt);
  Json Outcome(const Json& deployment, const std::string& status, const std::string& reason);
  // Saves an outcome and tells the status hook (source: the queued item's "source").
  Status Finish(const Json& deployment, const Json& source, const std::string& status,
                const std::string& reason);
  void Notify(const Json& deployment, const Json& source, const std::string& status);
  bool CheckInbox();  // true when it applied (or dropped) something
  Status ApplyQueued(const std::string& path);
};

}  // namespace vqi::agent
