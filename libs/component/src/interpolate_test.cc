// Every Greengrass recipe variable, and the refusals.
#include "vqi/component/interpolate.h"

#include <gtest/gtest.h>

namespace vqi::component {
namespace {

InterpolationContext Context() {
  InterpolationContext c;
  c.component_name = "com.example.Inference";
  c.kernel_root_path = "/var/lib/vqi-agent";
  c.thing_name = "line-3-camera";
  c.self = GreengrassLayout(c.kernel_root_path, "com.example.Inference", "1.2.0");
  c.self.configuration = {{"topic", "vqi/v1/results"},
                          {"threshold", 0.25},
                          {"camera", {{"folder", "/srv/camera"}, {"fps", 5}}},
                          {"tags", {"a", "b"}},
                          {"a/b", "slash"}};
  ComponentContext model = GreengrassLayout(c.kernel_root_path, "com.example.Model", "0.3.1");
  model.configuration = {{"file", "model.onnx"}};
  c.dependencies["com.example.Model"] = model;
  return c;
}

std::string Fill(std::string_view text) {
  auto r = Interpolate(text, Context(), "Manifests[0].Lifecycle.run.Script");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : "";
}

std::string Error(std::string_view text) {
  auto r = Interpolate(text, Context(), "Manifests[0].Lifecycle.run.Script");
  EXPECT_FALSE(r.ok()) << text;
  return r.ok() ? "" : r.status().message();
}

#define EXPECT_HAS(haystack, needle) \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << (haystack)

TEST(InterpolateTest, GreengrassLayout) {
  const ComponentContext c = GreengrassLayout("/gg/", "com.x.Y", "1.0.0");
  EXPECT_EQ(c.artifacts_path, "/gg/packages/artifacts/com.x.Y/1.0.0");
  EXPECT_EQ(c.decompressed_path, "/gg/packages/artifacts-unarchived/com.x.Y/1.0.0");
  EXPECT_EQ(c.work_path, "/gg/work/com.x.Y");
  EXPECT_EQ(UnarchivedDir(c, "inference.zip"), c.decompressed_path + "/inference");
  EXPECT_EQ(UnarchivedDir(c, "data.ZIP"), c.decompressed_path + "/data");
  EXPECT_EQ(UnarchivedDir(c, "x.tar"), c.decompressed_path + "/x.tar");
}

TEST(InterpolateTest, OwnNamespaces) {
  const std::string root = "/var/lib/vqi-agent";
  EXPECT_EQ(Fill("{artifacts:path}/m.onnx"),
            root + "/packages/artifacts/com.example.Inference/1.2.0/m.onnx");
  EXPECT_EQ(Fill("{artifacts:decompressedPath}/inference/main.py"),
            root + "/packages/artifacts-unarchived/com.example.Inference/1.2.0/inference/main.py");
  EXPECT_EQ(Fill("cd {work:path}"), "cd " + root + "/work/com.example.Inference");
  EXPECT_EQ(Fill("{kernel:rootPath}/bin"), root + "/bin");
  EXPECT_EQ(Fill("--thing {iot:thingName}"), "--thing line-3-camera");
}

TEST(InterpolateTest, ConfigurationPointers) {
  EXPECT_EQ(Fill("--topic {configuration:/topic}"), "--topic vqi/v1/results");  // raw string
  EXPECT_EQ(Fill("{configuration:/threshold}"), "0.25");
  EXPECT_EQ(Fill("{configuration:/camera/folder}:{configuration:/camera/fps}"), "/srv/camera:5");
  EXPECT_EQ(Fill("'{configuration:/camera}'"), R"('{"folder":"/srv/camera","fps":5}')");
  EXPECT_EQ(Fill("{configuration:/tags}"), R"(["a","b"])");
  EXPECT_EQ(Fill("{configuration:/tags/1}"), "b");
  EXPECT_EQ(Fill("{configuration:/a~1b}"), "slash");
}

TEST(InterpolateTest, DependencyNamespaces) {
  const std::string root = "/var/lib/vqi-agent";
  EXPECT_EQ(Fill("{com.example.Model:artifacts:path}/model.onnx"),
            root + "/packages/artifacts/com.example.Model/0.3.1/model.onnx");
  EXPECT_EQ(Fill("{com.example.Model:artifacts:decompressedPath}"),
            root + "/packages/artifacts-unarchived/com.example.Model/0.3.1");
  EXPECT_EQ(Fill("{com.example.Model:work:path}"), root + "/work/com.example.Model");
  EXPECT_EQ(Fill("{com.example.Model:configuration:/file}"), "model.onnx");
  // The component's own name works like the short form.
  EXPECT_EQ(Fill("{com.example.Inference:configuration:/topic}"), "vqi/v1/results");
}

TEST(InterpolateTest, NonVariablesAreLeftAlone) {
  for (const char* text :
       {"echo ${HOME:-/root} ${A:+x}", "awk -F: '{print $1\":\"$2}'", "echo '{\"a\":1}'",
        "{ echo a; }", "echo {a,b}", "{}", "{:}", "a{", "} {", "{{x}}"}) {
    EXPECT_EQ(Fill(text), text);
  }
}

TEST(InterpolateTest, UnknownVariablesAreRefusedNamingVariableAndField) {
  EXPECT_HAS(
      Error("{artifact:path}"),
      "Manifests[0].Lifecycle.run.Script: recipe variable '{artifact:path}': unknown namespace "
      "'artifact'; accepted: artifacts, work, kernel, iot, configuration");
  EXPECT_HAS(Error("{artifacts:decompressedpath}"),
             "unknown key 'decompressedpath' of namespace artifacts");
  EXPECT_HAS(Error("{work:dir}"), "unknown key 'dir' of namespace work");
  EXPECT_HAS(Error("{kernel:root}"), "accepted: rootPath");
  EXPECT_HAS(Error("{iot:thing}"), "accepted: thingName");
  EXPECT_HAS(Error("{configuration:/nope}"), "the configuration has no value at '/nope'");
  EXPECT_HAS(Error("{configuration:nope}"), "'nope' is not a JSON pointer");
  EXPECT_HAS(Error("{com.example.Model:artifact:path}"), "unknown namespace 'artifact'");
  EXPECT_HAS(Error("{com.example.Model:kernel:rootPath}"), "namespace kernel is not per component");
  EXPECT_HAS(Error("{com.example.Model:configuration:/missing}"), "no value at '/missing'");
}

TEST(InterpolateTest, OnlyDirectDependencies) {
  EXPECT_HAS(
      Error("{com.example.Other:artifacts:path}"),
      "recipe variable '{com.example.Other:artifacts:path}': 'com.example.Other' is not a direct "
      "dependency of com.example.Inference");
}

TEST(InterpolateTest, ThingNameMustBeKnown) {
  InterpolationContext c = Context();
  c.thing_name.clear();
  auto r = Interpolate("{iot:thingName}", c, "f");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
}

TEST(InterpolateTest, ValuesAreNotInterpolatedAgain) {
  InterpolationContext c = Context();
  c.self.configuration["tricky"] = "{artifacts:path}";
  auto r = Interpolate("{configuration:/tricky}", c, "f");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "{artifacts:path}");
}

TEST(InterpolateTest, ResultSizeIsLimited) {
  InterpolationContext c = Context();
  c.self.configuration["big"] = std::string(600 * 1024, 'x');
  auto once = Interpolate("{configuration:/big}", c, "f");
  ASSERT_TRUE(once.ok()) << once.status().ToString();
  auto twice = Interpolate("{configuration:/big} {configuration:/big}", c,
                           "Manifests[0].Lifecycle.run.Script");
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.status().code(), StatusCode::kResourceExhausted);
  EXPECT_HAS(twice.status().message(),
             "Manifests[0].Lifecycle.run.Script: the interpolated text exceeds 1048576 bytes");
}

