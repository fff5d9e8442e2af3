#include "vqi/inspect/drift_alert.h"

#include <cmath>

#include "vqi/transport/topics.h"

namespace vqi::inspect {

std::string DriftAlertTopic(const std::string& thing, const std::string& component) {
  return transport::topics::DriftTopic(thing.empty() ? "unknown" : thing, component);
}

std::optional<DriftAlertMessage> DriftAlertTracker::Update(const InspectResult& r) {
  if (!r.drift || r.drift->alert == raised_) return std::nullopt;
  raised_ = r.drift->alert;
  const DriftReport& d = *r.drift;
  auto round3 = [](double v) { return std::round(v * 1000) / 1000; };
  OrderedJson scores = OrderedJson::object();
  for (const auto& [feature, score] : d.scores) scores[feature] = round3(score);
  DriftAlertMessage m;
  m.topic = DriftAlertTopic(r.thing, r.component);
  m.id = r.Id() + ":drift";
  OrderedJson& j = m.message;
  j["schema"] = kDriftSchema;
  j["id"] = m.id;
  j["thing"] = r.thing;
  j["component"] = r.component;
  j["state"] = raised_ ? "raised" : "cleared";
  j["alert"] = raised_;
  j["score"] = round3(d.score);
  j["feature"] = d.feature;
  j["window"] = d.window;
  j["scores"] = std::move(scores);
  j["model"] = {{"name", r.model_name}, {"version", r.model_version}};
  j["image"] = {{"id", r.image_id}, {"name", r.image_name}};
  j["timestamp"] = FormatTimestampMs(r.timestamp_ms);
  return m;
}

}  // namespace vqi::inspect
