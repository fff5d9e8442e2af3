// The crash campaign's world (agent_crash_campaign.cc): the component sets it moves a device
// between, their recipes and artifacts, and the binaries it runs.
#pragma once

#include <map>
#include <set>
#include <string>

#include "agent_harness.h"

namespace vqi::agent_test {

// VQI_AGENT_BIN in the environment overrides the built one (the bench script runs a snapshot).
inline const char* AgentBin() {
  const char* b = std::getenv("VQI_AGENT_BIN");
  return b && *b ? b : VQI_AGENT_BIN;
}

// The LD_PRELOAD shim (crash_shim.cc) that kills the agent at its N-th file-system mutation.
inline const char* ShimPath() {
  const char* b = std::getenv("VQI_AGENT_CRASH_SHIM");
  return b && *b ? b : VQI_AGENT_CRASH_SHIM;
}

// ---------------------------------------------------------------- the sets

struct Want {
  std::string version;
  std::string greeting;  // com.ex.Program only
  bool runs = true;      // has a run step (one process)
};
struct SetDef {
  std::string name;
  std::map<std::string, Want> comps;
  bool fails = false;  // its program exits 5: always rolled back
};

inline const std::vector<SetDef>& Sets() {
  static const std::vector<SetDef> sets = {
      {"A",
       {{"com.ex.Model", {"1.0.0", "", false}},
        {"com.ex.Program", {"1.0.0", "a"}},
        {"com.ex.Sidecar", {"1.0.0", ""}},
        {"com.ex.OldOnly", {"1.0.0", ""}}}},
      {"B",
       {{"com.ex.Model", {"1.1.0", "", false}},
        {"com.ex.Program", {"1.1.0", "b"}},
        {"com.ex.Sidecar", {"1.1.0", ""}},
        {"com.ex.NewOnly", {"1.0.0", ""}}}},
      {"D",
       {{"com.ex.Model", {"1.2.0", "", false}},
        {"com.ex.Program", {"1.0.0", "d"}},
        {"com.ex.Sidecar", {"1.1.0", ""}}}},
      {"F",
       {{"com.ex.Model", {"1.1.0", "", false}},
        {"com.ex.Program", {"2.0.0", "f"}},
        {"com.ex.Sidecar", {"1.0.0", ""}},
        {"com.ex.NewOnly", {"1.0.0", ""}}},
       true},
  };
  return sets;
}

inline std::string DocOf(const SetDef& s) {
  Json comps = Json::object();
  for (const auto& [name, w] : s.comps) {
    if (name == "com.ex.Model") continue;  // resolved as the program's HARD dependency
    comps[name] = {{"componentVersion", w.version}};
    if (!w.greeting.empty())
      comps[name]["configurationUpdate"] = {{"merge", Json{{"greeting", w.greeting}}.dump()}};
  }
  // The program's range admits every model version: name the set's one explicitly.
  comps["com.ex.Model"] = {{"componentVersion", s.comps.at("com.ex.Model").version}};
  return Json{{"components", comps}}.dump();
}

inline std::string ArtifactText(const std::string& name, const std::string& version) {
  return name + " " + version + " bytes\n";
}
inline std::string ArtifactFile(const std::string& name) { return name.substr(7) + ".bin"; }

inline std::string Recipe(const std::string& name, const std::string& version) {
  Json r = {{"RecipeFormatVersion", "2020-01-25"},
            {"ComponentName", name},
            {"ComponentVersion", version}};
  Json lifecycle = Json::object();
  if (name == "com.ex.Program") {
    r["ComponentDependencies"] = {
        {"com.ex.Model", {{"VersionRequirement", ">=1.0.0 <2.0.0"}, {"DependencyType", "HARD"}}}};
    r["ComponentConfiguration"] = {{"DefaultConfiguration", {{"greeting", "hello"}}}};
    lifecycle["Setenv"] = {{"VQI_T_MODEL", "{com.ex.Model:artifacts:path}"},
                           {"VQI_T_GREETING", "{configuration:/greeting}"}};
    if (version == "2.0.0") {
      lifecycle["install"] = "sleep 0.05";
      lifecycle["run"] = "exit 5";
    } else {
      lifecycle["run"] = "test -s \"$VQI_T_MODEL/Model.bin\" || exit 7; exec sleep 100000";
    }
  } else if (name != "com.ex.Model") {
    lifecycle["run"] = "exec sleep 100000";
  }
  r["Manifests"] =
      Json::array({{{"Platform", {{"os", "linux"}}},
                    {"Artifacts", Json::array({{{"URI", "s3://bucket/" + ArtifactFile(name)}}})},
                    {"Lifecycle", lifecycle}}});
  return r.dump(1);
}

inline void WriteCampaignComponents(AgentHarness& h) {
  std::set<std::pair<std::string, std::string>> all;
  for (const auto& s : Sets())
    for (const auto& [name, w] : s.comps) all.insert({name, w.version});
  for (const auto& [name, version] : all) {
    h.Recipe(name + "-" + version + ".json", Recipe(name, version));
    h.Artifact(name, version, ArtifactFile(name), ArtifactText(name, version));
  }
}

}  // namespace vqi::agent_test
