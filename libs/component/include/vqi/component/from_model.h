// The registry side of packaging: `vqi component from-model` and the component store as a
// reference source for `vqi store verify|gc` (docs/design/component_store.md).
#pragma once

#include <functional>
#include <string>

#include "vqi/component/package.h"
#include "vqi/registry/artifacts.h"
#include "vqi/registry/store.h"

namespace vqi::component {

// The latest Approved version of registry group `group` (NotFound naming the group's statuses
// when none is), packaged by PackageModel as the next version of vqi.model.<group>, signed with
// `key_name`; `publisher` "" means the key name. Idempotent (created = false when the latest
// component already packages that model version).
Result<PutOutcome> ComponentFromModel(const PackageEnv& env, registry::Store& registry,
                                      const std::string& group, const std::string& key_name,
                                      const std::string& publisher = "");

// How from-model finds the drift statistics (stats.json) it packages beside the model.
struct FromModelStats {
  std::string file;  // a vqi.inspect.stats/1 file to package (`--stats FILE`)
  // Else, called only when a new version is created, with the approved version (its lineage
  // names the dataset split): the path of the statistics to package, or "" for none. The CLI
  // computes them (libs/inspect) over the split's train part with the model's outputs.
  std::function<Result<std::string>(const registry::ModelVersion&)> compute;
};

// As above, with the statistics.
Result<PutOutcome> ComponentFromModel(const PackageEnv& env, registry::Store& registry,
                                      const std::string& group, const std::string& key_name,
                                      const std::string& publisher, const FromModelStats& stats);

// The component store as a `vqi store` reference source: "components",
// components/components.db, opened read-only in spirit (create = false).
registry::KnownSource ComponentsSource();

}  // namespace vqi::component
