#include "vqi/inspect/config.h"

#include <sys/stat.h>

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <set>
#include <string_view>

#include "vqi/base/system.h"
#include "vqi/infer/backend.h"
#include "vqi/transport/topics.h"
#include "vqi/yolo/image_header.h"

namespace vqi::inspect {
namespace {

class Reader {
 public:
  Reader(const Json& j, std::string where, std::string prefix)
      : j_(j), where_(std::move(where)), prefix_(std::move(prefix)) {}

  Status Error(const std::string& key, const std::string& what) const {
    return InvalidArgument(where_ + ": " + prefix_ + key + ": " + what);
  }
  bool Has(const std::string& key) {
    seen_.insert(key);
    return j_.contains(key) && !j_[key].is_null();
  }
  Status String(const std::string& key, std::string& out, bool required, bool non_empty = true,
                size_t max_bytes = 4096) {
    if (!Has(key)) return required ? Error(key, "required (a string)") : Status::Ok();
    if (!j_[key].is_string()) return Error(key, "must be a string, got " + j_[key].dump());
    std::string v = j_[key].get<std::string>();
    if (non_empty && v.empty()) return Error(key, "must not be empty");
    if (v.size() > max_bytes)
      return Error(
          key, "is " + std::to_string(v.size()) + " bytes; at most " + std::to_string(max_bytes));
    out = std::move(v);
    return Status::Ok();
  }
  // Numbers may be JSON numbers or numeric strings (Greengrass configurations often hold "60").
  Status Number(const std::string& key, double& out, double lo, double hi) {
    if (!Has(key)) return Status::Ok();
    const Json& v = j_[key];
    double d = 0;
    if (v.is_number()) {
      d = v.get<double>();
    } else if (v.is_string()) {
      const std::string s = v.get<std::string>();
      size_t used = 0;
      try {
        d = std::stod(s, &used);
      } catch (...) {
        used = 0;
      }
      if (used == 0 || used != s.size()) return Error(key, "'" + s + "' is not a number");
    } else {
      return Error(key, "must be a number, got " + v.dump());
    }
    if (!std::isfinite(d) || d < lo || d > hi)
      return Error(key, v.dump() + " is out of range [" + Fmt(lo) + ", " + Fmt(hi) + "]");
    out = d;
    return Status::Ok();
  }
  Status Integer(const std::string& key, int64_t& out, int64_t lo, int64_t hi) {
    double d = static_cast<double>(out);
    VQI_RETURN_IF_ERROR(Number(key, d, static_cast<double>(lo), static_cast<double>(hi)));
    if (d != std::floor(d)) return Error(key, j_[key].dump() + " is not an integer");
    out = static_cast<int64_t>(d);
    return Status::Ok();
  }
  // true/false, or the strings "true"/"false" (Greengrass configurations often hold strings).
  Status Bool(const std::string& key, bool& out) {
    if (!Has(key)) return Status::Ok();
    const Json& v = j_[key];
    if (v.is_boolean()) {
      out = v.get<bool>();
    } else if (v.is_string() &&
               (v.get<std::string>() == "true" || v.get<std::string>() == "false")) {
      out = v.get<std::string>() == "true";
    } else {
      return Error(key, v.dump() + " is not one of: true, false");
    }
    return Status::Ok();
  }
  std::vector<std::string> Unknown() const {
    std::vector<std::string> u;
    if (j_.is_object())
      for (const auto& [k, v] : j_.items())
        if (!seen_.count(k)) u.push_back(prefix_ + k);
    return u;
  }
  static std::string Fmt(double d) {
    char b[32];
    std::snprintf(b, sizeof b, "%g", d);
    return b;
  }

