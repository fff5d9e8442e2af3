// The deployment engine and daemon of `vqi-agent` (docs/design/agent.md).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "vqi/agent/plan.h"
#include "vqi/agent/state.h"
#include "vqi/agent/supervisor.h"
#include "vqi/base/json.h"
#include "vqi/base/status.h"

namespace vqi::agent {

enum class ComponentState {
  kNew,
  kInstalled,
  kStarting,
  kRunning,
  kFinished,
  kStopping,
  kErrored,
  kBroken
};
const char* ComponentStateName(ComponentState s);  // "NEW", "RUNNING", ...

struct EngineOptions {
  std::string root;
  double soak_seconds = 5;
  double restart_base_seconds = 0.5;  // restart delay 0.5 s × 2^(errors-1)
  int max_errors = 3;                 // the third error → BROKEN
  double stop_grace_seconds = 5;      // SIGTERM → SIGKILL
  double inbox_poll_seconds = 0.25;
  std::string thing_name = "local";
  std::string user;  // when root: non-privileged steps run as this user
  uint64_t log_cap_bytes = 8ull << 20;
  int max_resumes = 2;  // in-flight deployment resumed this often after a crash
};

// Makes the source of a queued deployment (its "source" object), e.g. local folders.
using SourceFactory = std::function<Result<std::unique_ptr<ArtifactSource>>(const Json& source)>;
// The default: {"kind": "local", "recipes": DIR, "artifacts": DIR}.
Result<std::unique_ptr<ArtifactSource>> DefaultSource(const Json& source);

// Optional observers of the engine, called on the engine's thread (the one that calls Start and
// Run). They must not block for long (they run inside the supervision loop) and must not
// re-enter the engine except through the const accessors below.
struct EngineHooks {
  // A deployment's status changed: IN_PROGRESS when the engine takes it from the queue (and
  // again when it resumes one after a restart), then its outcome (SUCCEEDED, FAILED_*,
  // REJECTED, CANCELED when superseded). `outcome` has the vqi-status/1 shape as written to
  // state/deployments/<id>.json (its `sequence` is the deployment's); `source` is the queued
  // item's "source" object ({"kind": "local"|"server", ...}; {} when unknown).
  std::function<void(const Json& outcome, const Json& source)> status;
  // A deployment entered a phase (kPhaseStarting: the changed components were stopped and the
  // new ones are about to start). `deployment` is the queued deployment JSON.
  std::function<void(const Json& deployment, const Json& source, const std::string& phase)> phase;
  // Called at every wake-up of the supervision loop (Engine::Wake, a child exiting, or at
  // most every 0.1-0.25 s), also while a step or a soak runs: where work handed over by other
  // threads is done (e.g. queueing a deployment with Enqueue). Not called while a download
  // blocks the engine.
  std::function<void()> tick;
  // Issue 20 (docs/design/ipc.md): extra "K=V" environment entries for every lifecycle step of
  // component `name` with its effective `configuration` (the IPC socket and the component's
  // token). Called just before each step is spawned; may register the component.
  std::function<std::vector<std::string>(const std::string& name, const Json& configuration)>
      component_env;
  // Issue 20: {name: "RUNNING"|"ERRORED"} as components last reported themselves over the IPC
  // (UpdateState). Polled at every wake-up; a RUNNING component that reported ERRORED is shown
  // ERRORED in status.json (`vqi-agent status`) and ComponentStates (status reports,
  // heartbeats). Display only: restarts still follow the process's exit.
  std::function<Json()> reported_states;
  // Issue 20: a component was stopped (removed, replaced, or the agent stops): its IPC token
  // is dropped (the next start registers a new one).
  std::function<void(const std::string& name)> component_stopped;
};

class Engine {
 public:
  explicit Engine(EngineOptions options, SourceFactory sources = DefaultSource,
                  EngineHooks hooks = {});
  // Wakes the engine's loop from any thread (async-signal-safe: one write to a pipe), so a
  // tick hook runs soon.
  static void Wake();
  // The daemon loop looks at the inbox at its next wake-up instead of within
  // inbox_poll_seconds (after Enqueue from a tick hook). Engine thread.
  void CheckInboxNow();
  // {name: {"version", "state"}} of the components the engine supervises now. Engine thread.
  Json ComponentStates() const;
  ~Engine();
  // Takes the agent lock (FailedPrecondition when another agent runs on the root), kills
  // orphans, finishes/resumes/rolls back an in-flight deployment, starts the current set.
  Status Start();
  // Supervises and applies queued deployments until SIGTERM/SIGINT, then stops every
  // component in reverse order.
  Status Run();

 private:
  struct Runtime;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// True when an agent holds the lock of `layout` (a daemon is running on it).
bool AgentRunning(const Layout& layout);

// Queues a resolved deployment for the daemon: state/inbox/<sequence>-<id>.json.
Status Enqueue(const Layout& layout, const Deployment& d, const Json& source);

}  // namespace vqi::agent
