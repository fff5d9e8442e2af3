#include "vqi/inspect/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "vqi/base/file.h"

namespace vqi::inspect {
namespace {

Json Minimal() { return {{"ImageDirectory", "/cam"}, {"ModelDirectory", "/m/vqi.model.tags"}}; }

TEST(ConfigTest, DefaultsFromTheMinimalConfiguration) {
  auto c = ParseConfig(Minimal(), "cfg.json", "thing-1");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->mode, Mode::kWatch);
  EXPECT_FLOAT_EQ(c->score_threshold, 0.25f);
  EXPECT_FLOAT_EQ(c->uncertain_lo, 0.3f);
  EXPECT_FLOAT_EQ(c->uncertain_hi, 0.6f);
  EXPECT_EQ(c->ModelPath(), "/m/vqi.model.tags/model.onnx");
  EXPECT_EQ(c->model_name, "vqi.model.tags");  // the folder name
  EXPECT_EQ(c->thing_name, "thing-1");
  EXPECT_EQ(c->Topic(), "vqi/v1/results/thing-1/vqi.inspect");
  EXPECT_TRUE(c->drift.stats_file.empty());
}

// Under vqi-agent the model folder is packages/artifacts/<component>/<version>: the defaults are
// the model group and that version; keys set in the configuration win.
TEST(ConfigTest, ModelNameAndVersionDefaultFromTheAgentsComponentFolder) {
  Json j = Minimal();
  j["ModelDirectory"] = "/agent/packages/artifacts/vqi.model.tags/1.2.0/";
  auto c = ParseConfig(j, "cfg.json", "thing-1");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->model_name, "tags");
  EXPECT_EQ(c->model_version, "1.2.0");
  j["ModelDirectory"] = "/agent/packages/artifacts/com.ex.Model/2.0.0-rc.1";
  c = ParseConfig(j, "cfg.json", "thing-1");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->model_name, "com.ex.Model");
  EXPECT_EQ(c->model_version, "2.0.0-rc.1");
  j["ModelName"] = "bolts";
  j["ModelVersion"] = "7";
  c = ParseConfig(j, "cfg.json", "thing-1");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->model_name, "bolts");
  EXPECT_EQ(c->model_version, "7");
  // Not <component>/<version>: the folder's name, no version.
  for (const char* dir : {"/models/tags", "/1.0.0", "models/v1", "/m/bad name/1.0.0"}) {
    j = Minimal();
    j["ModelDirectory"] = dir;
    c = ParseConfig(j, "cfg.json", "thing-1");
    ASSERT_TRUE(c.ok()) << dir << ": " << c.status().ToString();
    const std::string d = dir;
    EXPECT_EQ(c->model_name, d.substr(d.rfind('/') + 1)) << dir;
    EXPECT_EQ(c->model_version, "") << dir;
  }
}

TEST(ConfigTest, ReadsEveryKeyAndNumericStrings) {
  Json j = Minimal();
  j["Mode"] = "interval";
  j["InferenceInterval"] = "60";  // Greengrass configurations often hold numbers as strings
  j["PublishResultsOnTopic"] = "factory/line1";
  j["ScoreThreshold"] = 0.4;
  j["UncertainBand"] = {0.2, 0.5};
  j["Threads"] = 2;
  j["Batch"] = 4;
  j["Precision"] = "bf16";
  j["ModelFile"] = "model.int8.onnx";
  j["ModelVersion"] = "7";
  j["ThingName"] = "from-config";
  j["Drift"] = {{"StatsFile", "s.json"}, {"Window", 100}, {"MinWindow", 20}};
  j["accessControl"] = Json::object();
  std::vector<std::string> unknown;
  auto c = ParseConfig(j, "cfg.json", "env-thing", &unknown);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->mode, Mode::kInterval);
  EXPECT_DOUBLE_EQ(c->inference_interval, 60);
  EXPECT_EQ(c->Topic(), "factory/line1");
  EXPECT_EQ(c->batch, 4);
  EXPECT_EQ(c->threads, 2);
  EXPECT_EQ(c->precision, "bf16");
  EXPECT_EQ(c->thing_name, "from-config");
  EXPECT_EQ(c->drift.window, 100);
  EXPECT_EQ(c->drift.min_window, 20);
  ASSERT_EQ(unknown, std::vector<std::string>{"accessControl"});
}

