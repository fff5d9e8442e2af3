// The shipped inspection recipe (components/recipes/vqi-inspect.yaml) through the real `vqi`:
// packaged with `vqi component create` beside a model component made by `vqi component
// from-model`, resolved and planned as vqi-agent plans it. The run step points vqi-inspect at
// the model component's artifacts, its default configuration is one vqi-inspect accepts, and its
// accessControl grants exactly the thing's own result and upload topics.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "run_vqi.h"
#include "vqi/agent/ipc_access.h"
#include "vqi/agent/plan.h"
#include "vqi/base/file.h"
#include "vqi/component/recipe.h"
#include "vqi/inspect/config.h"

namespace vqi {
namespace {

namespace fs = std::filesystem;
namespace acc = agent::ipc_access;

class InspectRecipeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t = (fs::temp_directory_path() / "vqi-inspect-recipe-XXXXXX").string();
    ASSERT_NE(::mkdtemp(t.data()), nullptr);
    dir_ = t;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  testing::CmdResult Vqi(const std::string& args) {
    return testing::RunVqi("--home '" + dir_ + "/home' " + args);
  }
  // The recipe as stored (canonical JSON), parsed.
  component::Recipe Stored(const std::string& name) {
    auto show = Vqi("component show " + name + " --json");
    EXPECT_EQ(show.code, 0) << show.out;
    auto j = ParseJson(show.out);
    EXPECT_TRUE(j.ok()) << show.out;
    auto r = component::RecipeFromJson((*j)["recipe"], name);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : component::Recipe{};
  }
  std::string dir_;
};

TEST_F(InspectRecipeTest, PackagedRecipeRunsVqiInspectOnTheModelComponentsArtifacts) {
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/model.onnx", "onnx bytes of the approved model").ok());
  Json report = {{"model", dir_ + "/model.onnx"},
                 {"source",
                  {{"dataset", "metal"},
                   {"split", "s1"},
                   {"part", "test"},
                   {"split_digest", std::string(64, 'a')}}},
                 {"failed_images", 0},
                 {"metrics",
                  {{"images", 20},
                   {"map50", 0.9},
                   {"map75", 0.5},
                   {"map50_95", 0.6},
                   {"precision", 0.8},
                   {"recall", 0.7},
                   {"f1", 0.75},
                   {"per_class", Json::array()}}}};
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/report.json", report.dump()).ok());
  for (const std::string& cmd :
       {std::string("key create k"),
        "model register --group tags --model " + dir_ + "/model.onnx --report " + dir_ +
            "/report.json --by alice",
        std::string("model approve --group tags --version 1 --by bob"),
        std::string("component from-model --group tags --key k"),
        "component create --recipe " + std::string(VQI_SOURCE_DIR) +
            "/components/recipes/vqi-inspect.yaml --artifact " + VQI_INSPECT_BIN +
            " --var COMPONENT_VERSION=1.0.0 --var MODEL_GROUP=tags --key k"}) {
    auto r = Vqi(cmd);
    ASSERT_EQ(r.code, 0) << cmd << "\n" << r.out;
  }
  ASSERT_EQ(Vqi("component verify vqi.inspect@1.0.0").code, 0);
  const component::Recipe inspect = Stored("vqi.inspect");
  const component::Recipe model = Stored("vqi.model.tags");
  EXPECT_EQ(inspect.name, "vqi.inspect");
  EXPECT_EQ(inspect.version, "1.0.0");

  // Resolution as for a local deployment of vqi.inspect alone: the model comes as its HARD
  // dependency.
  agent::Deployment roots;
  roots.components["vqi.inspect"].version = "1.0.0";
  auto full = agent::ResolveLocal(roots, {inspect, model});
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  ASSERT_EQ(full->components.count("vqi.model.tags"), 1u);
  EXPECT_EQ(full->components.at("vqi.model.tags").version, "1.0.0");

  agent::ComponentSet set;
  for (const component::Recipe* r : {&inspect, &model})
    set[r->name] = {r->version, r->default_configuration, component::RecipeToJson(*r)};
  agent::PlanOptions po;
  po.root = "/agent";
  po.thing_name = "dev-a";
  auto plan = agent::BuildPlan(set, po, nullptr);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->components.size(), 2u);
  EXPECT_EQ(plan->components[0].name, "vqi.model.tags");  // started first
  const agent::PlannedComponent* pc = plan->Find("vqi.inspect");
  ASSERT_NE(pc, nullptr);
  EXPECT_EQ(pc->hard_dependencies, std::vector<std::string>{"vqi.model.tags"});
  ASSERT_EQ(pc->lifecycle.steps.count("run"), 1u);
  EXPECT_EQ(pc->lifecycle.steps.at("run").script,
            "exec /agent/packages/artifacts/vqi.inspect/1.0.0/vqi-inspect --ipc "
            "--model-directory /agent/packages/artifacts/vqi.model.tags/1.0.0 "
            "--model-name tags --model-version 1");
  ASSERT_EQ(pc->manifest.artifacts.size(), 1u);
  EXPECT_EQ(pc->manifest.artifacts[0].execute, component::Permission::kAll);

  // The default configuration is one vqi-inspect accepts (with the command line's ModelDirectory),
  // and nothing in it is unknown to vqi-inspect but accessControl.
  Json c = pc->configuration;
  c["ModelDirectory"] = "/agent/packages/artifacts/vqi.model.tags/1.0.0";
  std::vector<std::string> unknown;
  auto config = inspect::ParseConfig(c, "DefaultConfiguration", "dev-a", &unknown);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(unknown, std::vector<std::string>{"accessControl"});
  EXPECT_EQ(config->Topic(), "vqi/v1/results/dev-a/vqi.inspect");

  // accessControl: the agent's matcher grants the thing's own results and uploads, nothing else.
  const Json& ac = pc->configuration["accessControl"];
  auto allowed = [&](const std::string& topic) {
    return acc::Allowed(ac, acc::kMqttProxy, acc::kPublishToIoTCore, topic, "dev-a");
  };
  EXPECT_TRUE(allowed("vqi/v1/results/dev-a/vqi.inspect"));
  EXPECT_TRUE(allowed("vqi/v1/results/dev-a/vqi.inspect/upload"));
  EXPECT_FALSE(allowed("vqi/v1/results/dev-b/vqi.inspect"));
  EXPECT_FALSE(allowed("vqi/v1/results/dev-a/vqi.other"));
  EXPECT_FALSE(allowed("vqi/v1/things/dev-a/status"));
  EXPECT_FALSE(acc::Allowed(ac, acc::kPubSub, acc::kPublishToTopic, "camera/x", "dev-a"));
}

}  // namespace
}  // namespace vqi
