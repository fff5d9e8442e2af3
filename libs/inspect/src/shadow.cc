// Shadow evaluation on the device: box matching, the accumulator, the candidate runner
// (docs/design/shadow.md).
#include "vqi/inspect/shadow.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "vqi/base/file.h"
#include "vqi/base/log.h"
#include "vqi/inspect/result.h"

namespace vqi::inspect {
namespace {

// v rounded to 1/scale (scale 1000: 0.001), as result.cc rounds.
double Round(double v, double scale) { return std::round(v * scale) / scale; }

double P95(std::deque<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = static_cast<size_t>(std::ceil(0.95 * static_cast<double>(v.size()))) - 1;
  return v[std::min(i, v.size() - 1)];
}

double Ratio(double num, double den, double none) { return den > 0 ? num / den : none; }

}  // namespace

float BoxIou(const eval::Detection& a, const eval::Detection& b) {
  const float iw = std::min(a.x2, b.x2) - std::max(a.x1, b.x1);
  const float ih = std::min(a.y2, b.y2) - std::max(a.y1, b.y1);
  if (iw <= 0 || ih <= 0) return 0;
  const float inter = iw * ih;
  const float area_a = std::max(0.f, a.x2 - a.x1) * std::max(0.f, a.y2 - a.y1);
  const float area_b = std::max(0.f, b.x2 - b.x1) * std::max(0.f, b.y2 - b.y1);
  const float uni = area_a + area_b - inter;
  return uni > 0 ? inter / uni : 0;
}

BoxMatch MatchDetections(const std::vector<eval::Detection>& live,
                         const std::vector<eval::Detection>& candidate, float iou) {
  BoxMatch m;
  m.live = static_cast<int>(live.size());
  m.candidate = static_cast<int>(candidate.size());
  std::vector<size_t> order(live.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return live[a].score > live[b].score; });
  std::vector<bool> used(candidate.size(), false);
  for (size_t li : order) {
    const eval::Detection& l = live[li];
    int best = -1;
    float best_iou = iou;
    for (size_t ci = 0; ci < candidate.size(); ++ci) {
      if (used[ci] || candidate[ci].class_id != l.class_id) continue;
      const float v = BoxIou(l, candidate[ci]);
      if (v >= best_iou && (best < 0 || v > best_iou)) {
        best = static_cast<int>(ci);
        best_iou = v;
      }
    }
    if (best >= 0) {
      used[best] = true;
      ++m.matched;
      m.pair_shift += static_cast<double>(candidate[best].score) - static_cast<double>(l.score);
    }
  }
  return m;
}

void ShadowAccumulator::Add(const ShadowImage& s) {
  ++images_;
  if (s.candidate_error) {
    ++candidate_errors_;  // a disagreement; its boxes and times are unknown
    live_fail_ += s.live_fail;
    boxes_live_ += s.boxes.live;
    box_slots_ += s.boxes.live;
    sum_best_shift_ -= s.live_best;
    sum_live_ms_ += s.live_ms;
    return;
  }
  verdict_agree_ += s.live_fail == s.candidate_fail;
  live_fail_ += s.live_fail;
  candidate_fail_ += s.candidate_fail;
  boxes_live_ += s.boxes.live;
  boxes_candidate_ += s.boxes.candidate;
  boxes_matched_ += s.boxes.matched;
  box_slots_ += std::max(s.boxes.live, s.boxes.candidate);
  sum_best_shift_ += static_cast<double>(s.candidate_best) - static_cast<double>(s.live_best);
  sum_pair_shift_ += s.boxes.pair_shift;
  sum_live_ms_ += s.live_ms;
  sum_candidate_ms_ += s.candidate_ms;
  live_ms_.push_back(s.live_ms);
  candidate_ms_.push_back(s.candidate_ms);
  while (static_cast<int>(live_ms_.size()) > window_) live_ms_.pop_front();
  while (static_cast<int>(candidate_ms_.size()) > window_) candidate_ms_.pop_front();
}

