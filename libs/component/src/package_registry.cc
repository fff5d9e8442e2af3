// ComponentFromModel (registry → model component) and ComponentsSource (store gc/verify).
#include "vqi/component/from_model.h"

namespace vqi::component {
namespace {

// The component store seen by `vqi store gc|verify`.
class ComponentReferences : public registry::ReferenceSource {
 public:
  explicit ComponentReferences(std::unique_ptr<Store> store) : store_(std::move(store)) {}
  std::string SourceName() const override { return "components"; }
  Result<std::set<std::string>> ReferencedDigests() override { return store_->ReferencedDigests(); }

 private:
  std::unique_ptr<Store> store_;
};

}  // namespace

Result<PutOutcome> ComponentFromModel(const PackageEnv& env, registry::Store& registry,
                                      const std::string& group, const std::string& key_name,
                                      const std::string& publisher) {
  return ComponentFromModel(env, registry, group, key_name, publisher, FromModelStats{});
}

Result<PutOutcome> ComponentFromModel(const PackageEnv& env, registry::Store& registry,
                                      const std::string& group, const std::string& key_name,
                                      const std::string& publisher, const FromModelStats& stats) {
  VQI_ASSIGN_OR_RETURN(registry::ModelVersion v, registry.LatestApproved(group));
  ModelToPackage m;
  m.group = v.group;
  m.version = v.version;
  m.metrics = v.metrics;
  for (const registry::ArtifactRef& a : v.artifacts)
    m.artifacts.push_back({a.name, "", a.digest, a.size, "NONE"});
  m.stats_file = stats.file;
  if (stats.file.empty() && stats.compute)
    m.compute_stats = [&stats, v] { return stats.compute(v); };
  return PackageModel(env, m, key_name, publisher.empty() ? key_name : publisher);
}

registry::KnownSource ComponentsSource() {
  return {"components", "components/components.db",
          [](const std::string& path) -> Result<std::unique_ptr<registry::ReferenceSource>> {
            VQI_ASSIGN_OR_RETURN(std::unique_ptr<Store> s, OpenSqliteStore(path, {false, nullptr}));
            return std::unique_ptr<registry::ReferenceSource>(
                std::make_unique<ComponentReferences>(std::move(s)));
          }};
}

}  // namespace vqi::component
