// Deployments (prepare, stop, start, soak, commit or roll back), crash recovery and the
// daemon loop (docs/design/agent.md).
#include "vqi/agent/engine.h"

#include <fcntl.h>
#include <malloc.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstring>
#include <filesystem>
#include <vector>

#include "engine_internal.h"
#include "vqi/agent/install.h"
#include "vqi/agent/shadow.h"
#include "vqi/base/file.h"
#include "vqi/base/log.h"

namespace vqi::agent {
namespace fs = std::filesystem;

Result<std::unique_ptr<ArtifactSource>> DefaultSource(const Json& source) {
  if (!source.is_object() || source.value("kind", "") != "local")
    return InvalidArgument("unsupported deployment source " + source.dump());
  VQI_ASSIGN_OR_RETURN(auto src, LocalArtifactSource::Open(source.value("recipes", ""),
                                                           source.value("artifacts", "")));
  return std::unique_ptr<ArtifactSource>(std::move(src));
}

// The agent lock is an open-file-description record lock on the whole file: a reader can ask
// who holds it (F_OFD_GETLK) without taking it, so `status` never races an agent starting.
bool AgentRunning(const Layout& layout) {
  int fd = ::open(layout.lock().c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  const bool held = ::fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
  ::close(fd);
  return held;
}

Status Enqueue(const Layout& layout, const Deployment& d, const Json& source) {
  VQI_RETURN_IF_ERROR(ValidateDeploymentId(d.id));
  char seq[32];
  std::snprintf(seq, sizeof seq, "%020" PRIu64, d.sequence);
  Json item = {{"deployment", DeploymentToJson(d)}, {"source", source}};
  return WriteFileAtomic(layout.inbox() + "/" + seq + "-" + d.id + ".json", item.dump(1));
}

Engine::Engine(EngineOptions options, SourceFactory sources, EngineHooks hooks) : impl_(new Impl) {
  impl_->o = std::move(options);
  impl_->sources = std::move(sources);
  impl_->hooks = std::move(hooks);
}

void Engine::Wake() { Supervisor::Wake(); }

void Engine::CheckInboxNow() {
  impl_->next_inbox = 0;
  Supervisor::Wake();
}

Json Engine::ComponentStates() const {
  Json comps = Json::object();
  for (const auto& [name, r] : impl_->rt)
    comps[name] = {{"version", r.version}, {"state", ComponentStateName(impl_->Shown(name, r))}};
  return comps;
}

void Engine::Impl::Notify(const Json& deployment, const Json& source, const std::string& status) {
  if (hooks.status) hooks.status(Outcome(deployment, status, ""), source);
}

Status Engine::Impl::Finish(const Json& deployment, const Json& source, const std::string& status,
                            const std::string& reason) {
  const Json out = Outcome(deployment, status, reason);
  Status st = SaveOutcome(layout, out);
  if (hooks.status) hooks.status(out, source);
  return st;
}

Engine::~Engine() {
  if (impl_->lock_fd >= 0) ::close(impl_->lock_fd);
}

void Engine::Impl::CrashPoint(const char* phase) {
#ifdef VQI_AGENT_TEST_HOOKS
  const char* at = std::getenv("VQI_AGENT_CRASH_AT");
  if (at && std::strcmp(at, phase) == 0) {
    VQI_LOG_WARN("VQI_AGENT_CRASH_AT={}: killing the agent", phase);
    ::raise(SIGKILL);
  }
#else
  (void)phase;
#endif
}

Json Engine::Impl::Outcome(const Json& deployment, const std::string& status,
                           const std::string& reason) {
  WriteStatus();  // so a reader of the outcome finds the states it reports
  Json comps = Json::object();
  for (const auto& [name, r] : rt)
    comps[name] = {{"version", r.version}, {"state", ComponentStateName(r.state)}};
  return {{"schema", "vqi-status/1"},
          {"thing", popts.thing_name},
          {"deploymentId", deployment.value("deploymentId", "")},
          {"sequence", deployment.value("sequence", uint64_t{0})},
          {"status", status},
          {"reason", reason},
          {"components", comps},
          {"at", NowRfc3339()}};
}

void Engine::Impl::RemoveUnusedVersions(const ComponentSet& keep_a, const ComponentSet& keep_b,
                                        const std::optional<ShadowRef>& keep_shadow) {
  // Install folders of versions in neither the current nor the previous set (rollback needs
  // the previous one). Temporary folders of an interrupted install go too.
  for (const std::string& top :
       {layout.root + "/packages/artifacts", layout.root + "/packages/artifacts-unarchived"}) {
    std::error_code ec;
    for (const auto& comp : fs::directory_iterator(top, ec)) {
      const std::string name = comp.path().filename().string();
      std::vector<fs::path> versions;
      for (const auto& ver : fs::directory_iterator(comp.path(), ec))
        versions.push_back(ver.path());
      for (const fs::path& path : versions) {
        const std::string v = path.filename().string();
        auto kept = [&](const ComponentSet& s) {
          auto it = s.find(name);
          return it != s.end() && it->second.version == v;
        };
        if (kept(keep_a) || kept(keep_b)) continue;
        if (keep_shadow && keep_shadow->component == name && keep_shadow->version == v) continue;
        // Renamed out of the way first: an install reuses an existing version folder as it is,
        // so a folder the agent died while emptying must never keep a version's name (kill -9
        // during the removal left an empty folder that a later deployment ran from; found by
        // the crash campaign). A leftover `.tmp-` folder is removed by the next commit.
        fs::path doomed = path;
        std::error_code rm;
        if (v.find(".tmp-") == std::string::npos) {
          doomed += ".tmp-removing-" + std::to_string(::getpid());
          fs::rename(path, doomed, rm);
          if (rm) {
            VQI_LOG_WARN("cannot remove {}: {}", path.string(), rm.message());
            continue;
          }
        }
        fs::remove_all(doomed, rm);
        if (rm) VQI_LOG_WARN("cannot remove {}: {}", doomed.string(), rm.message());
      }
      if (fs::is_empty(comp.path(), ec)) fs::remove(comp.path(), ec);
    }
  }
}

void Engine::Impl::StartMissing(const Plan& plan) {
  for (const auto& c : plan.components) {
    auto it = rt.find(c.name);
    if (it != rt.end() && it->second.version == c.version) continue;
    Status st = StartComponent(c);
    if (!st.ok()) VQI_LOG_ERROR("{}", st.message());
  }
}

Status Engine::Impl::ExecuteDeployment(Inflight f, bool resumed, ArtifactSource* given) {
  const Json& dep = f.deployment.at("deployment");
  const Json src = f.deployment.value("source", Json::object());
  const std::string id = dep.value("deploymentId", "");
  auto refuse = [&](const Status& why) {
    VQI_LOG_ERROR("deployment {} refused: {}", id, why.message());
    (void)Finish(dep, src, "REJECTED", why.message());
    return RemoveInflight(layout);
  };
  FailurePolicy policy = dep.value("failureHandlingPolicy", "ROLLBACK") == "DO_NOTHING"
                             ? FailurePolicy::kDoNothing
                             : FailurePolicy::kRollback;
  // Prepare: plan and install folders; nothing running is touched.
  auto plan = BuildPlan(f.target, popts, &running);
  if (!plan.ok()) return refuse(plan.status());
  std::unique_ptr<ArtifactSource> made;
  if (!given) {
    auto source = sources(f.deployment.at("source"));
    if (!source.ok()) return refuse(source.status());
    made = std::move(*source);
    given = made.get();
  }
  for (const auto& c : plan->components) {
    if (!c.changed) continue;
    auto files = given->GetArtifacts(c.recipe, c.manifest);
    if (!files.ok()) return refuse(files.status());
    Status st = InstallArtifacts(layout.root, c, *files);
    if (!st.ok()) return refuse(st);
  }
  // A shadow candidate (docs/design/shadow.md): fetched, verified and installed beside the
  // set, no lifecycle. Its failure does not fail the deployment (vqi-inspect then logs that
  // the candidate is missing and inspects with the live model only).
  if (auto shadow = ShadowOf(dep)) {
    Status st = InstallShadow(layout.root, *shadow, *given, popts.platform);
    if (!st.ok())
      VQI_LOG_ERROR("deployment {}: shadow candidate {}@{} not installed: {}", id,
                    shadow->component, shadow->version, st.message());
  }
  f.phase = kPhasePrepared;
  VQI_RETURN_IF_ERROR(SaveInflight(layout, f));
  CrashPoint("prepared");

  // Stop what changes or goes, dependents first.
  f.phase = kPhaseStopping;
  VQI_RETURN_IF_ERROR(SaveInflight(layout, f));
  for (auto it = running.components.rbegin(); it != running.components.rend(); ++it) {
    const PlannedComponent* n = plan->Find(it->name);
    if (!n || n->changed) StopComponent(it->name);
  }
  CrashPoint("stopped");

  f.phase = kPhaseStarting;
  VQI_RETURN_IF_ERROR(SaveInflight(layout, f));
  if (hooks.phase) hooks.phase(dep, src, kPhaseStarting);
  Plan old = std::move(running);
  running = std::move(*plan);
  std::string reason;
  for (const auto& c : running.components) {
    if (sup.stop_requested()) return Cancelled("the agent is stopping");
    auto it = rt.find(c.name);
    if (!c.changed && it != rt.end()) continue;  // unchanged and running (a resume starts it)
    Status st = StartComponent(c);
    if (!st.ok() && c.changed) {
      if (reason.empty()) reason = st.message();
      // ROLLBACK stops here; DO_NOTHING leaves the failure and starts the rest of the set.
      if (policy == FailurePolicy::kRollback) break;
    }
  }
  CrashPoint("started");

  if (reason.empty()) {
    f.phase = kPhaseSoaking;
    VQI_RETURN_IF_ERROR(SaveInflight(layout, f));
    const double end = Supervisor::Now() + o.soak_seconds;
    while (reason.empty()) {
      for (const auto& c : running.components) {
        auto it = rt.find(c.name);
        if (!c.changed || it == rt.end()) continue;
        if (it->second.state == ComponentState::kErrored ||
            it->second.state == ComponentState::kBroken)
          reason = it->second.reason.empty() ? c.name + ": " + ComponentStateName(it->second.state)
                                             : it->second.reason;
      }
      if (!reason.empty() || Supervisor::Now() >= end) break;
      if (sup.stop_requested()) return Cancelled("the agent is stopping");
      Tick(std::min(0.1, end - Supervisor::Now()));
    }
    CrashPoint("soaked");
  }

  std::string status = "SUCCEEDED";
  if (!reason.empty() && policy == FailurePolicy::kRollback) {
    VQI_LOG_ERROR("deployment {} failed: {}; rolling back", id, reason);
    f.phase = kPhaseRollingBack;
    f.reason = reason;
    VQI_RETURN_IF_ERROR(SaveInflight(layout, f));
    CrashPoint("rolling-back");
    for (auto it = running.components.rbegin(); it != running.components.rend(); ++it) {
      const PlannedComponent* p = old.Find(it->name);
      if (it->changed || !p) StopComponent(it->name);
    }
    // The previous set, as it ran: plan it against nothing so every component is whole.
    auto back = BuildPlan(f.previous, popts, nullptr);
    if (back.ok()) {
      for (auto& c : back->components) {
        const PlannedComponent* p = old.Find(c.name);
        c.changed = p && p->changed;
      }
      running = std::move(*back);
      StartMissing(running);
    } else {
      reason += "; rollback could not plan the previous set: " + back.status().message();
      running = Plan{};
    }
    VQI_RETURN_IF_ERROR(Finish(dep, src, "FAILED_ROLLBACK_COMPLETE", reason));
    VQI_RETURN_IF_ERROR(RemoveInflight(layout));
    VQI_LOG_INFO("deployment {}: FAILED_ROLLBACK_COMPLETE", id);
    return Status::Ok();
  }
  if (!reason.empty()) {
    status = "FAILED_NO_ROLLBACK";
    f.reason = reason;  // a restart after the commit must report the failure, not success
    VQI_RETURN_IF_ERROR(SaveInflight(layout, f));
  }
  // Commit: the atomic rename of current.json is the point of no return.
  CurrentState next{f.target, id, dep.value("sequence", uint64_t{0})};
  VQI_RETURN_IF_ERROR(SavePrevious(layout, f.previous));
  VQI_RETURN_IF_ERROR(SaveCurrent(layout, next));
  current = next;
  CrashPoint("committed");
  RemoveUnusedVersions(f.target, f.previous, ShadowOf(dep));
  VQI_RETURN_IF_ERROR(Finish(dep, src, status, reason));
  VQI_RETURN_IF_ERROR(RemoveInflight(layout));
  VQI_LOG_INFO("deployment {}: {}{}", id, status, resumed ? " (resumed after a restart)" : "");
  return Status::Ok();
}

Status Engine::Impl::ApplyQueued(const std::string& path) {
  auto item = ReadJsonFile(path);
  std::error_code ec;
  if (!item.ok() || !item->contains("deployment") || !item->contains("source")) {
    VQI_LOG_ERROR("{}: not a queued deployment, dropped", path);
    fs::remove(path, ec);
    return Status::Ok();
  }
  const Json& dj = (*item)["deployment"];
  const Json& src = (*item)["source"];
  auto d = DeploymentFromJson(dj, path);
  auto reject = [&](const std::string& why) {
    VQI_LOG_ERROR("deployment {} rejected: {}", dj.value("deploymentId", "?"), why);
    (void)Finish(dj.is_object() ? dj : Json::object(), src, "REJECTED", why);
    fs::remove(path, ec);
    return Status::Ok();
  };
  if (!d.ok()) return reject(d.status().message());
  if (d->sequence <= current.sequence)
    return reject("sequence " + std::to_string(d->sequence) + " is not above the last applied " +
                  std::to_string(current.sequence));
  Notify(dj, src, "IN_PROGRESS");
  auto source = sources(src);
  if (!source.ok()) return reject(source.status().message());
  auto target = TargetSet(*d, current.set, **source);
  if (!target.ok() && target.status().code() == StatusCode::kUnavailable &&
      src.value("kind", "") == "server") {
    // The server is unreachable and the cache does not have it: nothing changed, so the
    // deployment stays queued and is tried again later (a newer one still supersedes it; the
    // server's in-progress timeout ends it if the server stays away).
    retry_delay = std::min(60.0, retry_delay > 0 ? retry_delay * 2 : 2.0);
    retry_at = Supervisor::Now() + retry_delay;
    VQI_LOG_WARN("deployment {}: waiting for the server, next attempt in {:.0f} s: {}", d->id,
                 retry_delay, target.status().message());
    return Status::Ok();
  }
  if (!target.ok()) return reject(target.status().message());
  retry_delay = 0;
  Inflight f;
  f.deployment = *item;
  f.target = std::move(*target);
  f.previous = current.set;
  f.phase = "queued";
  VQI_RETURN_IF_ERROR(SaveInflight(layout, f));
  fs::remove(path, ec);
  CrashPoint("queued");
  return ExecuteDeployment(std::move(f), false, source->get());
}

bool Engine::Impl::CheckInbox() {
  std::vector<std::string> items;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(layout.inbox(), ec))
    if (e.path().extension() == ".json") items.push_back(e.path().string());
  if (items.empty()) return false;
  std::sort(items.begin(), items.end());  // zero-padded sequence first: oldest first
  const std::string newest = items.back();
  const std::string newest_id = fs::path(newest).stem().string().substr(21);
  for (size_t i = 0; i + 1 < items.size(); ++i) {
    auto item = ReadJsonFile(items[i]);
    if (item.ok() && item->contains("deployment"))
      (void)Finish((*item)["deployment"], item->value("source", Json::object()), "CANCELED",
                   "superseded by deployment " + newest_id);
    fs::remove(items[i], ec);
  }
  Status st = ApplyQueued(newest);
  if (!st.ok()) VQI_LOG_ERROR("deployment {}: {}", newest_id, st.message());
  return true;
}

Status Engine::Start() {
  Impl& m = *impl_;
  VQI_ASSIGN_OR_RETURN(m.layout, OpenLayout(m.o.root));
  m.lock_fd = ::open(m.layout.lock().c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  // A killed agent's lock can outlive it for a moment: a child it forked shares the lock's
  // open file description until its exec closes the CLOEXEC descriptor (kill -9 between fork
  // and exec; found by the crash campaign). So a held lock is retried for up to 2 s.
  bool locked = false;
  for (int i = 0; m.lock_fd >= 0 && i < 100 && !locked; ++i) {
    locked = ::fcntl(m.lock_fd, F_OFD_SETLK, &fl) == 0;
    if (!locked && errno != EAGAIN && errno != EACCES) break;
    if (!locked) ::usleep(20000);
  }
  if (!locked)
    return FailedPrecondition("another vqi-agent runs on " + m.layout.root + " (" +
                              m.layout.lock() + " is locked)");
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(m.lock_fd, 0) != 0 || ::write(m.lock_fd, pid.data(), pid.size()) < 0)
    VQI_LOG_WARN("{}: cannot write the pid", m.layout.lock());
  m.popts.root = m.layout.root;
  m.popts.thing_name = m.o.thing_name;
  m.popts.is_root = ::geteuid() == 0;
  if (m.popts.is_root && !m.o.user.empty()) {
    passwd* pw = ::getpwnam(m.o.user.c_str());
    if (!pw) return NotFound("--user " + m.o.user + ": no such user");
    m.uid = pw->pw_uid;
    m.gid = pw->pw_gid;
  } else if (m.popts.is_root) {
    VQI_LOG_WARN("the agent runs as root with no --user: every step runs as root");
  }
  if (int n = Supervisor::KillOrphans(m.layout.root))
    VQI_LOG_WARN("killed {} process(es) left by a previous agent", n);
  VQI_ASSIGN_OR_RETURN(m.current, LoadCurrent(m.layout));
  VQI_ASSIGN_OR_RETURN(auto planned, BuildPlan(m.current.set, m.popts, nullptr));
  m.running = std::move(planned);
  VQI_ASSIGN_OR_RETURN(auto inflight, LoadInflight(m.layout));
  if (inflight) {
    Inflight f = std::move(*inflight);
    const Json& dep = f.deployment.at("deployment");
    const Json src = f.deployment.value("source", Json::object());
    const std::string id = dep.value("deploymentId", "");
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(m.layout.inbox(), ec))
      if (e.path().stem().string().size() > 21 && e.path().stem().string().substr(21) == id)
        fs::remove(e.path(), ec);
    if (!m.current.deployment_id.empty() && m.current.deployment_id == id) {
      VQI_LOG_INFO("deployment {} was committed before the restart", id);
      m.StartMissing(m.running);
      const bool failed = !f.reason.empty();
      VQI_RETURN_IF_ERROR(
          m.Finish(dep, src, failed ? "FAILED_NO_ROLLBACK" : "SUCCEEDED", f.reason));
      VQI_RETURN_IF_ERROR(RemoveInflight(m.layout));
    } else if (f.phase == kPhaseRollingBack || f.attempts > m.o.max_resumes) {
      const std::string reason =
          !f.reason.empty() ? f.reason
                            : "the agent restarted " + std::to_string(f.attempts) +
                                  " times during the deployment (last in phase " + f.phase + ")";
      VQI_LOG_WARN("deployment {}: rolling back to the previous set: {}", id, reason);
      m.StartMissing(m.running);
      VQI_RETURN_IF_ERROR(m.Finish(dep, src, "FAILED_ROLLBACK_COMPLETE", reason));
      VQI_RETURN_IF_ERROR(RemoveInflight(m.layout));
    } else {
      VQI_LOG_WARN("deployment {} was interrupted in phase {}: resuming", id, f.phase);
      f.attempts++;
      VQI_RETURN_IF_ERROR(SaveInflight(m.layout, f));
      m.Notify(dep, src, "IN_PROGRESS");
      Status st = m.ExecuteDeployment(std::move(f), true);
      if (!st.ok()) return st;
      m.StartMissing(m.running);
    }
  } else {
    m.StartMissing(m.running);
  }
  m.WriteStatus();
  ::malloc_trim(0);
  return Status::Ok();
}

Status Engine::Run() {
  Impl& m = *impl_;
  double& next_inbox = m.next_inbox;
  while (!m.sup.stop_requested()) {
    m.Tick(m.o.inbox_poll_seconds);
    if (Supervisor::Now() >= next_inbox && !m.sup.stop_requested()) {
      m.retry_at = 0;
      if (m.CheckInbox()) ::malloc_trim(0);  // an idle agent gives a deployment's heap back
      next_inbox = std::max(Supervisor::Now() + m.o.inbox_poll_seconds, m.retry_at);
    }
  }
  VQI_LOG_INFO("stopping: shutting components down in reverse order");
  for (auto it = m.running.components.rbegin(); it != m.running.components.rend(); ++it)
    m.StopComponent(it->name);
  m.WriteStatus();
  return Status::Ok();
}

}  // namespace vqi::agent
