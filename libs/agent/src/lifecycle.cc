// Component lifecycle (Greengrass's states) over the Supervisor: steps, run supervision,
// restarts with backoff, BROKEN, stopping with shutdown + SIGTERM/SIGKILL.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "engine_internal.h"
#include "vqi/base/log.h"

namespace vqi::agent {
namespace fs = std::filesystem;
namespace {

// Greengrass's default step timeouts (seconds).
constexpr double kInstallTimeout = 120, kStartupTimeout = 120, kShutdownTimeout = 15,
                 kRecoverTimeout = 60;

bool SkipIfMatches(const std::string& skip_if) {
  if (skip_if.rfind("onpath ", 0) == 0) {
    const std::string exe = skip_if.substr(7);
    const char* path = std::getenv("PATH");
    std::string p = path ? path : "";
    size_t start = 0;
    while (start <= p.size()) {
      size_t colon = p.find(':', start);
      std::string dir =
          p.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
      if (!dir.empty() && ::access((dir + "/" + exe).c_str(), X_OK) == 0) return true;
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
    return false;
  }
  if (skip_if.rfind("exists ", 0) == 0) return ::access(skip_if.substr(7).c_str(), F_OK) == 0;
  return false;
}

}  // namespace

const char* ComponentStateName(ComponentState s) {
  switch (s) {
    case ComponentState::kNew:
      return "NEW";
    case ComponentState::kInstalled:
      return "INSTALLED";
    case ComponentState::kStarting:
      return "STARTING";
    case ComponentState::kRunning:
      return "RUNNING";
    case ComponentState::kFinished:
      return "FINISHED";
    case ComponentState::kStopping:
      return "STOPPING";
    case ComponentState::kErrored:
      return "ERRORED";
    case ComponentState::kBroken:
      return "BROKEN";
  }
  return "?";
}

std::string Engine::Impl::LogPath(const std::string& name) const {
  return layout.logs() + "/" + name + ".log";
}

void Engine::Impl::SetState(const std::string& name, ComponentState s) {
  auto& r = rt[name];
  if (r.state != s)
    VQI_LOG_INFO("{}: {} -> {}", name, ComponentStateName(r.state), ComponentStateName(s));
  r.state = s;
  status_dirty = true;
}

ComponentState Engine::Impl::Shown(const std::string& name, const Runtime& r) const {
  if (r.state != ComponentState::kRunning || !reported.contains(name)) return r.state;
  return reported.value(name, "") == "ERRORED" ? ComponentState::kErrored : r.state;
}

Result<pid_t> Engine::Impl::SpawnStep(const PlannedComponent& c, const std::string& step_name) {
  const component::LifecycleStep& step = c.lifecycle.steps.at(step_name);
  SpawnSpec spec;
  spec.script = step.script;
  spec.cwd = layout.work(c.name);
  spec.log_path = LogPath(c.name);
  for (const auto& [k, v] : c.lifecycle.setenv) spec.env.push_back(k + "=" + v);
  for (const auto& [k, v] : step.setenv) spec.env.push_back(k + "=" + v);
  spec.env.push_back("VQI_AGENT_ROOT=" + layout.root);
  spec.env.push_back("VQI_COMPONENT_NAME=" + c.name);
  spec.env.push_back("VQI_COMPONENT_VERSION=" + c.version);
  spec.env.push_back("AWS_IOT_THING_NAME=" + popts.thing_name);
  // Where a component appends {"metric": ..., "value": ...} lines for KPI-guarded rollouts.
  spec.env.push_back("VQI_METRICS_FILE=" + layout.work(c.name) + "/metrics.jsonl");
  // Issue 20: the component IPC (socket + token) when the daemon serves it (ipc_agent.h).
  if (hooks.component_env)
    for (auto& e : hooks.component_env(c.name, c.configuration)) spec.env.push_back(std::move(e));
  if (!step.requires_privilege) {
    spec.uid = uid;
    spec.gid = gid;
  }
  return sup.Spawn(spec);
}

StepResult Engine::Impl::RunStep(const PlannedComponent& c, const std::string& step_name,
                                 double default_timeout) {
  StepResult r;
  auto it = c.lifecycle.steps.find(step_name);
  if (it == c.lifecycle.steps.end()) return r;
  if (!it->second.skip_if.empty() && SkipIfMatches(it->second.skip_if)) {
    VQI_LOG_INFO("{}: {} skipped ({})", c.name, step_name, it->second.skip_if);
    return r;
  }
  r.ran = true;
  const double timeout = it->second.timeout_seconds
                             ? static_cast<double>(*it->second.timeout_seconds)
                             : default_timeout;
  auto pid = SpawnStep(c, step_name);
  if (!pid.ok()) {
    r.exit.code = 127;
    return r;
  }
  const double deadline = Supervisor::Now() + timeout;
  for (;;) {
    if (auto e = sup.TakeExit(*pid)) {
      r.exit = *e;
      return r;
    }
    const double left = deadline - Supervisor::Now();
    // A stopping agent cancels install/startup, but lets shutdown scripts run to their timeout.
    if (left <= 0 || (sup.stop_requested() && step_name != "shutdown")) break;
    Tick(std::min(left, 0.1));
  }
  (Supervisor::Now() < deadline ? r.cancelled : r.timed_out) = true;
  Supervisor::SignalGroup(*pid, SIGTERM);
  const double kill_at = Supervisor::Now() + 1;
  while (Supervisor::Now() < kill_at) {
    sup.Wait(0.05);
    if (auto e = sup.TakeExit(*pid)) {
      r.exit = *e;
      Supervisor::SignalGroup(*pid, SIGKILL);
      return r;
    }
  }
  Supervisor::SignalGroup(*pid, SIGKILL);
  for (int i = 0; i < 100 && !sup.TakeExit(*pid); ++i) sup.Wait(0.02);
  r.exit.signal = SIGKILL;
  return r;
}

namespace {
std::string Describe(const PlannedComponent& c, const std::string& step, const StepResult& r,
                     double default_timeout) {
  std::string s = c.name + " " + c.version + ": " + step + " ";
  if (r.cancelled) return s + "cancelled (the agent is stopping)";
  if (r.timed_out) {
    const auto& st = c.lifecycle.steps.at(step);
    const double t =
        st.timeout_seconds ? static_cast<double>(*st.timeout_seconds) : default_timeout;
    return s + "timed out after " + std::to_string(static_cast<long long>(t)) + " s";
  }
  return s + r.exit.Describe();
}
}  // namespace

Status Engine::Impl::StartComponent(const PlannedComponent& c) {
  rt[c.name] = Runtime{};
  rt[c.name].version = c.version;
  SetState(c.name, ComponentState::kNew);
  StepResult r = RunStep(c, "install", kInstallTimeout);
  if (!r.ok()) {
    rt[c.name].reason = Describe(c, "install", r, kInstallTimeout);
    SetState(c.name, ComponentState::kErrored);
    return FailedPrecondition(rt[c.name].reason);
  }
  SetState(c.name, ComponentState::kInstalled);
  if (c.lifecycle.steps.count("startup")) {
    SetState(c.name, ComponentState::kStarting);
    r = RunStep(c, "startup", kStartupTimeout);
    if (!r.ok()) {
      rt[c.name].reason = Describe(c, "startup", r, kStartupTimeout);
      SetState(c.name, ComponentState::kErrored);
      return FailedPrecondition(rt[c.name].reason);
    }
    SetState(c.name, ComponentState::kRunning);
  } else if (c.lifecycle.steps.count("run")) {
    const auto& run = c.lifecycle.steps.at("run");
    if (!run.skip_if.empty() && SkipIfMatches(run.skip_if)) {
      SetState(c.name, ComponentState::kFinished);
      return Status::Ok();
    }
    auto pid = SpawnStep(c, "run");
    if (!pid.ok()) {
      rt[c.name].reason = c.name + " " + c.version + ": run: " + pid.status().message();
      SetState(c.name, ComponentState::kErrored);
      return FailedPrecondition(rt[c.name].reason);
    }
    rt[c.name].pid = *pid;
    SetState(c.name, ComponentState::kRunning);
  } else {
    SetState(c.name, ComponentState::kFinished);
  }
  return Status::Ok();
}

void Engine::Impl::StopComponent(const std::string& name) {
  auto it = rt.find(name);
  if (it == rt.end()) return;
  SetState(name, ComponentState::kStopping);
  if (const PlannedComponent* c = running.Find(name); c && c->version == it->second.version) {
    StepResult r = RunStep(*c, "shutdown", kShutdownTimeout);
    if (!r.ok()) VQI_LOG_WARN("{}", Describe(*c, "shutdown", r, kShutdownTimeout));
  }
  for (pid_t* p : {&rt[name].pid, &rt[name].aux}) {
    const pid_t pid = *p;
    if (!pid) continue;
    Supervisor::SignalGroup(pid, SIGTERM);
    const double kill_at = Supervisor::Now() + o.stop_grace_seconds;
    std::optional<ExitInfo> e;
    while (!(e = sup.TakeExit(pid)) && Supervisor::Now() < kill_at) sup.Wait(0.05);
    Supervisor::SignalGroup(pid, SIGKILL);  // the leader's exit does not end its group
    for (int i = 0; i < 100 && !e; ++i) {
      sup.Wait(0.02);
      e = sup.TakeExit(pid);
    }
    *p = 0;
  }
  rt.erase(name);
  status_dirty = true;
  if (hooks.component_stopped) hooks.component_stopped(name);
}

void Engine::Impl::Tick(double seconds) {
  sup.Wait(seconds);
  const double now = Supervisor::Now();
  for (auto& [name, r] : rt) {
    if (r.state == ComponentState::kStopping) continue;
    const PlannedComponent* c = running.Find(name);
    if (r.pid) {
      if (auto e = sup.TakeExit(r.pid)) {
        Supervisor::SignalGroup(r.pid, SIGKILL);
        r.pid = 0;
        if (e->code == 0) {
          SetState(name, ComponentState::kFinished);
        } else {
          r.errors++;
          r.reason = name + " " + r.version + ": run " + e->Describe();
          VQI_LOG_WARN("{} (error {} of {})", r.reason, r.errors, o.max_errors);
          if (r.errors >= o.max_errors) {
            SetState(name, ComponentState::kBroken);
          } else {
            SetState(name, ComponentState::kErrored);
            r.restart_at = now + o.restart_base_seconds * std::pow(2.0, r.errors - 1);
            if (c && c->lifecycle.steps.count("recover")) {
              auto pid = SpawnStep(*c, "recover");
              if (pid.ok()) {
                r.aux = *pid;
                const auto& st = c->lifecycle.steps.at("recover");
                r.aux_deadline = now + (st.timeout_seconds ? *st.timeout_seconds : kRecoverTimeout);
              }
            }
          }
        }
      }
    }
    if (r.aux) {
      if (sup.TakeExit(r.aux)) {
        r.aux = 0;
      } else if (now > r.aux_deadline) {
        Supervisor::SignalGroup(r.aux, SIGKILL);
      }
    }
    if (r.state == ComponentState::kErrored && r.restart_at > 0 && now >= r.restart_at && !r.aux &&
        c && c->lifecycle.steps.count("run")) {
      r.restart_at = 0;
      auto pid = SpawnStep(*c, "run");
      if (pid.ok()) {
        r.pid = *pid;
        SetState(name, ComponentState::kRunning);
      }
    }
  }
  if (now >= next_log_check) {
    next_log_check = now + 5;
    for (const auto& [name, r] : rt) {
      const std::string log = LogPath(name);
      std::error_code ec;
      if (fs::file_size(log, ec) > o.log_cap_bytes && !ec) {
        fs::copy_file(log, log + ".1", fs::copy_options::overwrite_existing, ec);
        if (::truncate(log.c_str(), 0) != 0) VQI_LOG_WARN("{}: cannot truncate", log);
      }
    }
  }
  if (hooks.reported_states) {
    Json now_reported = hooks.reported_states();
    if (now_reported != reported) {
      reported = std::move(now_reported);
      status_dirty = true;
    }
  }
  if (status_dirty) WriteStatus();
  if (hooks.tick) hooks.tick();
}

void Engine::Impl::WriteStatus() {
  status_dirty = false;
  Json comps = Json::object();
  for (const auto& [name, r] : rt) {
    const ComponentState shown = Shown(name, r);
    comps[name] = {
        {"version", r.version}, {"state", ComponentStateName(shown)}, {"errors", r.errors}};
    if (r.pid) comps[name]["pid"] = r.pid;
    if (!r.reason.empty()) comps[name]["reason"] = r.reason;
    if (shown != r.state) comps[name]["reason"] = name + " reported ERRORED over the IPC";
  }
  Json doc = {{"pid", ::getpid()}, {"at", NowRfc3339()}, {"components", comps}};
  (void)WriteFileReplace(layout.status(), doc.dump(1));
}

}  // namespace vqi::agent
