// vqi.inspect.shadow/1 parsing and the fleet aggregate (docs/design/shadow.md).
#include "vqi/fleet/shadow.h"

#include <algorithm>
#include <cmath>

#include "json_fields.h"

namespace vqi::fleet {

using namespace internal;  // NOLINT

namespace {

constexpr int64_t kMaxCount = int64_t{1} << 50;

Result<const Json*> Object(const Json& doc, const char* key) {
  auto it = doc.find(key);
  if (it == doc.end()) return InvalidArgument(std::string(key) + ": missing");
  VQI_RETURN_IF_ERROR(ExpectObject(*it, key));
  return &*it;
}

Status Name(const Json& obj, const std::string& path, const char* key, bool required,
            std::string* out) {
  VQI_ASSIGN_OR_RETURN(*out, GetString(obj, path, key, required));
  if (out->size() > 256) return InvalidArgument(Join(path, key) + ": longer than 256 bytes");
  return Status::Ok();
}

double Ratio(double num, double den, double none) { return den > 0 ? num / den : none; }

}  // namespace

Result<ShadowStats> ParseShadowMessage(std::string_view payload, const std::string& thing,
                                       const std::string& component) {
  if (payload.size() > kMaxShadowMessageBytes)
    return ResourceExhausted("shadow message of " + std::to_string(payload.size()) +
                             " bytes; the limit is " + std::to_string(kMaxShadowMessageBytes));
  VQI_ASSIGN_OR_RETURN(Json doc, ParseJson(payload, "shadow message", 8));
  VQI_RETURN_IF_ERROR(ExpectObject(doc, ""));
  VQI_ASSIGN_OR_RETURN(std::string schema, GetString(doc, "", "schema", true));
  if (schema != kShadowSchema)
    return InvalidArgument("schema: '" + schema.substr(0, 64) +
                           "'; accepted: " + std::string(kShadowSchema));
  ShadowStats s;
  s.thing = thing;
  s.component = component;
  std::string t, c;
  VQI_RETURN_IF_ERROR(Name(doc, "", "thing", true, &t));
  if (t != thing)
    return InvalidArgument("thing: '" + t + "' is not the topic's thing '" + thing + "'");
  VQI_RETURN_IF_ERROR(Name(doc, "", "component", true, &c));
  if (c != component)
    return InvalidArgument("component: '" + c + "' is not the topic's component '" + component +
                           "'");
  VQI_ASSIGN_OR_RETURN(const Json* live, Object(doc, "live"));
  VQI_RETURN_IF_ERROR(Name(*live, "live", "name", false, &s.live_name));
  VQI_RETURN_IF_ERROR(Name(*live, "live", "version", false, &s.live_version));
  VQI_ASSIGN_OR_RETURN(const Json* cand, Object(doc, "candidate"));
  VQI_RETURN_IF_ERROR(Name(*cand, "candidate", "component", false, &s.candidate_component));
  VQI_RETURN_IF_ERROR(Name(*cand, "candidate", "name", false, &s.candidate_name));
  VQI_RETURN_IF_ERROR(Name(*cand, "candidate", "version", true, &s.candidate_version));
  if (s.candidate_version.empty()) return InvalidArgument("candidate.version: empty");

  VQI_ASSIGN_OR_RETURN(const Json* n, Object(doc, "counts"));
  const std::string np = "counts";
  struct {
    const char* key;
    int64_t* field;
  } ints[] = {{"images", &s.images},
              {"verdict_agree", &s.verdict_agree},
              {"live_fail", &s.live_fail},
              {"candidate_fail", &s.candidate_fail},
              {"candidate_errors", &s.candidate_errors},
              {"boxes_live", &s.boxes_live},
              {"boxes_candidate", &s.boxes_candidate},
              {"boxes_matched", &s.boxes_matched},
              {"box_slots", &s.box_slots},
              {"pairs", &s.pairs}};
  for (auto& f : ints) {
    VQI_ASSIGN_OR_RETURN(*f.field, GetInt(*n, np, f.key, true, 0, 0, kMaxCount));
  }
  auto over = [&](const char* a, int64_t va, const char* b, int64_t vb) -> Status {
    if (va > vb)
      return InvalidArgument("counts." + std::string(a) + ": " + std::to_string(va) +
                             " is more than counts." + b + " (" + std::to_string(vb) + ")");
    return Status::Ok();
  };
  VQI_RETURN_IF_ERROR(over("verdict_agree", s.verdict_agree, "images", s.images));
  VQI_RETURN_IF_ERROR(over("live_fail", s.live_fail, "images", s.images));
  VQI_RETURN_IF_ERROR(over("candidate_fail", s.candidate_fail, "images", s.images));
  VQI_RETURN_IF_ERROR(over("candidate_errors", s.candidate_errors, "images", s.images));
  VQI_RETURN_IF_ERROR(over("boxes_matched", s.boxes_matched, "boxes_live", s.boxes_live));
  VQI_RETURN_IF_ERROR(over("boxes_matched", s.boxes_matched, "boxes_candidate", s.boxes_candidate));
  // box_slots sums max(live, candidate) per image, so it is at least each side's total.
  VQI_RETURN_IF_ERROR(over("boxes_live", s.boxes_live, "box_slots", s.box_slots));
  VQI_RETURN_IF_ERROR(over("boxes_candidate", s.boxes_candidate, "box_slots", s.box_slots));
  VQI_RETURN_IF_ERROR(over("pairs", s.pairs, "boxes_matched", s.boxes_matched));

  VQI_ASSIGN_OR_RETURN(const Json* sums, Object(doc, "sums"));
  VQI_ASSIGN_OR_RETURN(s.sum_best_shift,
                       GetNumber(*sums, "sums", "best_shift", true, 0, -1e15, 1e15));
  VQI_ASSIGN_OR_RETURN(s.sum_pair_shift,
                       GetNumber(*sums, "sums", "pair_shift", true, 0, -1e15, 1e15));
  VQI_ASSIGN_OR_RETURN(s.sum_live_ms, GetNumber(*sums, "sums", "live_ms", true, 0, 0, 1e15));
  VQI_ASSIGN_OR_RETURN(s.sum_candidate_ms,
                       GetNumber(*sums, "sums", "candidate_ms", true, 0, 0, 1e15));
  if (std::fabs(s.sum_best_shift) > static_cast<double>(s.images) + 1e-6)
    return InvalidArgument("sums.best_shift: |" + FormatG(s.sum_best_shift) +
                           "| is more than counts.images (scores are within [0, 1])");
  if (auto it = doc.find("latency_ms"); it != doc.end()) {
    VQI_RETURN_IF_ERROR(ExpectObject(*it, "latency_ms"));
    VQI_ASSIGN_OR_RETURN(s.live_p95_ms, GetNumber(*it, "latency_ms", "live_p95", false, 0, 0, 1e9));
    VQI_ASSIGN_OR_RETURN(s.candidate_p95_ms,
                         GetNumber(*it, "latency_ms", "candidate_p95", false, 0, 0, 1e9));
  }
  VQI_RETURN_IF_ERROR(Name(doc, "", "at", false, &s.at));
  return s;
}

double ShadowAggregate::VerdictAgreement() const {
  return Ratio(static_cast<double>(verdict_agree), static_cast<double>(images), 0);
}
double ShadowAggregate::BoxMatch() const {
  return Ratio(static_cast<double>(boxes_matched), static_cast<double>(box_slots), 1);
}
double ShadowAggregate::ScoreShift() const {
  return Ratio(sum_best_shift, static_cast<double>(images), 0);
}
double ShadowAggregate::LiveLatencyMs() const {
  return Ratio(sum_live_ms, static_cast<double>(images), 0);
}
double ShadowAggregate::CandidateLatencyMs() const {  // images the candidate ran on
  return Ratio(sum_candidate_ms, static_cast<double>(images - candidate_errors), 0);
}
double ShadowAggregate::LatencyRatio() const { return Ratio(sum_candidate_ms, sum_live_ms, 0); }

Json ShadowAggregate::ToJson() const {
  auto round = [](double v) { return std::round(v * 1e5) / 1e5; };
  return Json{{"devices", devices},
              {"images", images},
              {"verdict_agreement", round(VerdictAgreement())},
              {"box_match", round(BoxMatch())},
              {"score_shift", round(ScoreShift())},
              {"latency_ratio", round(LatencyRatio())},
              {"live_latency_ms", round(LiveLatencyMs())},
              {"candidate_latency_ms", round(CandidateLatencyMs())},
              {"candidate_errors", candidate_errors},
              {"boxes_live", boxes_live},
              {"boxes_candidate", boxes_candidate},
              {"boxes_matched", boxes_matched}};
}

ShadowAggregate AggregateShadow(const std::vector<ShadowStats>& stats) {
  ShadowAggregate a;
  for (const ShadowStats& s : stats) {
    if (s.images <= 0) continue;
    ++a.devices;
    a.images += s.images;
    a.verdict_agree += s.verdict_agree;
    a.candidate_errors += s.candidate_errors;
    a.boxes_live += s.boxes_live;
    a.boxes_candidate += s.boxes_candidate;
    a.boxes_matched += s.boxes_matched;
    a.box_slots += s.box_slots;
    a.sum_best_shift += s.sum_best_shift;
    a.sum_live_ms += s.sum_live_ms;
    a.sum_candidate_ms += s.sum_candidate_ms;
  }
  return a;
}

Json ShadowStatsToJson(const ShadowStats& s) {
  ShadowAggregate one = AggregateShadow({s});
  Json j = one.ToJson();
  j.erase("devices");
  j["thing"] = s.thing;
  j["component"] = s.component;
  j["live"] = {{"name", s.live_name}, {"version", s.live_version}};
  j["candidate"] = {{"component", s.candidate_component},
                    {"name", s.candidate_name},
                    {"version", s.candidate_version}};
  j["live_p95_ms"] = s.live_p95_ms;
  j["candidate_p95_ms"] = s.candidate_p95_ms;
  j["at"] = s.at;
  return j;
}

}  // namespace vqi::fleet
