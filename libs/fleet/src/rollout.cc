// The staged rollout planner (docs/design/fleet.md).
#include "vqi/fleet/rollout.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "json_fields.h"

namespace vqi::fleet {

using namespace internal;  // NOLINT

namespace {

constexpr const char* kPhaseNames[] = {"RUNNING", "COMPLETED", "ABORTED", "HALTED"};

bool Matches(const std::string& failure_type, DeviceStatus s) {
  if (failure_type == "ALL") return IsFailure(s);
  if (failure_type == "FAILED")
    return s == DeviceStatus::kFailedRollbackComplete || s == DeviceStatus::kFailedNoRollback;
  if (failure_type == "REJECTED") return s == DeviceStatus::kRejected;
  if (failure_type == "TIMED_OUT") return s == DeviceStatus::kTimedOut;
  return false;
}

std::string Percent(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g%%", v);
  return buf;
}

}  // namespace

const char* RolloutPhaseName(RolloutPhase p) { return kPhaseNames[static_cast<int>(p)]; }

std::string RolloutStateToJson(const RolloutState& s) {
  return Json{{"phase", RolloutPhaseName(s.phase)},
              {"ratePerMinute", s.rate_per_minute},
              {"windowStartMs", s.window_start_ms},
              {"notifiedInWindow", s.notified_in_window},
              {"notifiedAtIncrease", s.notified_at_increase},
              {"succeededAtIncrease", s.succeeded_at_increase},
              {"reason", s.reason}}
      .dump();
}

Result<RolloutState> RolloutStateFromJson(std::string_view text) {
  VQI_ASSIGN_OR_RETURN(Json j, ParseJson(text, "rollout state", 4));
  VQI_RETURN_IF_ERROR(ExpectObject(j, "rollout state"));
  RolloutState s;
  VQI_ASSIGN_OR_RETURN(
      std::string phase,
      GetEnum(j, "", "phase", {"RUNNING", "COMPLETED", "ABORTED", "HALTED"}, true, ""));
  for (int i = 0; i < 4; ++i)
    if (phase == kPhaseNames[i]) s.phase = static_cast<RolloutPhase>(i);
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  VQI_ASSIGN_OR_RETURN(s.rate_per_minute, GetInt(j, "", "ratePerMinute", true, 0, 0, 1000));
  VQI_ASSIGN_OR_RETURN(s.window_start_ms, GetInt(j, "", "windowStartMs", true, 0, -1, kMax));
  VQI_ASSIGN_OR_RETURN(s.notified_in_window, GetInt(j, "", "notifiedInWindow", true, 0, 0, kMax));
  VQI_ASSIGN_OR_RETURN(s.notified_at_increase,
                       GetInt(j, "", "notifiedAtIncrease", true, 0, 0, kMax));
  VQI_ASSIGN_OR_RETURN(s.succeeded_at_increase,
                       GetInt(j, "", "succeededAtIncrease", true, 0, 0, kMax));
  VQI_ASSIGN_OR_RETURN(s.reason, GetString(j, "", "reason", false));
  return s;
}

RolloutDecision RolloutPlanner::Step(int64_t now_ms, const std::vector<ThingRollout>& in,
                                     const RolloutState& state) const {
  RolloutDecision out;
  out.state = state;
  if (state.phase != RolloutPhase::kRunning) return out;
  RolloutState& s = out.state;
  std::vector<ThingRollout> things = in;

  // Timeouts first: they count as failures below.
  const int64_t timeout_ms = config_.in_progress_timeout_minutes * timing_.minute_ms;
  for (ThingRollout& t : things) {
    if (timeout_ms > 0 && t.status == DeviceStatus::kInProgress && t.in_progress_ms >= 0 &&
        now_ms - t.in_progress_ms >= timeout_ms) {
      out.timed_out.push_back(t.thing);
      t.status = DeviceStatus::kTimedOut;
    }
  }

  int64_t executed = 0, succeeded = 0, notified = 0;
  for (const ThingRollout& t : things) {
    if (IsTerminal(t.status) && t.status != DeviceStatus::kCanceled) ++executed;
    if (t.status == DeviceStatus::kSucceeded) ++succeeded;
    if (t.notified_ms >= 0) ++notified;
  }

  // Abort criteria.
  for (const AbortCriterion& a : config_.abort) {
    if (executed == 0 || executed < a.min_executed_things) continue;
    int64_t failed = 0;
    for (const ThingRollout& t : things) failed += Matches(a.failure_type, t.status) ? 1 : 0;
    const double pct = 100.0 * static_cast<double>(failed) / static_cast<double>(executed);
    if (failed > 0 && pct >= a.threshold_percentage) {
      s.phase = RolloutPhase::kAborted;
      s.reason = "abort: " + a.failure_type + " " + std::to_string(failed) + " of " +
                 std::to_string(executed) + " executed things (" + Percent(pct) +
                 ") >= " + Percent(a.threshold_percentage);
      break;
    }
  }

  // KPI halt: the same updated devices, before vs after.
  if (s.phase == RolloutPhase::kRunning && config_.kpi) {
    const KpiConfig& k = *config_.kpi;
    double before = 0, after = 0;
    int64_t n = 0;
    for (const ThingRollout& t : things) {
      if (!t.kpi || t.kpi->metric != k.metric) continue;
      before += t.kpi->before;
      after += t.kpi->after;
      ++n;
    }
    if (n > 0 && n >= k.min_reporting_things) {
      before /= static_cast<double>(n);
      after /= static_cast<double>(n);
      const double worse = k.lower_is_better ? after - before : before - after;
      const double regression = before == 0
                                    ? (worse > 0 ? std::numeric_limits<double>::infinity() : 0.0)
                                    : 100.0 * worse / std::fabs(before);
      if (regression > k.max_regression_percent) {
        s.phase = RolloutPhase::kHalted;
        char buf[256];
        std::snprintf(buf, sizeof buf,
                      "KPI halt: %s regressed %.4g%% (mean %.6g before, %.6g after, over %lld "
                      "updated things) > %.4g%%",
                      k.metric.c_str(), regression, before, after, static_cast<long long>(n),
                      k.max_regression_percent);
        s.reason = buf;
      }
    }
  }

  if (s.phase != RolloutPhase::kRunning) {
    for (const ThingRollout& t : things) {
      if (!IsTerminal(t.status)) out.cancel.push_back(t.thing);
      if (t.status == DeviceStatus::kSucceeded || (!IsTerminal(t.status) && t.notified_ms >= 0))
        out.roll_back.push_back(t.thing);
    }
    return out;
  }

  // Rate: start, then grow after each batch that meets the criteria.
  if (s.rate_per_minute == 0)
    s.rate_per_minute =
        config_.exponential ? config_.base_rate_per_minute : config_.maximum_per_minute;
  // A new one-minute window; the rate grows only here, after a batch met the criteria.
  if (s.window_start_ms < 0 || now_ms - s.window_start_ms >= timing_.minute_ms) {
    s.window_start_ms = now_ms;
    s.notified_in_window = 0;
    const RateIncreaseCriteria& c = config_.criteria;
    const bool met =
        config_.exponential &&
        ((c.notified_things > 0 && notified - s.notified_at_increase >= c.notified_things) ||
         (c.succeeded_things > 0 && succeeded - s.succeeded_at_increase >= c.succeeded_things));
    if (met) {
      const double grown =
          std::ceil(static_cast<double>(s.rate_per_minute) * config_.increment_factor);
      s.rate_per_minute =
          std::min<int64_t>(config_.maximum_per_minute, static_cast<int64_t>(grown));
      s.notified_at_increase = notified;
      s.succeeded_at_increase = succeeded;
    }
  }
  int64_t allowed = s.rate_per_minute - s.notified_in_window;
  for (const ThingRollout& t : things) {
    if (allowed <= 0) break;
    if (t.notified_ms >= 0 || t.status != DeviceStatus::kQueued) continue;
    out.notify.push_back(t.thing);
    --allowed;
  }
  s.notified_in_window += static_cast<int64_t>(out.notify.size());

  bool all_done = true;
  for (const ThingRollout& t : things) {
    all_done = all_done && IsTerminal(t.status);
    // A KPI report may follow SUCCEEDED: wait for it (bounded) so a late regression still halts.
    if (config_.kpi && t.status == DeviceStatus::kSucceeded &&
        !(t.kpi && t.kpi->metric == config_.kpi->metric) && t.updated_ms >= 0 &&
        now_ms - t.updated_ms < timing_.kpi_wait_ms)
      all_done = false;
  }
  if (all_done) s.phase = RolloutPhase::kCompleted;
  return out;
}

}  // namespace vqi::fleet
