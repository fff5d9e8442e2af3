// KPI measurement for KPI-guarded rollouts (docs/design/agent.md "KPI"): components append
// lines {"metric": "defect_rate", "value": 0.12} to $VQI_METRICS_FILE
// (<root>/work/<name>/metrics.jsonl); the tracker takes the last `window` values of the
// deployment's metric from before the update and the first `window` after it, and gives the
// means to the status report (`kpi: {metric, before, after, samples}`).
// Thread-compatible (the engine's thread).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "vqi/fleet/desired_state.h"
#include "vqi/fleet/status_report.h"

namespace vqi::agent {

// Bytes read from the end of a metrics file for the "before" window, and per poll for "after"
// (docs/limits.md, Agent network side).
inline constexpr int64_t kMaxMetricsReadBytes = 4 << 20;

class KpiTracker {
 public:
  // `work_dir` = <root>/work; `max_wait_seconds`: report with what there is after this long.
  KpiTracker(std::string work_dir, double max_wait_seconds = 60);

  // The update starts: remembers the last `spec.window` values of `spec.metric` in every
  // <work>/*/metrics.jsonl and where each file ends now.
  void Begin(const std::string& deployment_id, const fleet::KpiSpec& spec);
  // The deployment ended at monotonic time `now`: SUCCEEDED starts waiting for the after
  // window, anything else forgets it.
  void End(const std::string& deployment_id, bool succeeded, double now);
  // Reads what was appended since the update; the report once `window` after-samples exist
  // or max_wait_seconds passed since End (nullopt while waiting, and when there is no value
  // before or none after the update: then it is dropped with a warning). `deployment_id` receives
  // the deployment it belongs to.
  std::optional<fleet::KpiReport> Poll(double now, std::string* deployment_id);
  bool active() const { return !id_.empty(); }

 private:
  void ReadNew(const std::string& path, std::vector<double>* out);
  std::string work_dir_;
  double max_wait_;
  std::string id_;
  fleet::KpiSpec spec_;
  std::vector<double> before_, after_;
  std::map<std::string, int64_t> offsets_;  // file → bytes already read
  double deadline_ = 0;                     // 0 = the deployment has not ended yet
};

// The values of `metric` in JSON lines `text` (lines that are not such an object are skipped).
std::vector<double> MetricValues(const std::string& text, const std::string& metric);

}  // namespace vqi::agent
