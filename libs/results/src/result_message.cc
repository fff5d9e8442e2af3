// ParseResultMessage: the defensive reading of a device's result (docs/design/results.md).
#include "vqi/results/result_message.h"

#include <cmath>

#include "message_text.h"
#include "vqi/base/json.h"
#include "vqi/transport/topics.h"

namespace vqi::results {
namespace {

namespace topics = transport::topics;

constexpr size_t kMaxStringBytes = 256;

using internal::IsHex64;
using internal::Quote;

// Optional string field (`obj[key]`), at most kMaxStringBytes.
Status OptString(const Json& obj, const char* key, const std::string& path, std::string* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return Status::Ok();
  if (!it->is_string()) return InvalidArgument(path + key + ": expected a string");
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > kMaxStringBytes)
    return InvalidArgument(path + key + ": " + std::to_string(s.size()) + " bytes; at most " +
                           std::to_string(kMaxStringBytes));
  *out = s;
  return Status::Ok();
}

Status OptMs(const Json& obj, const char* key, double* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return Status::Ok();
  if (!it->is_number())
    return InvalidArgument(std::string("timings_ms.") + key + ": expected a number");
  double v = it->get<double>();
  if (!std::isfinite(v) || v < 0 || v > 1e9)
    return InvalidArgument(std::string("timings_ms.") + key + ": " + std::to_string(v) +
                           " is not a duration in [0, 1e9] ms");
  *out = v;
  return Status::Ok();
}

Status ParseFields(const Json& j, const topics::Parsed& t, ParsedResult* r) {
  if (!j.is_object()) return InvalidArgument("expected a JSON object");
  std::string schema;
  VQI_RETURN_IF_ERROR(OptString(j, "schema", "", &schema));
  if (schema != kResultSchema)
    return InvalidArgument("schema: " + Quote(schema) + "; accepted: \"" +
                           std::string(kResultSchema) + "\"");
  std::string thing;
  VQI_RETURN_IF_ERROR(OptString(j, "thing", "", &thing));
  if (thing != t.thing)
    return PermissionDenied("thing: " + Quote(thing) + " is not the topic's thing \"" + t.thing +
                            "\"");
  std::string component;
  VQI_RETURN_IF_ERROR(OptString(j, "component", "", &component));
  if (component != t.component)
    return PermissionDenied("component: " + Quote(component) + " is not the topic's component \"" +
                            t.component + "\"");
  VQI_RETURN_IF_ERROR(OptString(j, "id", "", &r->id));
  const std::string prefix = t.thing + ":";
  if (r->id.rfind(prefix, 0) != 0) {
    if (r->id.empty()) return InvalidArgument("id: missing; expected <thing>:<sha256 hex>");
    return PermissionDenied("id: " + Quote(r->id) + " does not start with the topic's thing \"" +
                            prefix + "\"");
  }
  if (!IsHex64(std::string_view(r->id).substr(prefix.size())))
    return InvalidArgument("id: " + Quote(r->id) +
                           "; expected <thing>:<64 lowercase hex digits (sha256 of the image)>");
  VQI_RETURN_IF_ERROR(OptString(j, "verdict", "", &r->verdict));
  if (r->verdict != "pass" && r->verdict != "fail" && r->verdict != "error")
    return InvalidArgument("verdict: " + Quote(r->verdict) + "; accepted: pass, fail, error");
  if (auto it = j.find("uncertain"); it != j.end() && !it->is_null()) {
    if (!it->is_boolean()) return InvalidArgument("uncertain: expected true or false");
    r->uncertain = it->get<bool>();
  }
  VQI_RETURN_IF_ERROR(OptString(j, "timestamp", "", &r->timestamp));
  if (auto it = j.find("model"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return InvalidArgument("model: expected an object");
    VQI_RETURN_IF_ERROR(OptString(*it, "name", "model.", &r->model_name));
    VQI_RETURN_IF_ERROR(OptString(*it, "version", "model.", &r->model_version));
  }
  if (auto it = j.find("image"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return InvalidArgument("image: expected an object");
    VQI_RETURN_IF_ERROR(OptString(*it, "name", "image.", &r->image_name));
  }
  if (auto it = j.find("drift"); it != j.end() && !it->is_null()) {
    auto d = ParseDriftField(*it, "drift.");
    if (!d.ok()) return d.status();
    r->drift = std::move(*d);
  }
  if (auto it = j.find("timings_ms"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return InvalidArgument("timings_ms: expected an object");
    VQI_RETURN_IF_ERROR(OptMs(*it, "total", &r->total_ms));
    VQI_RETURN_IF_ERROR(OptMs(*it, "model", &r->model_ms));
  }
  return Status::Ok();
}

}  // namespace

Result<DriftField> ParseDriftField(const Json& j, const std::string& path) {
  if (!j.is_object()) return InvalidArgument(path + ": expected an object");
  DriftField d;
  auto score = j.find("score");
  if (score == j.end() || !score->is_number() || !std::isfinite(score->get<double>()) ||
      score->get<double>() < 0 || score->get<double>() > 1e6)
    return InvalidArgument(path + "score: expected a number in [0, 1e6]");
  d.score = score->get<double>();
  auto alert = j.find("alert");
  if (alert == j.end() || !alert->is_boolean())
    return InvalidArgument(path + "alert: expected true or false");
  d.alert = alert->get<bool>();
  VQI_RETURN_IF_ERROR(OptString(j, "feature", path, &d.feature));
  if (auto w = j.find("window"); w != j.end() && !w->is_null()) {
    if (!w->is_number_integer() || w->get<int64_t>() < 0 || w->get<int64_t>() > 100000000)
      return InvalidArgument(path + "window: expected an integer in [0, 1e8]");
    d.window = w->get<int64_t>();
  }
  return d;
}

std::string ThingOfTopic(std::string_view topic) {
  auto p = topics::Parse(topic);
  if (!p.ok() || p->kind != topics::Kind::kResults) return "";
  return p->thing;
}

Result<ParsedResult> ParseResultMessage(std::string_view topic, std::string_view payload,
                                        size_t max_bytes) {
  auto p = topics::Parse(topic);
  if (!p.ok()) return p.status();
  if (p->kind != topics::Kind::kResults || !p->sub.empty())
    return InvalidArgument("topic " + Quote(topic) + " is not vqi/v1/results/<thing>/<component>");
  const std::string where = "results message on " + std::string(topic);
  if (payload.size() > max_bytes)
    return ResourceExhausted(where + ": " + std::to_string(payload.size()) +
                             " bytes; the limit is " + std::to_string(max_bytes));
  auto j = ParseJson(payload, where);
  // Too deep is garbage here (ResourceExhausted from ParseJson would read as "oversized").
  if (!j.ok()) return InvalidArgument(j.status().message());
  ParsedResult r;
  r.thing = p->thing;
  r.component = p->component;
  Status st = ParseFields(*j, *p, &r);
  if (!st.ok()) return Status(st.code(), where + ": " + st.message());
  r.payload = std::string(payload);
  return r;
}

}  // namespace vqi::results