double ShadowAccumulator::VerdictAgreement() const {
  return Ratio(static_cast<double>(verdict_agree_), static_cast<double>(images_), 0);
}
double ShadowAccumulator::BoxMatchRate() const {
  return Ratio(static_cast<double>(boxes_matched_), static_cast<double>(box_slots_), 1);
}
double ShadowAccumulator::ScoreShift() const {
  return Ratio(sum_best_shift_, static_cast<double>(images_), 0);
}

Json ShadowAccumulator::State() const {
  return Json{{"counts",
               {{"images", images_},
                {"verdict_agree", verdict_agree_},
                {"live_fail", live_fail_},
                {"candidate_fail", candidate_fail_},
                {"candidate_errors", candidate_errors_},
                {"boxes_live", boxes_live_},
                {"boxes_candidate", boxes_candidate_},
                {"boxes_matched", boxes_matched_},
                {"box_slots", box_slots_},
                {"pairs", boxes_matched_}}},
              {"sums",
               {{"best_shift", sum_best_shift_},
                {"pair_shift", sum_pair_shift_},
                {"live_ms", sum_live_ms_},
                {"candidate_ms", sum_candidate_ms_}}}};
}

Status ShadowAccumulator::FromState(const Json& st, const std::string& where) {
  try {
    const Json& n = st.at("counts");
    const Json& s = st.at("sums");
    ShadowAccumulator a(window_);
    a.images_ = n.at("images").get<int64_t>();
    a.verdict_agree_ = n.at("verdict_agree").get<int64_t>();
    a.live_fail_ = n.at("live_fail").get<int64_t>();
    a.candidate_fail_ = n.at("candidate_fail").get<int64_t>();
    a.candidate_errors_ = n.at("candidate_errors").get<int64_t>();
    a.boxes_live_ = n.at("boxes_live").get<int64_t>();
    a.boxes_candidate_ = n.at("boxes_candidate").get<int64_t>();
    a.boxes_matched_ = n.at("boxes_matched").get<int64_t>();
    a.box_slots_ = n.at("box_slots").get<int64_t>();
    a.sum_best_shift_ = s.at("best_shift").get<double>();
    a.sum_pair_shift_ = s.at("pair_shift").get<double>();
    a.sum_live_ms_ = s.at("live_ms").get<double>();
    a.sum_candidate_ms_ = s.at("candidate_ms").get<double>();
    if (a.images_ < 0 || a.verdict_agree_ > a.images_)
      return InvalidArgument(where + ": inconsistent counts");
    *this = std::move(a);
  } catch (const std::exception& e) {
    return InvalidArgument(where + ": " + e.what());
  }
  return Status::Ok();
}

OrderedJson ShadowAccumulator::Message(const std::string& thing, const std::string& component,
                                       const std::string& live_name,
                                       const std::string& live_version, const ShadowConfig& cand,
                                       const std::string& at) const {
  const Json state = State();
  OrderedJson j;
  j["schema"] = "vqi.inspect.shadow/1";
  j["thing"] = thing;
  j["component"] = component;
  j["live"] = {{"name", live_name}, {"version", live_version}};
  j["candidate"] = {{"component", cand.model_component},
                    {"name", cand.model_name},
                    {"version", cand.model_version.empty() ? "unknown" : cand.model_version},
                    {"file", cand.model_file}};
  j["counts"] = OrderedJson::parse(state["counts"].dump());
  j["sums"] = OrderedJson::parse(state["sums"].dump());
  const double compared = static_cast<double>(images_ - candidate_errors_);
  j["latency_ms"] = {
      {"live_mean", Round(Ratio(sum_live_ms_, static_cast<double>(images_), 0), 1e3)},
      {"candidate_mean", Round(Ratio(sum_candidate_ms_, compared, 0), 1e3)},
      {"live_p95", Round(P95(live_ms_), 1e3)},
      {"candidate_p95", Round(P95(candidate_ms_), 1e3)}};
  j["verdict_agreement"] = Round(VerdictAgreement(), 1e5);
  j["box_match"] = Round(BoxMatchRate(), 1e5);
  j["score_shift"] = Round(ScoreShift(), 1e5);
  j["latency_ratio"] = Round(Ratio(sum_candidate_ms_, sum_live_ms_, 0), 1e4);
  j["at"] = at;
  return j;
}

