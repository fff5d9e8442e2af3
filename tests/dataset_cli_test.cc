// End-to-end: `vqi dataset ...` run as a user would, in a temporary vqi home.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "vqi/base/json.h"

namespace {
namespace fs = std::filesystem;

struct CmdResult {
  int code;
  std::string out;
};

class DatasetCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* bin = std::getenv("VQI_BIN");
    ASSERT_NE(bin, nullptr) << "VQI_BIN is not set (run through ctest)";
    bin_ = bin;
    std::string tmpl = (fs::temp_directory_path() / "vqi-dataset-cli-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  CmdResult Vqi(const std::string& args) {
    const std::string cmd = bin_ + " --home " + dir_ + "/home " + args + " 2>&1";
    CmdResult r{0, ""};
    FILE* p = popen(cmd.c_str(), "r");
    std::array<char, 4096> buf;
    size_t n;
    while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
    const int st = pclose(p);
    r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
  }
  bool Has(const CmdResult& r, const std::string& s) { return r.out.find(s) != std::string::npos; }

  std::string bin_, dir_;
};

TEST_F(DatasetCliTest, SynthSplitStatsExportImport) {
  CmdResult synth = Vqi("dataset synth --count 30 --seed 3 --width 160 --height 120");
  ASSERT_EQ(synth.code, 0) << synth.out;
  EXPECT_TRUE(Has(synth, "synthesized 30 tags (30 new")) << synth.out;
  CmdResult split = Vqi("dataset split --seed 42");
  ASSERT_EQ(split.code, 0) << split.out;
  EXPECT_TRUE(Has(split, "split 'default' (seed 42)")) << split.out;
  CmdResult stats = Vqi("dataset stats");
  ASSERT_EQ(stats.code, 0) << stats.out;
  EXPECT_TRUE(Has(stats, "images      30 (30 labeled, 0 unlabeled)")) << stats.out;
  EXPECT_TRUE(Has(stats, "box width")) << stats.out;
  EXPECT_TRUE(Has(stats, "split 'default'")) << stats.out;

  CmdResult json = Vqi("--json dataset stats");
  ASSERT_EQ(json.code, 0);
  auto j = vqi::ParseJson(json.out);
  ASSERT_TRUE(j.ok()) << json.out;
  EXPECT_EQ((*j)["images"], 30);
  const auto& parts = (*j)["splits"][0]["parts"];
  EXPECT_EQ(parts["train"]["images"].get<int>() + parts["val"]["images"].get<int>() +
                parts["test"]["images"].get<int>(),
            30);

  for (const char* fmt : {"yolo", "coco"}) {
    const std::string out = dir_ + "/" + fmt;
    CmdResult exp = Vqi(std::string("dataset export --format ") + fmt + " --out " + out);
    ASSERT_EQ(exp.code, 0) << exp.out;
    EXPECT_TRUE(Has(exp, "exported 30 images")) << exp.out;
    CmdResult imp = Vqi("dataset import " + out + " --dataset copy-" + fmt);
    ASSERT_EQ(imp.code, 0) << imp.out;
    EXPECT_TRUE(Has(imp, "30 images (30 new), 30 labeled")) << imp.out;
    CmdResult back = Vqi("dataset import " + out);  // into the original: nothing new
    ASSERT_EQ(back.code, 0) << back.out;
    EXPECT_TRUE(Has(back, "30 images (0 new)")) << back.out;
  }
  CmdResult pool = Vqi("dataset unlabeled");
  EXPECT_EQ(pool.code, 0);
  EXPECT_TRUE(Has(pool, "0 unlabeled images")) << pool.out;
}

TEST_F(DatasetCliTest, BadInputReportedStrictWritesNothing) {
  CmdResult synth = Vqi("dataset synth --count 3 --width 96 --height 64 --out " + dir_ + "/y");
  ASSERT_EQ(synth.code, 0) << synth.out;
  std::ofstream(dir_ + "/y/images/broken.jpg") << "not a jpeg";
  CmdResult strict = Vqi("dataset import --strict " + dir_ + "/y");
  EXPECT_EQ(strict.code, 2) << strict.out;
  EXPECT_TRUE(Has(strict, "error: images/broken.jpg: not an image (unrecognized content)"))
      << strict.out;
  EXPECT_TRUE(Has(strict, "nothing written")) << strict.out;
  EXPECT_TRUE(Has(Vqi("dataset stats"), "images      0 ("));
  CmdResult lax = Vqi("dataset import " + dir_ + "/y");
  EXPECT_EQ(lax.code, 0) << lax.out;
  EXPECT_TRUE(Has(lax, "3 images (3 new), 3 labeled")) << lax.out;
  EXPECT_TRUE(Has(lax, "1 errors")) << lax.out;
  EXPECT_NE(Vqi("dataset import " + dir_ + "/nowhere").code, 0);
  EXPECT_EQ(Vqi("dataset split --ratios 0.5,0.5").code, 2);
  EXPECT_EQ(Vqi("dataset export --format voc --out " + dir_ + "/v").code, 2);
}

TEST_F(DatasetCliTest, RealMetalTags) {
  const char* shared = std::getenv("VQI_SHARED_DIR");
  const std::string data = shared ? std::string(shared) + "/datasets/metal-tags" : "";
  if (data.empty() || !fs::exists(data + "/labels.csv"))
    GTEST_SKIP() << "shared metal-tags data absent (set VQI_SHARED_DIR)";
  CmdResult imp = Vqi("dataset import " + data);
  ASSERT_EQ(imp.code, 0) << imp.out;
  EXPECT_TRUE(Has(imp,
                  "193 images (193 new), 180 labeled (358 boxes, 5 with no defect), 13 "
                  "unlabeled, 0 errors"))
      << imp.out;
  CmdResult again = Vqi("dataset import --format groundtruth --labels " + data +
                        "/labels.csv --images " + data + "/images");
  EXPECT_TRUE(Has(again, "193 images (0 new)")) << again.out;
  ASSERT_EQ(Vqi("dataset split").code, 0);
  CmdResult stats = Vqi("dataset stats");
  EXPECT_TRUE(Has(stats, "images      193 (180 labeled, 13 unlabeled)")) << stats.out;
  EXPECT_TRUE(Has(stats, "358 boxes")) << stats.out;
  CmdResult pool = Vqi("dataset unlabeled");
  EXPECT_TRUE(Has(pool, "13 unlabeled images")) << pool.out;
}

}  // namespace