// Drift is on by default when the model folder ships stats.json (vqi component from-model);
// Drift.StatsFile wins; Drift.Enabled false turns it off.
TEST(ConfigTest, DriftStatisticsDefaultToTheModelFolder) {
  const std::string dir = ::testing::TempDir() + "/config_drift_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  Json j = Minimal();
  j["ModelDirectory"] = dir;
  auto c = ParseConfig(j, "cfg.json");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->DriftStatsPath(), "");  // no stats.json: off
  ASSERT_TRUE(WriteFileAtomic(dir + "/stats.json", "{}").ok());
  EXPECT_EQ(c->DriftStatsPath(), dir + "/stats.json");
  EXPECT_EQ(c->drift.window, 200);
  EXPECT_EQ(c->drift.min_window, 50);
  j["Drift"] = {{"Window", 30}};
  c = ParseConfig(j, "cfg.json");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->DriftStatsPath(), dir + "/stats.json");
  EXPECT_EQ(c->drift.window, 30);
  EXPECT_EQ(c->drift.min_window, 30);
  j["Drift"] = {{"StatsFile", "/elsewhere/s.json"}};
  EXPECT_EQ(ParseConfig(j, "cfg.json")->DriftStatsPath(), "/elsewhere/s.json");
  j["Drift"] = {{"Enabled", false}};
  EXPECT_EQ(ParseConfig(j, "cfg.json")->DriftStatsPath(), "");
  j["Drift"] = {{"Enabled", "false"}, {"StatsFile", "/elsewhere/s.json"}};
  EXPECT_EQ(ParseConfig(j, "cfg.json")->DriftStatsPath(), "");
  std::filesystem::remove_all(dir);
}

struct Bad {
  const char* key;
  Json value;
  const char* expect;  // substring of the error
};

TEST(ConfigTest, RefusesBadValuesNamingTheKey) {
  const std::vector<Bad> cases = {
      {"Mode", "stream", "Mode: 'stream' is not one of: watch, interval"},
      {"InferenceInterval", 0, "InferenceInterval: 0 is out of range"},
      {"InferenceInterval", "soon", "'soon' is not a number"},
      {"ScoreThreshold", 1.5, "ScoreThreshold: 1.5 is out of range [0, 1]"},
      {"UncertainBand", {0.6, 0.3}, "UncertainBand: [0.6,0.3]: need 0 <= low <= high <= 1"},
      {"UncertainBand", 0.5, "must be [low, high]"},
      {"Threads", 0, "Threads: 0 is out of range [1, 256]"},
      {"Threads", 1.5, "Threads: 1.5 is not an integer"},
      {"Batch", 0, "Batch: 0 is out of range [1, 64]"},
      {"Batch", 65, "Batch: 65 is out of range [1, 64]"},
      {"Precision", "fp16", "Precision: 'fp16': accepted values auto, fp32, bf16, int8"},
      {"ModelFile", "../x.onnx", "must be a file name"},
      {"PublishResultsOnTopic", "a/#", "MQTT wildcard"},
      {"MaxImagePixels", 1e12, "MaxImagePixels"},
      {"Drift", {{"Enabled", "yes"}}, "Drift.Enabled: \"yes\" is not one of: true, false"},
      {"Drift", {{"StatsFile", ""}}, "Drift.StatsFile: must not be empty"},
      {"ThingName", "a/b", "ThingName"},
      {"ComponentName", "com.example/x", "is not a component name"},
      {"Drift", {{"StatsFile", "s"}, {"MinWindow", 500}}, "Drift.MinWindow: 500 is out of range"},
  };
  for (const Bad& b : cases) {
    Json j = Minimal();
    j[b.key] = b.value;
    auto c = ParseConfig(j, "cfg.json");
    ASSERT_FALSE(c.ok()) << b.key << " " << b.value.dump();
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(c.status().message().find(b.expect), std::string::npos) << c.status().message();
    EXPECT_EQ(c.status().message().rfind("cfg.json: ", 0), 0u) << c.status().message();
  }
}

TEST(ConfigTest, RequiredKeys) {
  for (const char* key : {"ImageDirectory", "ModelDirectory"}) {
    Json j = Minimal();
    j.erase(key);
    auto c = ParseConfig(j, "cfg.json");
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.status().message().find(std::string(key) + ": required"), std::string::npos);
  }
  EXPECT_FALSE(ParseConfig(Json::array(), "cfg.json").ok());
}

}  // namespace
}  // namespace vqi::inspect