std::string ShadowRunner::StateKey() const {
  return config_.model_directory + "/" + config_.model_file + "@" + config_.model_version;
}

Result<std::unique_ptr<ShadowRunner>> ShadowRunner::Open(const InspectConfig& c) {
  const ShadowConfig& s = c.shadow;
  if (!s.enabled()) return InvalidArgument("no Shadow configured");
  const std::string path = s.model_directory + "/" + s.model_file;
  // The candidate runs in bf16 when the deployed model does; fp32/int8 are checks of the
  // deployed file, so the candidate runs as its own file says.
  const infer::Precision precision =
      c.precision == "bf16" ? infer::Precision::kBf16 : infer::Precision::kAuto;
  VQI_ASSIGN_OR_RETURN(auto detector,
                       infer::OnnxDetector::Open(path, c.backend, {c.threads, precision}));
  std::unique_ptr<ShadowRunner> r(
      new ShadowRunner(s, c.work_directory + "/shadow-state.json", std::move(detector)));
  if (FileExists(r->state_path_)) {
    auto j = ReadJsonFile(r->state_path_);
    if (!j.ok()) {
      VQI_LOG_WARN("shadow: {}: unreadable, counting from zero: {}", r->state_path_,
                   j.status().ToString());
    } else if (j->value("key", "") == r->StateKey() && j->contains("state")) {
      if (Status st = r->acc_.FromState((*j)["state"], r->state_path_); !st.ok())
        VQI_LOG_WARN("shadow: counting from zero: {}", st.ToString());
    }
  }
  return r;
}

OrderedJson ShadowRunner::Run(const yolo::Image& image, const std::string& path,
                              const std::vector<eval::Detection>& live_detections, float live_best,
                              double live_ms, float score_threshold,
                              const eval::DetectOptions& options) {
  ShadowImage img;
  img.live_fail = !live_detections.empty();
  img.live_best = live_best;
  img.live_ms = live_ms;
  OrderedJson out;
  out["model"] = {{"name", config_.model_name}, {"version", config_.model_version}};
  auto dets = detector_->DetectDecoded(image, path, options);
  if (!dets.ok()) {
    img.candidate_error = true;
    img.boxes.live = static_cast<int>(live_detections.size());
    acc_.Add(img);
    ++since_report_;
    out["error"] = dets.status().ToString();
    return out;
  }
  std::vector<eval::Detection> kept;
  for (const eval::Detection& d : *dets) {
    img.candidate_best = std::max(img.candidate_best, d.score);
    if (d.score >= score_threshold) kept.push_back(d);
  }
  img.candidate_fail = !kept.empty();
  img.candidate_ms = detector_->LastTimes().model_ms;
  img.boxes = MatchDetections(live_detections, kept);
  acc_.Add(img);
  ++since_report_;
  out["verdict"] = img.candidate_fail ? "fail" : "pass";
  out["agree"] = img.candidate_fail == img.live_fail;
  out["best_score"] = Round(img.candidate_best, 1e5);
  out["boxes"] = img.boxes.candidate;
  out["matched"] = img.boxes.matched;
  out["model_ms"] = Round(img.candidate_ms, 1e3);
  return out;
}

OrderedJson ShadowRunner::Report(const std::string& thing, const std::string& component,
                                 const std::string& live_name, const std::string& live_version,
                                 const std::string& at) {
  const Json state{{"key", StateKey()}, {"state", acc_.State()}};
  if (Status s = WriteFileAtomic(state_path_, state.dump()); !s.ok())
    VQI_LOG_WARN("shadow: {} not written (counts restart from the last one after a restart): {}",
                 state_path_, s.ToString());
  return acc_.Message(thing, component, live_name, live_version, config_, at);
}

}  // namespace vqi::inspect
