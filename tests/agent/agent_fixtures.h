// Recipes shared by the vqi-agent end-to-end tests: a "model" component with one artifact per
// version and a "program" with a HARD dependency on it whose run step prints its interpolated
// paths, its configuration and the model artifact's content, then stays up.
#pragma once

#include <string>

#include "agent_harness.h"

namespace vqi::agent_test {

inline std::string ModelRecipe(const std::string& version) {
  return R"({"RecipeFormatVersion": "2020-01-25", "ComponentName": "com.ex.Model",
  "ComponentVersion": ")" +
         version + R"(",
  "Manifests": [{"Platform": {"os": "linux"}, "Artifacts": [{"URI": "s3://bucket/model.bin"}],
                 "Lifecycle": {}}]})";
}

inline std::string ProgramRecipe(const std::string& version,
                                 const std::string& range = ">=1.0.0 <2.0.0") {
  return R"({"RecipeFormatVersion": "2020-01-25", "ComponentName": "com.ex.Program",
  "ComponentVersion": ")" +
         version + R"(",
  "ComponentDependencies": {"com.ex.Model": {"VersionRequirement": ")" +
         range + R"(",
                                            "DependencyType": "HARD"}},
  "ComponentConfiguration": {"DefaultConfiguration": {"greeting": "hello", "level": 1}},
  "Manifests": [{"Platform": {"os": "linux"}, "Lifecycle": {
    "run": "echo start pid=$$ model={com.ex.Model:artifacts:path} work={work:path} cwd=$(pwd) root={kernel:rootPath} greeting={configuration:/greeting}; cat {com.ex.Model:artifacts:path}/model.bin; exec sleep 1000"}}]})";
}

inline void WriteTwoComponents(AgentHarness& h) {
  h.Recipe("model-1.0.0.json", ModelRecipe("1.0.0"));
  h.Recipe("model-1.1.0.json", ModelRecipe("1.1.0"));
  h.Recipe("program-1.0.0.json", ProgramRecipe("1.0.0"));
  h.Artifact("com.ex.Model", "1.0.0", "model.bin", "weights-one\n");
  h.Artifact("com.ex.Model", "1.1.0", "model.bin", "weights-two\n");
}

inline std::string TwoComponentDoc(const std::string& model_version,
                                   const std::string& merge = R"({\"greeting\": \"hi\"})") {
  return R"({"components": {
    "com.ex.Program": {"componentVersion": "1.0.0", "configurationUpdate": {"merge": ")" +
         merge +
         R"("}},
    "com.ex.Model": {"componentVersion": ")" +
         model_version + R"("}}})";
}

}  // namespace vqi::agent_test
