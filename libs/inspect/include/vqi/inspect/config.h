// The inspection component's configuration: the keys of its Greengrass `ComponentConfiguration`
// (PascalCase, as AWS's sample inference components spell them). docs/design/inspect.md lists
// every key with its range and default.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vqi/base/json.h"
#include "vqi/base/status.h"

namespace vqi::inspect {

enum class Mode { kWatch, kInterval };

// The training statistics a model component ships beside its model (`vqi component
// from-model`): used when Drift.StatsFile is not set.
inline constexpr const char* kModelStatsFile = "stats.json";

struct DriftConfig {
  bool enabled = true;     // Drift.Enabled: false turns the monitor off even with statistics
  std::string stats_file;  // "" = <ModelDirectory>/stats.json when that file exists, else off
  int window = 200;        // images in the sliding window
  int min_window = 50;     // images before a score is reported
  double alpha = 0.001;    // KS significance level for the alert (split over the features)
};

// `Shadow`: a candidate model run beside the live one (docs/design/shadow.md).
struct ShadowConfig {
  std::string model_directory;  // resolved; "" = no shadow
  std::string model_component;  // Shadow.ModelComponent ("" when ModelDirectory was given)
  std::string model_file = "model.onnx";
  std::string model_name, model_version;
  int report_every = 100;  // compared images between two vqi.inspect.shadow/1 messages
  int every = 1;           // the candidate runs on every Nth image (1 = all)
  bool enabled() const { return !model_directory.empty(); }
  bool operator==(const ShadowConfig&) const = default;
};

struct InspectConfig {
  std::string image_directory;
  Mode mode = Mode::kWatch;
  double inference_interval = 1.0;  // seconds, interval mode
  std::string topic;                // PublishResultsOnTopic ("" = the default topic)
  float score_threshold = 0.25f;
  float uncertain_lo = 0.3f, uncertain_hi = 0.6f;
  std::string backend = "auto";
  std::string precision = "auto";  // auto | fp32 | bf16 | int8 (vqi/infer/backend.h Precision)
  int threads = 1;
  // Throughput mode (watch mode): up to `batch` images already queued run through the model
  // at once (infer::OnnxDetector::DetectBatch; the model compiled for this batch, onednn
  // only); fewer queued run one by one. 1 (the default): latency mode, one image at a time.
  int batch = 1;
  std::string model_directory;
  std::string model_file = "model.onnx";
  std::string model_name, model_version;
  std::string thing_name;
  std::string component_name = "vqi.inspect";
  std::string work_directory = ".";
  int64_t max_image_pixels = int64_t{4096} * 4096;
  int64_t max_image_bytes = int64_t{64} << 20;
  double settle_seconds = 2.0;
  DriftConfig drift;
  ShadowConfig shadow;

  std::string ModelPath() const { return model_directory + "/" + model_file; }
  // The drift statistics in use: "" when off (Drift.Enabled false, or no StatsFile and no
  // <ModelDirectory>/stats.json), else Drift.StatsFile or the model's stats.json (checked now).
  std::string DriftStatsPath() const;
  // PublishResultsOnTopic, else vqi/v1/results/<thing>/<component>.
  std::string Topic() const;
};

// Upper bounds of the numeric keys (docs/limits.md, "Inspection").
inline constexpr int64_t kMaxImageBytesLimit = int64_t{1} << 30;
inline constexpr double kMaxInferenceInterval = 86400;
inline constexpr double kMaxSettleSeconds = 60;
inline constexpr int kMaxDriftWindow = 100000;
inline constexpr size_t kMaxTopicBytes = 256;

// Reads a configuration object. `env_thing` fills ThingName when the key is absent (programs
// pass $AWS_IOT_THING_NAME). Errors are InvalidArgument naming the key (`Drift.Window`), the
// value and the accepted values; `where` (a file name) prefixes them. Keys that are not ours are
// returned in `unknown` (a recipe's configuration also holds accessControl and the like).
Result<InspectConfig> ParseConfig(const Json& j, const std::string& where,
                                  const std::string& env_thing = "",
                                  std::vector<std::string>* unknown = nullptr);

const char* ModeName(Mode m);

// Reads the `Shadow` object (src/shadow_config.cc): `ModelDirectory`, or `ModelComponent` +
// `ModelVersion` under vqi-agent (the folder `$VQI_AGENT_ROOT/packages/artifacts/<C>/<V>`, the
// agent's layout), `ModelFile` (default `live_model_file`), `ModelName`, `ReportEvery`
// (1..100000, 100), `Every` (1..100000, 1: the candidate runs on every Nth image). Errors name
// `Shadow.<key>`.
Status ParseShadowConfig(const Json& j, const std::string& where, const std::string& agent_root,
                         const std::string& live_model_file, ShadowConfig* out,
                         std::vector<std::string>* unknown);
inline constexpr int kMaxShadowReportEvery = 100000;

}  // namespace vqi::inspect
