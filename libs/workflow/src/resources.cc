// The resource registry and its built-in handlers (see resources.h).
#include "vqi/workflow/resources.h"

#include "vqi/base/json.h"

namespace vqi::workflow {

TaskOutcome RunExecResource(const TaskRequest& req);

void ResourceRegistry::Register(const std::string& prefix, TaskHandler handler) {
  std::lock_guard<std::mutex> lock(mu_);
  handlers_[prefix] = std::move(handler);
}

const TaskHandler* ResourceRegistry::Find(const std::string& resource) const {
  std::lock_guard<std::mutex> lock(mu_);
  const TaskHandler* best = nullptr;
  size_t best_len = 0;
  for (const auto& [prefix, h] : handlers_) {
    bool match = resource == prefix || (resource.size() > prefix.size() &&
                                        resource.compare(0, prefix.size(), prefix) == 0 &&
                                        resource[prefix.size()] == ':');
    if (match && prefix.size() >= best_len) {
      best = &h;
      best_len = prefix.size();
    }
  }
  return best;
}

void RegisterBuiltins(ResourceRegistry& registry) {
  registry.Register("vqi:exec", RunExecResource);
}

ResourceRegistry& DefaultResources() {
  static ResourceRegistry* r = [] {
    auto* reg = new ResourceRegistry();
    RegisterBuiltins(*reg);
    return reg;
  }();
  return *r;
}

}  // namespace vqi::workflow