TEST(InterpolateTest, WholeLifecycle) {
  Lifecycle l;
  l.setenv["MODEL"] = "{com.example.Model:artifacts:path}/model.onnx";
  l.steps["install"].script = "pip3 install -r {artifacts:decompressedPath}/inference/req.txt";
  l.steps["install"].skip_if = "exists {work:path}/done";
  l.steps["run"].script = "python3 main.py --thing {iot:thingName}";
  l.steps["run"].setenv["TOPIC"] = "{configuration:/topic}";
  auto r = InterpolateLifecycle(l, Context(), "Manifests[0].Lifecycle");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const std::string root = "/var/lib/vqi-agent";
  EXPECT_EQ(r->setenv.at("MODEL"), root + "/packages/artifacts/com.example.Model/0.3.1/model.onnx");
  EXPECT_EQ(r->steps.at("install").script,
            "pip3 install -r " + root +
                "/packages/artifacts-unarchived/com.example.Inference/1.2.0/inference/req.txt");
  EXPECT_EQ(r->steps.at("install").skip_if, "exists " + root + "/work/com.example.Inference/done");
  EXPECT_EQ(r->steps.at("run").script, "python3 main.py --thing line-3-camera");
  EXPECT_EQ(r->steps.at("run").setenv.at("TOPIC"), "vqi/v1/results");
  l.steps["run"].setenv["BAD"] = "{nope:x}";
  auto bad = InterpolateLifecycle(l, Context(), "Manifests[0].Lifecycle");
  ASSERT_FALSE(bad.ok());
  EXPECT_HAS(bad.status().message(),
             "Manifests[0].Lifecycle.run.Setenv.BAD: recipe variable '{nope:x}'");
}

}  // namespace
}  // namespace vqi::component
