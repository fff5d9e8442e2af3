// Shadow evaluation on the server (docs/design/shadow.md): the device's `vqi.inspect.shadow/1`
// message (cumulative agreement counts of a candidate model beside the live one), and the
// fleet aggregate a promotion rule reads. Pure functions and value types.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vqi/base/json.h"
#include "vqi/base/status.h"

namespace vqi::fleet {

inline constexpr std::string_view kShadowSchema = "vqi.inspect.shadow/1";
// Largest shadow message accepted (docs/limits.md, "Shadow").
inline constexpr size_t kMaxShadowMessageBytes = 16 * 1024;

// One device's cumulative numbers for one candidate (the latest message wins).
struct ShadowStats {
  std::string thing, component;         // from the topic (authenticated)
  std::string live_name, live_version;  // the live model
  std::string candidate_component;      // the model component of the candidate ("" if local)
  std::string candidate_name, candidate_version;
  int64_t images = 0;         // compared images (live inspected them)
  int64_t verdict_agree = 0;  // same pass/fail verdict
  int64_t live_fail = 0, candidate_fail = 0;
  int64_t candidate_errors = 0;  // candidate failed where the live model did not
  int64_t boxes_live = 0, boxes_candidate = 0, boxes_matched = 0;
  int64_t box_slots = 0;      // sum over images of max(live boxes, candidate boxes)
  int64_t pairs = 0;          // matched box pairs (= boxes_matched)
  double sum_best_shift = 0;  // sum over images of candidate best - live best score
  double sum_pair_shift = 0;  // sum over matched pairs of candidate - live confidence
  double sum_live_ms = 0, sum_candidate_ms = 0;  // model time
  double live_p95_ms = 0, candidate_p95_ms = 0;  // over the device's last report window
  std::string at;                                // the device's timestamp of the message
};

// Parses a message received on vqi/v1/results/<thing>/<component>/shadow. `thing` and
// `component` come from the topic: the payload's must equal them. InvalidArgument naming the
// field (and both values for a mismatch); ResourceExhausted past kMaxShadowMessageBytes.
Result<ShadowStats> ParseShadowMessage(std::string_view payload, const std::string& thing,
                                       const std::string& component);

// The fleet's numbers for one candidate: sums of the devices' counts, ratios from the sums.
struct ShadowAggregate {
  int64_t devices = 0;  // things with at least one compared image
  int64_t images = 0, verdict_agree = 0, candidate_errors = 0;
  int64_t boxes_live = 0, boxes_candidate = 0, boxes_matched = 0, box_slots = 0;
  double sum_best_shift = 0, sum_live_ms = 0, sum_candidate_ms = 0;

  double VerdictAgreement() const;  // 0 without images
  double BoxMatch() const;          // 1 when no image had a box on either side
  double ScoreShift() const;        // mean candidate - live best score
  double LiveLatencyMs() const;
  double CandidateLatencyMs() const;
  double LatencyRatio() const;  // candidate / live mean model time (0 without data)
  // {devices, images, verdict_agreement, box_match, score_shift, latency_ratio, ...}.
  Json ToJson() const;
};

ShadowAggregate AggregateShadow(const std::vector<ShadowStats>& stats);

// The stored form of a device's numbers (for `vqi results shadow --json` and HTTP).
Json ShadowStatsToJson(const ShadowStats& s);

}  // namespace vqi::fleet
