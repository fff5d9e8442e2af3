// End-to-end: the real `vqi model predict|eval` binary on a temp folder of images with YOLO
// labels, with a predictions.json as the model (a replay detector: no trained model needed).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "vqi/base/file.h"
#include "vqi/base/json.h"

namespace {

namespace fs = std::filesystem;

// A 24-bit BMP of a flat gray image (decodable by OpenCV).
void WriteBmp(const std::string& path, int w, int h) {
  const int row = (w * 3 + 3) / 4 * 4;
  const uint32_t size = 54 + row * h;
  std::string b(size, '\0');
  auto put32 = [&](int at, uint32_t v) {
    for (int k = 0; k < 4; ++k) b[at + k] = static_cast<char>((v >> (8 * k)) & 0xff);
  };
  b[0] = 'B';
  b[1] = 'M';
  put32(2, size);
  put32(10, 54);
  put32(14, 40);
  put32(18, w);
  put32(22, h);
  b[26] = 1;   // planes
  b[28] = 24;  // bits per pixel
  put32(34, row * h);
  for (int i = 54; i < static_cast<int>(size); ++i) b[i] = static_cast<char>(128);
  std::ofstream(path, std::ios::binary) << b;
}

struct CliRun {
  int code;
  std::string out, err;
};

class EvalCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* bin = std::getenv("VQI_BIN");
    if (!bin || !fs::exists(bin)) GTEST_SKIP() << "VQI_BIN not set or not built";
    bin_ = bin;
    dir_ = fs::path(::testing::TempDir()) / ("vqi_eval_cli_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "images");
    fs::create_directories(dir_ / "labels");
    // a: two boxes, b: one box, c: no labels file (background).
    WriteBmp(dir_ / "images/a.bmp", 200, 100);
    WriteBmp(dir_ / "images/b.bmp", 200, 100);
    WriteBmp(dir_ / "images/c.bmp", 200, 100);
    std::ofstream(dir_ / "labels/a.txt") << "0 0.25 0.5 0.2 0.4\n0 0.75 0.5 0.2 0.4\n";
    std::ofstream(dir_ / "labels/b.txt") << "0 0.5 0.5 0.5 0.5\n";
    // Predictions: a's boxes exact (a: x 30..70 and 130..170, y 30..70), b's box missed and a
    // false positive on b scored above everything; c empty. Ranked: FP 0.95, TP 0.9, TP 0.8.
    // Recall 0, 1/3, 2/3 at precision 0, 1/2, 2/3 -> AP50 = 67 * (2/3) / 101.
    const std::string preds = R"({"model": "fixture", "classes": ["scratch"], "images": [
      {"file": "a.bmp", "detections": [
        {"box": [30, 30, 70, 70], "score": 0.9, "class_id": 0},
        {"box": [130, 30, 170, 70], "score": 0.8, "class_id": 0}]},
      {"file": "b.bmp", "detections": [{"box": [0, 0, 10, 10], "score": 0.95, "class_id": 0}]},
      {"file": "c.bmp", "detections": []}]})";
    model_ = (dir_ / "fixture.predictions.json").string();
    std::ofstream(model_) << preds;
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  CliRun Vqi(const std::string& args) {
    const std::string out = (dir_ / "stdout").string(), err = (dir_ / "stderr").string();
    const std::string cmd =
        bin_ + " --home " + (dir_ / "home").string() + " " + args + " >" + out + " 2>" + err;
    const int status = std::system(cmd.c_str());
    CliRun r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, *vqi::ReadFile(out),
             *vqi::ReadFile(err)};
    return r;
  }

  std::string bin_;
  fs::path dir_;
  std::string model_;
};

TEST_F(EvalCliTest, EvalOnYoloFolderWritesReport) {
  const std::string report = (dir_ / "report.json").string();
  CliRun r = Vqi("model eval --model " + model_ + " --images " + (dir_ / "images").string() +
                 " --report " + report);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("mAP50 "), std::string::npos) << r.out;
  auto j = vqi::ReadJsonFile(report);
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  const vqi::Json& m = (*j)["metrics"];
  EXPECT_EQ(m["images"], 3);
  EXPECT_EQ(m["ground_truth_boxes"], 3);
  EXPECT_NEAR(m["map50"].get<double>(), 67 * (2.0 / 3.0) / 101, 1e-6);
  EXPECT_NEAR(m["recall"].get<double>(), 2.0 / 3.0, 1e-6);
  EXPECT_NEAR(m["precision"].get<double>(), 2.0 / 3.0, 1e-6);
}

TEST_F(EvalCliTest, PredictWritesJsonLinesAnnotatedImagesAndARoundTrip) {
  const fs::path out = dir_ / "out";
  CliRun r = Vqi("model predict --model " + model_ + " --images " + (dir_ / "images").string() +
                 " --conf 0.5 --out " + out.string());
  ASSERT_EQ(r.code, 0) << r.err;
  int lines = 0;
  for (char c : r.out) lines += c == '\n';
  EXPECT_EQ(lines, 3);
  auto first = vqi::ParseJson(r.out.substr(0, r.out.find('\n')));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ((*first)["width"], 200);
  EXPECT_EQ((*first)["detections"].size(), 2u);
  EXPECT_EQ((*first)["detections"][0]["class"], "scratch");
  for (const char* f : {"a.bmp", "b.bmp", "c.bmp", "predictions.json"})
    EXPECT_TRUE(fs::exists(out / f)) << f;
  // The annotated image differs from the flat gray input (boxes were drawn).
  EXPECT_NE(*vqi::ReadFile((out / "a.bmp").string()),
            *vqi::ReadFile((dir_ / "images/a.bmp").string()));
  // The written predictions evaluate like the original ones above --conf 0.5.
  CliRun again = Vqi("--json model eval --model " + (out / "predictions.json").string() +
                     " --images " + (dir_ / "images").string());
  ASSERT_EQ(again.code, 0) << again.err;
  auto j = vqi::ParseJson(again.out);
  ASSERT_TRUE(j.ok()) << again.out;
  EXPECT_NEAR((*j)["metrics"]["map50"].get<double>(), 67 * (2.0 / 3.0) / 101, 1e-6);
}

TEST_F(EvalCliTest, UndecodableFileIsReportedAndTheRestContinues) {
  std::ofstream(dir_ / "images/d.bmp") << "not an image";
  CliRun r = Vqi("model predict --model " + model_ + " --images " + (dir_ / "images").string() +
                 " --out " + (dir_ / "out").string());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("d.bmp"), std::string::npos) << r.err;
  int lines = 0;
  for (char c : r.out) lines += c == '\n';
  EXPECT_EQ(lines, 3);  // a, b and c still predicted
  EXPECT_TRUE(fs::exists(dir_ / "out/predictions.json"));
}

TEST_F(EvalCliTest, BadInputGivesClearErrors) {
  std::ofstream(dir_ / "labels/b.txt") << "0 0.5 0.5 0.5\n";
  CliRun r = Vqi("model eval --model " + model_ + " --images " + (dir_ / "images").string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("b.txt:1: expected 5 fields"), std::string::npos) << r.err;
  r = Vqi("model predict --model " + (dir_ / "model.xyz").string() + " --image " +
          (dir_ / "images/a.bmp").string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("model.xyz: not a model file"), std::string::npos) << r.err;
  r = Vqi("model predict --model " + model_);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--image"), std::string::npos) << r.err;
}

}  // namespace
