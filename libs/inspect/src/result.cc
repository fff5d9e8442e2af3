#include "vqi/inspect/result.h"

#include <cmath>
#include <cstdio>
#include <ctime>

namespace vqi::inspect {
namespace {

// As `vqi model predict` prints them (libs/eval's predictions entries).
double Round3(float v) { return std::round(static_cast<double>(v) * 1000.0) / 1000.0; }
double Round5(float v) { return std::round(static_cast<double>(v) * 1e5) / 1e5; }
double RoundMs(double v) { return std::round(v * 1000.0) / 1000.0; }

std::string ScoreString(float v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.5f", Round5(v));
  return b;
}

}  // namespace

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kPass:
      return "pass";
    case Verdict::kFail:
      return "fail";
    case Verdict::kError:
      return "error";
  }
  return "error";
}

std::string FormatTimestampMs(int64_t unix_ms) {
  const time_t secs = static_cast<time_t>(unix_ms / 1000);
  struct tm t;
  gmtime_r(&secs, &t);
  char b[64];
  std::snprintf(b, sizeof b, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", t.tm_year + 1900, t.tm_mon + 1,
                t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, static_cast<int>(unix_ms % 1000));
  return b;
}

std::string InspectResult::Id() const {
  return thing + ":" + (image_id.empty() ? "name:" + image_name : image_id);
}

OrderedJson InspectResult::ToJson() const {
  auto class_name = [&](int id) {
    return id >= 0 && id < static_cast<int>(class_names.size()) ? class_names[id]
                                                                : std::to_string(id);
  };
  OrderedJson j;
  j["schema"] = "vqi.inspect.result/1";
  j["id"] = Id();
  j["thing"] = thing;
  j["component"] = component;
  j["topic"] = topic;
  j["model"] = {
      {"name", model_name}, {"version", model_version}, {"file", model_file}, {"backend", backend}};
  j["image"] = {{"id", image_id},
                {"name", image_name},
                {"width", width},
                {"height", height},
                {"bytes", bytes}};
  j["timestamp"] = FormatTimestampMs(timestamp_ms);
  j["verdict"] = VerdictName(verdict);
  j["uncertain"] = uncertain;
  j["best_score"] = Round5(best_score);
  OrderedJson dets = OrderedJson::array(), aws = OrderedJson::array();
  for (const eval::Detection& d : detections) {
    OrderedJson o;
    o["class"] = class_name(d.class_id);
    o["class_id"] = d.class_id;
    o["confidence"] = Round5(d.score);
    o["box"] = {Round3(d.x1), Round3(d.y1), Round3(d.x2), Round3(d.y2)};
    dets.push_back(std::move(o));
    char boundaries[128];
    std::snprintf(boundaries, sizeof boundaries, "[%.3f %.3f %.3f %.3f]", Round3(d.x1),
                  Round3(d.y1), Round3(d.x2), Round3(d.y2));
    aws.push_back({{"Label", class_name(d.class_id)},
                   {"Score", ScoreString(d.score)},
                   {"Boundaries", boundaries}});
  }
  j["detections"] = std::move(dets);
  j["timings_ms"] = {{"queue", RoundMs(timings.queue_ms)},   {"read", RoundMs(timings.read_ms)},
                     {"decode", RoundMs(timings.decode_ms)}, {"pre", RoundMs(timings.pre_ms)},
                     {"model", RoundMs(timings.model_ms)},   {"post", RoundMs(timings.post_ms)},
                     {"total", RoundMs(timings.total_ms)}};
  if (drift)
    j["drift"] = {{"score", std::round(drift->score * 1000) / 1000},
                  {"alert", drift->alert},
                  {"feature", drift->feature},
                  {"window", drift->window}};
  if (shadow) j["shadow"] = *shadow;
  if (verdict == Verdict::kError)
    j["error"] = {{"code", StatusCodeName(error.code())}, {"message", error.message()}};
  // The keys AWS's sample inference components publish (docs/design/inspect.md).
  j["image_name"] = image_name;
  j["inference-type"] = "object-detection";
  char desc[96];
  std::snprintf(desc, sizeof desc, "Detections with score %g or above", score_threshold);
  j["inference-description"] = desc;
  j["inference-results"] = std::move(aws);
  return j;
}

}  // namespace vqi::inspect
