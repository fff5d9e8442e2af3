// The eval report as the registry reads it, and the mAP50 gate.
#include <cmath>
#include <cstdio>

#include "show.h"
#include "vqi/registry/register.h"

namespace vqi::registry {
namespace {

const char* TypeName(const Json& j) { return j.type_name(); }

Status FieldError(const std::string& file, const std::string& field, const std::string& what) {
  return InvalidArgument("report " + file + ": field " + field + " " + what +
                         " (expected the JSON that `vqi model eval --report` writes)");
}

// A metric in [0, 1].
Status GetUnit(const Json& obj, const std::string& file, const std::string& path, const char* key,
               double* out) {
  const std::string field = path + "." + key;
  if (!obj.contains(key)) return FieldError(file, field, "is missing");
  const Json& v = obj[key];
  if (!v.is_number())
    return FieldError(file, field, std::string("must be a number, not ") + TypeName(v));
  const double d = v.get<double>();
  if (!std::isfinite(d) || d < 0 || d > 1)
    return FieldError(file, field, "is " + v.dump() + ", outside [0, 1]");
  *out = d;
  return Status::Ok();
}

// The shortest of %.2f..%.6f that tells `a` and `b` apart (both printed with it).
std::pair<std::string, std::string> TwoNumbers(double a, double b) {
  char x[32], y[32];
  for (int p = 2; p <= 6; ++p) {
    std::snprintf(x, sizeof x, "%.*f", p, a);
    std::snprintf(y, sizeof y, "%.*f", p, b);
    if (std::string(x) != y) break;
  }
  return {x, y};
}

}  // namespace

Result<ReportSummary> ParseEvalReport(const std::string& text, const std::string& file) {
  VQI_ASSIGN_OR_RETURN(Json j, ParseJson(text, "report " + file));
  if (!j.is_object())
    return InvalidArgument("report " + file + ": expected a JSON object, not " + TypeName(j));
  ReportSummary r;
  if (!j.contains("metrics")) return FieldError(file, "metrics", "is missing");
  const Json& m = j["metrics"];
  if (!m.is_object())
    return FieldError(file, "metrics", std::string("must be an object, not ") + TypeName(m));
  VQI_RETURN_IF_ERROR(GetUnit(m, file, "metrics", "map50", &r.map50));
  double unused = 0;
  for (const char* key : {"map50_95", "precision", "recall"})
    VQI_RETURN_IF_ERROR(GetUnit(m, file, "metrics", key, &unused));
  if (j.contains("failed_images")) {
    const Json& f = j["failed_images"];
    if (!f.is_number_unsigned() && !(f.is_number_integer() && f.get<int64_t>() >= 0))
      return FieldError(file, "failed_images", "must be a count");
    if (f.get<uint64_t>() > 0)
      return FailedPrecondition("report " + file + ": " + f.dump() +
                                " images failed during evaluation and are left out of its "
                                "metrics: fix them and evaluate again");
  }
  // Keep the numbers, drop the curves (they stay in report.json).
  r.metrics = Json::object();
  for (auto it = m.begin(); it != m.end(); ++it) {
    if (it.key() != "per_class") {
      r.metrics[it.key()] = it.value();
      continue;
    }
    if (!it.value().is_array())
      return FieldError(file, "metrics.per_class",
                        std::string("must be an array, not ") + TypeName(it.value()));
    Json classes = Json::array();
    size_t i = 0;
    for (const Json& c : it.value()) {
      if (!c.is_object())
        return FieldError(file, "metrics.per_class[" + std::to_string(i) + "]",
                          "must be an object");
      Json kept = Json::object();
      for (auto f = c.begin(); f != c.end(); ++f)
        if (!f.value().is_object() && f.key() != "ap_per_iou") kept[f.key()] = f.value();
      classes.push_back(std::move(kept));
      ++i;
    }
    r.metrics["per_class"] = std::move(classes);
  }
  if (j.contains("source")) {
    const Json& s = j["source"];
    if (!s.is_object())
      return FieldError(file, "source", std::string("must be an object, not ") + TypeName(s));
    for (const char* key : {"dataset", "split", "part", "split_digest", "images"})
      if (s.contains(key) && !s[key].is_string())
        return FieldError(file, std::string("source.") + key, "must be a string");
    r.source = s;
    if (s.contains("part"))
      r.where = "part " + Show(s["part"].get<std::string>());
    else if (s.contains("images"))
      r.where = "images " + Show(s["images"].get<std::string>());
  }
  return r;
}

Status CheckGate(const ReportSummary& report, const std::string& report_file, double min_map50) {
  if (report.map50 >= min_map50) return Status::Ok();
  const auto [have, gate] = TwoNumbers(report.map50, min_map50);
  std::string where = "report " + report_file;
  if (!report.where.empty()) where += ", " + report.where;
  return FailedPrecondition("model mAP50 " + have + " is below the gate " + gate + " (" + where +
                            "): not registered");
}

}  // namespace vqi::registry
