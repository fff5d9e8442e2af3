// `vqi model cv` end to end on synthetic tags grouped into captures, with a budget of
// seconds: folds hold whole captures, every labelled image is held out once, every checkpoint
// choice is scored, the spread matches the per-fold numbers, and bad input is refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "run_vqi.h"
#include "vqi/base/json.h"

namespace {
namespace fs = std::filesystem;
using vqi::testing::CmdResult;

constexpr int kCaptures = 8, kPerCapture = 3;

class CvCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(std::getenv("VQI_BIN"), nullptr) << "VQI_BIN is not set (run through ctest)";
    std::string tmpl = (fs::temp_directory_path() / "vqi-cv-cli-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  CmdResult Vqi(const std::string& args) {
    return vqi::testing::RunVqi("--home " + dir_ + "/home --threads 1 " + args);
  }
  // Synthetic tags renamed into kCaptures captures of kPerCapture images
  // (cap<c>-cropped-<i>.jpg), imported into dataset `name`; without labels when !labelled.
  void ImportCaptures(const std::string& name, bool labelled) {
    const std::string y = dir_ + "/y-" + name;
    CmdResult synth = Vqi("dataset synth --count " + std::to_string(kCaptures * kPerCapture) +
                          " --width 128 --height 96 --out " + y);
    ASSERT_EQ(synth.code, 0) << synth.out;
    int i = 0;
    for (const auto& e : fs::directory_iterator(y + "/images")) {
      const std::string stem = e.path().stem().string();
      const std::string to =
          "cap" + std::to_string(i / kPerCapture) + "-cropped-" + std::to_string(i % kPerCapture);
      fs::rename(e.path(), y + "/images/" + to + ".jpg");
      if (labelled) fs::rename(y + "/labels/" + stem + ".txt", y + "/labels/" + to + ".txt");
      ++i;
    }
    if (!labelled) fs::remove_all(y + "/labels");
    CmdResult imp = Vqi("dataset import " + y + " --dataset " + name);
    ASSERT_EQ(imp.code, 0) << imp.out;
  }

  std::string dir_;
};

const char* kTiny = "--epochs 2 --imgsz 64x64 --batch 8 --val-every 1 --workers 1";

