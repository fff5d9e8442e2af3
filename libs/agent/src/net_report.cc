// NetAgent (net.h): status reports, heartbeats and KPI out.
#include <cstdio>
#include <cstring>

#include "vqi/agent/net.h"
#include "vqi/agent/server_source.h"
#include "vqi/agent/supervisor.h"
#include "vqi/base/file.h"
#include "vqi/base/log.h"
#include "vqi/fleet/health.h"
#include "vqi/fleet/status_report.h"
#include "vqi/transport/topics.h"

namespace vqi::agent {
namespace topics = transport::topics;
namespace {

// Proportional set size of this process in KiB (/proc/self/smaps_rollup), -1 when unknown.
int64_t SelfPssKb() {
  FILE* f = std::fopen("/proc/self/smaps_rollup", "r");
  if (!f) return -1;
  char line[256];
  long long kb = -1;
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "Pss: %lld kB", &kb) == 1) break;
  std::fclose(f);
  return kb;
}

}  // namespace

void NetAgent::OnStatus(const Json& outcome, const Json& source) {
  if (!source.is_object() || source.value("kind", "") != "server") return;  // local deployments
  const std::string id = outcome.value("deploymentId", "");
  const std::string status = outcome.value("status", "");
  const std::string reason = outcome.value("reason", "");
  auto parsed = fleet::ParseDeviceStatus(status);
  if (!parsed.ok()) {
    VQI_LOG_ERROR("status report: {}", parsed.status().message());
    return;
  }
  // CANCELED (superseded in the queue by a newer desired state) is the server's to set: it
  // superseded the deployment itself, and refuses the status from a device.
  if (*parsed == fleet::DeviceStatus::kCanceled) return;
  const double now = Supervisor::Now();
  if (fleet::IsTerminal(*parsed)) {
    last_terminal_id_ = id;
    last_terminal_status_ = status;
    last_terminal_reason_ = reason;
    kpi_.End(id, *parsed == fleet::DeviceStatus::kSucceeded, now);
  }
  Publish(id, status, reason, outcome.value("components", Json::object()), std::nullopt);
}

void NetAgent::OnPhase(const Json& deployment, const Json& source, const std::string& phase) {
  if (!source.is_object() || source.value("kind", "") != "server") return;
  const std::string id = deployment.value("deploymentId", "");
  // The old versions have stopped, the new ones start now: "before" is everything up to here.
  if (phase == "starting" && id == desired_id_ && desired_kpi_) kpi_.Begin(id, *desired_kpi_);
}

void NetAgent::Publish(const std::string& deployment_id, const std::string& status,
                       const std::string& reason, const Json& components,
                       const std::optional<fleet::KpiReport>& kpi) {
  fleet::StatusReport r;
  r.thing = o_.thing;
  r.deployment_id = deployment_id;
  auto st = fleet::ParseDeviceStatus(status);
  if (!st.ok()) return;
  r.status = *st;
  // A report is at most fleet::kMaxStatusBytes: a reason is cut well below that.
  r.reason = reason.size() > 4096 ? reason.substr(0, 4096) + "..." : reason;
  if (components.is_object())
    for (const auto& [name, c] : components.items())
      r.components[name] = {c.value("version", ""), c.value("state", "NEW")};
  r.kpi = kpi;
  r.at = NowRfc3339();
  r.sequence = report_sequence_ + 1;
  const std::string text = fleet::StatusReportToJson(r);
  // The sequence is durable before the report leaves: a restart never reuses it.
  Json rec = {{"sequence", r.sequence}, {"report", text}};
  if (Status s = WriteFileAtomic(layout_.state() + "/report.json", rec.dump()); !s.ok()) {
    VQI_LOG_ERROR("status report {} {} not sent: {}", deployment_id, status, s.message());
    return;
  }
  report_sequence_ = r.sequence;
  last_report_ = text;
  ++reports_;
  dirty_ = true;
  Status p = client_->Publish(topics::StatusTopic(o_.thing), text, 1);
  if (!p.ok()) VQI_LOG_WARN("status report {} {}: {}", deployment_id, status, p.message());
  VQI_LOG_INFO("status report {}: {} {}{}", r.sequence, deployment_id, status, kpi ? " (kpi)" : "");
}

void NetAgent::Heartbeat() {
  fleet::HealthReport h;  // vqi-health/1, parsed by the server with fleet::ParseHealthReport
  h.thing = o_.thing;
  h.at = NowRfc3339();
  h.uptime_seconds = static_cast<int64_t>(Supervisor::Now() - started_);
  const Json states = components_();
  for (const auto& [name, c] : states.items())
    h.components[name] = {c.value("version", ""), c.value("state", "NEW")};
  const Json transfer = ReadTransfer(layout_.root);
  h.bytes_downloaded = transfer.value("bytesDownloaded", int64_t{0});
  h.bytes_from_cache = transfer.value("bytesFromCache", int64_t{0});
  if (const int64_t pss = SelfPssKb(); pss >= 0) h.pss_kb = pss;  // absent when unknown
  const std::string doc = fleet::HealthReportToJson(h);
  // Heartbeats are only sent while connected: a stale one is worth nothing, so none queue up.
  Status st = client_->Publish(topics::HealthTopic(o_.thing), doc, 1);
  if (!st.ok()) {
    VQI_LOG_WARN("heartbeat: {}", st.message());
    return;
  }
  ++heartbeats_;
  dirty_ = true;
}

}  // namespace vqi::agent
