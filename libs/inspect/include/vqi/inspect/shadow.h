// Shadow evaluation on the device (docs/design/shadow.md): a candidate model runs beside the
// live one on the same decoded image; per image the two are compared (boxes matched by class
// and IoU >= 0.5, verdicts, best scores, model times) and the counts accumulate into the
// `vqi.inspect.shadow/1` message published every `ReportEvery` images and at stop.
//
// Thread-compatible: the Inspector's thread owns a ShadowRunner.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "vqi/base/json.h"
#include "vqi/base/status.h"
#include "vqi/eval/detector.h"
#include "vqi/infer/detector.h"
#include "vqi/inspect/config.h"
#include "vqi/yolo/image.h"

namespace vqi::inspect {

inline constexpr float kShadowMatchIou = 0.5f;

float BoxIou(const eval::Detection& a, const eval::Detection& b);

// Boxes of one image matched one to one: live boxes in descending confidence each take the
// unmatched candidate box of the same class with the highest IoU >= `iou`.
struct BoxMatch {
  int live = 0, candidate = 0, matched = 0;
  double pair_shift = 0;  // sum over matched pairs of candidate - live confidence
};
BoxMatch MatchDetections(const std::vector<eval::Detection>& live,
                         const std::vector<eval::Detection>& candidate,
                         float iou = kShadowMatchIou);

// One image seen by both models (detections already cut at ScoreThreshold).
struct ShadowImage {
  bool live_fail = false, candidate_fail = false;
  bool candidate_error = false;  // the candidate could not run on it
  float live_best = 0, candidate_best = 0;
  double live_ms = 0, candidate_ms = 0;
  BoxMatch boxes;
};

// Cumulative counts (what the message carries; the server aggregates sums, not ratios) and a
// window of the last `window` model times for the p95s.
class ShadowAccumulator {
 public:
  explicit ShadowAccumulator(int window = 100) : window_(window) {}
  void Add(const ShadowImage& image);

  int64_t images() const { return images_; }
  double VerdictAgreement() const;
  double BoxMatchRate() const;  // 1 when no image had a box
  double ScoreShift() const;
  // The `counts`/`sums` part, also the state file (FromState restores it after a restart).
  Json State() const;
  Status FromState(const Json& state, const std::string& where);
  // The whole vqi.inspect.shadow/1 message.
  OrderedJson Message(const std::string& thing, const std::string& component,
                      const std::string& live_name, const std::string& live_version,
                      const ShadowConfig& candidate, const std::string& at) const;

 private:
  int window_;
  int64_t images_ = 0, verdict_agree_ = 0, live_fail_ = 0, candidate_fail_ = 0,
          candidate_errors_ = 0, boxes_live_ = 0, boxes_candidate_ = 0, boxes_matched_ = 0,
          box_slots_ = 0;
  double sum_best_shift_ = 0, sum_pair_shift_ = 0, sum_live_ms_ = 0, sum_candidate_ms_ = 0;
  std::deque<double> live_ms_, candidate_ms_;  // the last `window_`
};

// The candidate model and the accumulator of one Shadow configuration.
class ShadowRunner {
 public:
  // Opens `<ModelDirectory>/<ModelFile>` with the live model's backend and threads and restores
  // the counts from `<work_directory>/shadow-state.json` when it is for the same candidate.
  // Errors (folder or model missing, not a detector) leave the caller without a shadow.
  static Result<std::unique_ptr<ShadowRunner>> Open(const InspectConfig& config);

  // Runs the candidate on `image` (decoded for the live model, maybe DCT-reduced: boxes are
  // in the file's pixels either way) and compares with the live outcome in `live`; returns
  // the result's `shadow` field.
  OrderedJson Run(const yolo::Image& image, const std::string& path,
                  const std::vector<eval::Detection>& live_detections, float live_best,
                  double live_ms, float score_threshold, const eval::DetectOptions& options);

  // Whether the candidate runs on the next image (every `Every`th one, the first included).
  bool Sample() { return seen_++ % config_.every == 0; }
  // True every ReportEvery compared images (until Reported()).
  bool Due() const { return since_report_ >= config_.report_every; }
  bool HasUnreported() const { return since_report_ > 0; }
  // The message, and the state file written (atomically) so counts survive a restart.
  OrderedJson Report(const std::string& thing, const std::string& component,
                     const std::string& live_name, const std::string& live_version,
                     const std::string& at);
  void Reported() { since_report_ = 0; }
  const ShadowConfig& config() const { return config_; }
  const infer::OnnxDetector& detector() const { return *detector_; }
  const ShadowAccumulator& accumulator() const { return acc_; }

 private:
  ShadowRunner(ShadowConfig c, std::string state_path, std::unique_ptr<infer::OnnxDetector> d)
      : config_(std::move(c)),
        state_path_(std::move(state_path)),
        detector_(std::move(d)),
        acc_(config_.report_every) {}
  std::string StateKey() const;

  ShadowConfig config_;
  std::string state_path_;
  std::unique_ptr<infer::OnnxDetector> detector_;
  ShadowAccumulator acc_;
  int64_t since_report_ = 0;
  int64_t seen_ = 0;  // images offered to Sample()
};

}  // namespace vqi::inspect
