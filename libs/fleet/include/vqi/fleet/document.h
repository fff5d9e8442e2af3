// A Greengrass v2 `CreateDeployment` request body, accepted unchanged, plus vqi's
// `vqiRolloutConfig` extension (docs/design/fleet.md). Parsing is strict: every error names the
// JSON path (`components.com.acme.Model.configurationUpdate.merge: ...`), unknown keys are
// refused naming the key. Thread-compatible value types.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vqi/base/json.h"
#include "vqi/base/status.h"
#include "vqi/fleet/desired_state.h"

namespace vqi::fleet {

// Largest deployment document accepted (docs/limits.md, "Fleet").
inline constexpr size_t kMaxDocumentBytes = 1 << 20;
inline constexpr size_t kMaxDocumentComponents = 256;
inline constexpr size_t kMaxAbortCriteria = 16;

struct DocumentComponent {
  std::string version;  // componentVersion (exact)
  std::optional<ConfigurationUpdate> configuration_update;
  Json run_with;  // kept as given (null when absent)
};

struct RateIncreaseCriteria {
  int64_t notified_things = 0;   // numberOfNotifiedThings (0 = unset)
  int64_t succeeded_things = 0;  // numberOfSucceededThings (0 = unset)
};

struct AbortCriterion {
  std::string failure_type;  // FAILED | REJECTED | TIMED_OUT | ALL
  std::string action = "CANCEL";
  double threshold_percentage = 0;
  int64_t min_executed_things = 1;
};

struct KpiConfig {
  std::string metric;
  bool lower_is_better = true;  // direction LOWER_IS_BETTER | HIGHER_IS_BETTER
  double max_regression_percent = 0;
  int64_t window = 100;  // samples the device averages before and after
  int64_t min_reporting_things = 1;
};

struct RolloutConfig {
  // exponentialRate (absent: base = maximumPerMinute, factor 1).
  bool exponential = false;
  int64_t base_rate_per_minute = 0;
  double increment_factor = 1;
  RateIncreaseCriteria criteria;
  int64_t maximum_per_minute = 1000;
  std::vector<AbortCriterion> abort;
  int64_t in_progress_timeout_minutes = 0;  // 0 = none
  std::optional<KpiConfig> kpi;
};

// vqi extension `vqiShadow` (docs/design/shadow.md): a candidate version of a model component
// that the inspection component runs beside the live one; `promoteWhen` (optional) is the rule
// (promote_rule.h) under which the fleet controller promotes it.
struct ShadowConfig {
  std::string component;                  // a component of the document (the live model)
  std::string version;                    // the candidate version (not the live one)
  std::string inspector = "vqi.inspect";  // the document's component that runs the models
  std::string promote_when;               // "" = never promoted automatically
};

struct DeploymentDocument {
  std::string deployment_name;
  std::map<std::string, DocumentComponent> components;
  std::string failure_handling_policy = "ROLLBACK";
  int64_t component_update_timeout_seconds = 60;
  std::string component_update_action = "NOTIFY_COMPONENTS";
  int64_t configuration_validation_timeout_seconds = 30;
  RolloutConfig rollout;
  std::optional<ShadowConfig> shadow;
  Json promotion;  // vqiPromotion (written by the controller when it promoted), null if absent
};

// Parses `text` (from `origin`, which starts messages only for JSON syntax errors).
// InvalidArgument naming the path; ResourceExhausted past the limits above.
Result<DeploymentDocument> ParseDeploymentDocument(std::string_view text,
                                                   std::string_view origin = "document");

}  // namespace vqi::fleet
