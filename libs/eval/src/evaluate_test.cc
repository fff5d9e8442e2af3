// EvaluateDetector and the predictions file, through a fake Detector.
#include "vqi/eval/evaluate.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <map>

#include "vqi/base/file.h"
#include "vqi/eval/predictions.h"

namespace vqi::eval {
namespace {

// Answers from a table; fails on unknown paths, like a file that does not decode.
class FakeDetector : public Detector {
 public:
  std::map<std::string, std::vector<Detection>> answers;
  std::vector<DetectOptions> seen;
  Result<std::vector<Detection>> Detect(const std::string& path,
                                        const DetectOptions& options) override {
    seen.push_back(options);
    auto it = answers.find(path);
    if (it == answers.end()) return InvalidArgument(path + ": cannot decode image");
    return it->second;
  }
  std::vector<std::string> ClassNames() const override { return {"scratch", "dent"}; }
  std::string Describe() const override { return "fake"; }
};

TEST(EvaluateDetectorTest, ScoresImagesAndCollectsFailures) {
  FakeDetector det;
  GtBox a{0, 0, 10, 10, 0}, b{20, 20, 40, 30, 1};
  det.answers["a.jpg"] = {{0, 0, 10, 10, 0.9f, 0}};
  det.answers["b.jpg"] = {{20, 20, 40, 30, 0.8f, 0}};  // right place, wrong class
  std::vector<EvalItem> items = {{"a.jpg", {a}}, {"broken.jpg", {a}}, {"b.jpg", {b}}};
  DetectOptions o;
  o.conf_threshold = 0.001f;
  int calls = 0;
  auto r = EvaluateDetector(det, items, o, {}, [&](int done, int total) {
    ++calls;
    EXPECT_EQ(total, 3);
    EXPECT_EQ(done, calls);
  });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(calls, 3);
  ASSERT_EQ(r->failures.size(), 1u);
  EXPECT_NE(r->failures[0].message().find("broken.jpg"), std::string::npos);
  EXPECT_EQ(r->report.num_images, 2);
  EXPECT_EQ(r->report.num_gt, 2);  // the failed image's box is not counted
  EXPECT_DOUBLE_EQ(r->report.classes[0].ap50, 1.0);
  EXPECT_DOUBLE_EQ(r->report.classes[1].ap50, 0.0);
  EXPECT_DOUBLE_EQ(r->report.map50, 0.5);
  ASSERT_EQ(det.seen.size(), 3u);
  EXPECT_FLOAT_EQ(det.seen[0].conf_threshold, 0.001f);
}

TEST(EvaluateDetectorTest, GroundTruthOutsideDetectorClassesIsAnError) {
  FakeDetector det;
  det.answers["a.jpg"] = {};
  std::vector<EvalItem> items = {{"a.jpg", {{0, 0, 1, 1, 5}}}};
  auto r = EvaluateDetector(det, items, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("a.jpg"), std::string::npos);
}

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/eval_" + std::to_string(getpid()) + "_" + name;
}

TEST(PredictionsTest, RoundTripsThroughReplayDetector) {
  std::vector<std::string> classes = {"scratch", "dent"};
  std::vector<Detection> d1 = {{1.5f, 2, 30, 40, 0.9f, 0}, {5, 5, 8, 9, 0.1f, 1}};
  std::vector<OrderedJson> images = {PredictionToJson("/data/images/a.jpg", 450, 300, d1, classes),
                                     PredictionToJson("/data/images/b.jpg", 0, 0, {}, classes)};
  EXPECT_EQ(images[0]["detections"][1]["class"], "dent");
  EXPECT_EQ(images[0]["width"], 450);
  EXPECT_FALSE(images[1].contains("width"));
  const std::string path = TempPath("predictions.json");
  ASSERT_TRUE(WriteFileAtomic(path, PredictionsFileJson("m", classes, images).dump()).ok());

  auto det = OpenPredictionsFile(path);
  ASSERT_TRUE(det.ok()) << det.status().ToString();
  EXPECT_EQ((*det)->ClassNames(), classes);
  EXPECT_NE((*det)->Describe().find("m"), std::string::npos);
  DetectOptions o;
  o.conf_threshold = 0.001f;
  auto r = (*det)->Detect("/data/images/a.jpg", o);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 2u);
  EXPECT_FLOAT_EQ((*r)[0].x1, 1.5f);
  EXPECT_FLOAT_EQ((*r)[0].y2, 40);
  EXPECT_EQ((*r)[1].class_id, 1);
  o.conf_threshold = 0.5f;                                       // the confidence threshold applies
  EXPECT_EQ((*det)->Detect("/elsewhere/a.jpg", o)->size(), 1u);  // found by file name
  EXPECT_TRUE((*det)->Detect("b.jpg", o)->empty());
  EXPECT_EQ((*det)->Detect("c.jpg", o).status().code(), StatusCode::kNotFound);
  std::remove(path.c_str());
}

TEST(PredictionsTest, MalformedFilesNameTheEntry) {
  const std::string path = TempPath("bad.json");
  ASSERT_TRUE(WriteFileAtomic(path, R"({"classes": ["s"], "images": [{"file": "a.jpg",
      "detections": [{"box": [0, 0, 1], "score": 1, "class_id": 0}]}]})")
                  .ok());
  auto det = OpenPredictionsFile(path);
  ASSERT_FALSE(det.ok());
  EXPECT_NE(det.status().message().find("images[0].detections[0]: needs \"box\""),
            std::string::npos)
      << det.status().message();
  ASSERT_TRUE(WriteFileAtomic(path, R"({"classes": ["s"], "images": [{"file": "a.jpg",
      "detections": [{"box": [0, 0, 1, 1], "score": 1, "class_id": 3}]}]})")
                  .ok());
  EXPECT_NE(OpenPredictionsFile(path).status().message().find("class_id 3"), std::string::npos);
  ASSERT_TRUE(WriteFileAtomic(path, "{not json").ok());
  EXPECT_FALSE(OpenPredictionsFile(path).ok());
  std::remove(path.c_str());
}

}  // namespace
}  // namespace vqi::eval