TEST_F(CvCliTest, FoldsHoldWholeCapturesAndEveryChoiceIsScored) {
  ImportCaptures("default", true);
  const std::string out = dir_ + "/cv";
  CmdResult r = Vqi(std::string("--json model cv --folds 4 ") + kTiny + " --out " + out);
  ASSERT_EQ(r.code, 0) << r.out;
  // stdout is the JSON report after the progress lines on stderr; the file holds the same.
  std::ifstream f(out + "/cv.json");
  std::stringstream text;
  text << f.rdbuf();
  auto file = vqi::ParseJson(text.str());
  ASSERT_TRUE(file.ok()) << text.str();
  const vqi::Json& j = *file;
  EXPECT_NE(r.out.find("\"per_fold\""), std::string::npos) << r.out;
  EXPECT_EQ(j["folds"], 4);
  EXPECT_EQ(j["folds_done"], 4);
  EXPECT_EQ(j["images"], kCaptures * kPerCapture);
  EXPECT_EQ(j["captures"], kCaptures);
  ASSERT_EQ(j["per_fold"].size(), 4u);

  std::map<std::string, int> held_out;  // capture -> times held out
  int test_images = 0;
  std::map<std::string, std::vector<double>> map50;
  for (const auto& fold : j["per_fold"]) {
    const int k = fold["fold"].get<int>();
    // 8 captures of 3 images in 4 folds: 2 captures (6 images) each.
    EXPECT_EQ(fold["test_images"], 6) << fold.dump();
    EXPECT_EQ(fold["train_images"].get<int>() + fold["val_images"].get<int>() +
                  fold["test_images"].get<int>(),
              kCaptures * kPerCapture);
    EXPECT_GT(fold["val_images"].get<int>(), 0);
    EXPECT_EQ(fold["val_images"].get<int>() % kPerCapture, 0) << "a capture split into parts";
    test_images += fold["test_images"].get<int>();
    for (const auto& c : fold["test_captures"]) ++held_out[c.get<std::string>()];
    const std::string run = out + "/fold-" + std::to_string(k);
    for (const char* file : {"best.safetensors", "last.safetensors", "smoothed.safetensors",
                             "metrics.jsonl", "cv_fold.json"})
      EXPECT_TRUE(fs::exists(run + "/" + file)) << run << "/" << file;
    for (const char* choice : {"best", "last", "smoothed"}) {
      const auto& s = fold["test"][choice];
      ASSERT_TRUE(s.is_object()) << fold.dump();
      EXPECT_GE(s["map50"].get<double>(), 0);
      EXPECT_LE(s["map50"].get<double>(), 1);
      EXPECT_GE(s["map50"].get<double>(), s["map50_95"].get<double>());
      map50[choice].push_back(s["map50"].get<double>());
    }
    EXPECT_EQ(fold["test"]["last"]["epoch"], 2);  // 2 epochs: last is the final EMA
  }
  EXPECT_EQ(test_images, kCaptures * kPerCapture);
  EXPECT_EQ(held_out.size(), static_cast<size_t>(kCaptures));
  for (const auto& [capture, n] : held_out) EXPECT_EQ(n, 1) << capture;
  // The summary is the spread of the per-fold numbers.
  for (const auto& [choice, v] : map50) {
    double mean = 0, lo = 1, hi = 0;
    for (double x : v) {
      mean += x / static_cast<double>(v.size());
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
    const auto& s = j["test"][choice]["map50"];
    EXPECT_NEAR(s["mean"].get<double>(), mean, 1e-9) << choice;
    EXPECT_DOUBLE_EQ(s["min"].get<double>(), lo) << choice;
    EXPECT_DOUBLE_EQ(s["max"].get<double>(), hi) << choice;
    EXPECT_GE(s["std"].get<double>(), 0);
  }

  // The text form: per-fold lines and the spread of each choice.
  CmdResult t = Vqi(std::string("model cv --folds 2 --epochs 1 --imgsz 64x64 --batch 8 ") +
                    "--workers 1 --out " + dir_ + "/cv2");
  ASSERT_EQ(t.code, 0) << t.out;
  EXPECT_NE(t.out.find("2-fold cross-validation over 24 labelled images (8 captures)"),
            std::string::npos)
      << t.out;
  EXPECT_NE(t.out.find("held-out folds, mean ± std (min–max)"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("  smoothed  mAP50 "), std::string::npos) << t.out;
}

TEST_F(CvCliTest, BadInputIsRefusedBeforeTraining) {
  ImportCaptures("default", true);
  const std::string out = dir_ + "/cv";
  CmdResult one = Vqi(std::string("model cv --folds 1 ") + kTiny + " --out " + out);
  EXPECT_EQ(one.code, 2) << one.out;  // a flag outside its range
  EXPECT_NE(one.out.find("--folds"), std::string::npos) << one.out;
  CmdResult many = Vqi(std::string("model cv --folds 9 ") + kTiny + " --out " + out);
  EXPECT_NE(many.code, 0);
  EXPECT_NE(many.out.find("--folds 9 is more than the 8 captures of the 24 labelled images"),
            std::string::npos)
      << many.out;
  CmdResult frac = Vqi(std::string("model cv --val-fraction 0.9 ") + kTiny + " --out " + out);
  EXPECT_EQ(frac.code, 2) << frac.out;
  EXPECT_FALSE(fs::exists(out)) << "nothing is written for refused input";

  ImportCaptures("pool", false);  // images without labels only
  CmdResult none = Vqi(std::string("model cv --dataset pool ") + kTiny + " --out " + out);
  EXPECT_NE(none.code, 0);
  EXPECT_NE(none.out.find("dataset 'pool' has no labelled images"), std::string::npos) << none.out;
  CmdResult missing = Vqi(std::string("model cv --dataset nosuch ") + kTiny + " --out " + out);
  EXPECT_NE(missing.code, 0);
  EXPECT_NE(missing.out.find("nosuch"), std::string::npos) << missing.out;
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