 private:
  const Json& j_;
  std::string where_, prefix_;
  std::set<std::string> seen_;
};

// The defaults of ModelName/ModelVersion from the model folder. Under vqi-agent the folder is
// `packages/artifacts/<component>/<version>` (e.g. `vqi.model.tags/1.0.0`): the name is the
// component's group (`tags`; a component not named `vqi.model.*` gives its whole name) and the
// version is the folder's name. Any other folder: the name is the folder's name, no version.
void DefaultModelIdentity(std::string dir, std::string* name, std::string* version) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  const size_t slash = dir.rfind('/');
  *name = slash == std::string::npos ? dir : dir.substr(slash + 1);
  if (slash == std::string::npos || slash == 0) return;
  const std::string last = *name;
  bool is_version =
      !last.empty() && last.size() <= 64 && std::isdigit(static_cast<unsigned char>(last[0]));
  for (char ch : last)
    is_version = is_version && (std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' ||
                                ch == '-' || ch == '+' || ch == '_');
  std::string parent = dir.substr(0, slash);
  parent = parent.substr(parent.rfind('/') == std::string::npos ? 0 : parent.rfind('/') + 1);
  if (!is_version || !transport::topics::ValidComponentName(parent)) return;
  constexpr std::string_view kModelPrefix = "vqi.model.";
  if (parent.size() > kModelPrefix.size() &&
      parent.compare(0, kModelPrefix.size(), kModelPrefix) == 0)
    parent = parent.substr(kModelPrefix.size());
  *name = parent;
  *version = last;
}

}  // namespace

const char* ModeName(Mode m) { return m == Mode::kWatch ? "watch" : "interval"; }

std::string InspectConfig::DriftStatsPath() const {
  if (!drift.enabled) return "";
  if (!drift.stats_file.empty()) return drift.stats_file;
  const std::string shipped = model_directory + "/" + kModelStatsFile;
  struct stat st;
  return ::stat(shipped.c_str(), &st) == 0 && S_ISREG(st.st_mode) ? shipped : "";
}

std::string InspectConfig::Topic() const {
  if (!topic.empty()) return topic;
  // ParseConfig checked both names; "unknown" when no thing name was given at all.
  return transport::topics::ResultsTopic(thing_name.empty() ? "unknown" : thing_name,
                                         component_name);
}

Result<InspectConfig> ParseConfig(const Json& j, const std::string& where,
                                  const std::string& env_thing, std::vector<std::string>* unknown) {
  if (!j.is_object()) return InvalidArgument(where + ": the configuration must be a JSON object");
  InspectConfig c;
  Reader r(j, where, "");
  VQI_RETURN_IF_ERROR(r.String("ImageDirectory", c.image_directory, true));
  std::string mode = "watch";
  VQI_RETURN_IF_ERROR(r.String("Mode", mode, false));
  if (mode == "watch") {
    c.mode = Mode::kWatch;
  } else if (mode == "interval") {
    c.mode = Mode::kInterval;
  } else {
    return r.Error("Mode", "'" + mode + "' is not one of: watch, interval");
  }
  VQI_RETURN_IF_ERROR(
      r.Number("InferenceInterval", c.inference_interval, 0.001, kMaxInferenceInterval));
  VQI_RETURN_IF_ERROR(r.String("PublishResultsOnTopic", c.topic, false, false, kMaxTopicBytes));
  if (c.topic.find_first_of("#+") != std::string::npos)
    return r.Error("PublishResultsOnTopic", "'" + c.topic + "' holds an MQTT wildcard (# or +)");
  double d = c.score_threshold;
  VQI_RETURN_IF_ERROR(r.Number("ScoreThreshold", d, 0, 1));
  c.score_threshold = static_cast<float>(d);
  if (r.Has("UncertainBand")) {
    const Json& b = j["UncertainBand"];
    if (!b.is_array() || b.size() != 2 || !b[0].is_number() || !b[1].is_number())
      return r.Error("UncertainBand",
                     "must be [low, high] with 0 <= low <= high <= 1, got " + b.dump());
    const double lo = b[0].get<double>(), hi = b[1].get<double>();
    if (!(lo >= 0 && lo <= hi && hi <= 1))
      return r.Error("UncertainBand", b.dump() + ": need 0 <= low <= high <= 1");
    c.uncertain_lo = static_cast<float>(lo);
    c.uncertain_hi = static_cast<float>(hi);
  }
  VQI_RETURN_IF_ERROR(r.String("Backend", c.backend, false));
  VQI_RETURN_IF_ERROR(r.String("Precision", c.precision, false));
  if (auto p = infer::ParsePrecision(c.precision); !p.ok())
    return r.Error("Precision", "'" + c.precision + "': accepted values auto, fp32, bf16, int8");
  int64_t threads = c.threads;
  VQI_RETURN_IF_ERROR(r.Integer("Threads", threads, 1, kMaxThreads));
  c.threads = static_cast<int>(threads);
  int64_t batch = c.batch;
  VQI_RETURN_IF_ERROR(r.Integer("Batch", batch, 1, infer::kMaxBatch));
  c.batch = static_cast<int>(batch);
  VQI_RETURN_IF_ERROR(r.String("ModelDirectory", c.model_directory, true));
  VQI_RETURN_IF_ERROR(r.String("ModelFile", c.model_file, false));
  if (c.model_file.find('/') != std::string::npos || c.model_file == "." || c.model_file == "..")
    return r.Error("ModelFile", "'" + c.model_file + "' must be a file name, not a path");
  DefaultModelIdentity(c.model_directory, &c.model_name, &c.model_version);
  VQI_RETURN_IF_ERROR(r.String("ModelName", c.model_name, false, false, 256));
  VQI_RETURN_IF_ERROR(r.String("ModelVersion", c.model_version, false, false, 256));
  c.thing_name = env_thing;
  VQI_RETURN_IF_ERROR(r.String("ThingName", c.thing_name, false, false, 128));
  if (!c.thing_name.empty())
    if (Status s = transport::topics::CheckThingName(c.thing_name); !s.ok())
      return r.Error("ThingName", s.message());
  VQI_RETURN_IF_ERROR(r.String("ComponentName", c.component_name, false, true, 256));
  if (!transport::topics::ValidComponentName(c.component_name))
    return r.Error("ComponentName",
                   "'" + c.component_name + "' is not a component name (letters, digits, . _ -)");
  VQI_RETURN_IF_ERROR(r.String("WorkDirectory", c.work_directory, false));
  VQI_RETURN_IF_ERROR(r.Integer("MaxImagePixels", c.max_image_pixels, 1, yolo::kMaxImagePixels));
  VQI_RETURN_IF_ERROR(r.Integer("MaxImageBytes", c.max_image_bytes, 1, kMaxImageBytesLimit));
  VQI_RETURN_IF_ERROR(r.Number("SettleSeconds", c.settle_seconds, 0, kMaxSettleSeconds));
  if (r.Has("Drift")) {
    const Json& dj = j["Drift"];
    if (!dj.is_object()) return r.Error("Drift", "must be an object, got " + dj.dump());
    Reader dr(dj, where, "Drift.");
    VQI_RETURN_IF_ERROR(dr.Bool("Enabled", c.drift.enabled));
    VQI_RETURN_IF_ERROR(dr.String("StatsFile", c.drift.stats_file, false));
    int64_t window = c.drift.window, min_window = c.drift.min_window;
    VQI_RETURN_IF_ERROR(dr.Integer("Window", window, 10, kMaxDriftWindow));
    min_window = std::min<int64_t>(min_window, window);
    VQI_RETURN_IF_ERROR(dr.Integer("MinWindow", min_window, 5, window));
    c.drift.window = static_cast<int>(window);
    c.drift.min_window = static_cast<int>(min_window);
    VQI_RETURN_IF_ERROR(dr.Number("Alpha", c.drift.alpha, 1e-9, 0.5));
    if (unknown)
      for (auto& u : dr.Unknown()) unknown->push_back(u);
  }
  if (r.Has("Shadow")) {  // docs/design/shadow.md
    const char* root = std::getenv("VQI_AGENT_ROOT");
    VQI_RETURN_IF_ERROR(
        ParseShadowConfig(j["Shadow"], where, root ? root : "", c.model_file, &c.shadow, unknown));
  }
  if (unknown)
    for (auto& u : r.Unknown()) unknown->push_back(u);
  return c;
}

}  // namespace vqi::inspect
