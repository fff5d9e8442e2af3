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

// A mistyped name never becomes a new, empty dataset: every verb but import and synth says
// NotFound and lists what exists.
TEST_F(DatasetCliTest, MistypedDatasetNameOnEveryVerbIsNotFound) {
  ASSERT_EQ(Vqi("dataset synth --count 2 --width 96 --height 64").code, 0);
  for (const std::string& verb :
       {std::string("stats"), std::string("split"), std::string("unlabeled"), std::string("check"),
        std::string("remove abcdef"), "export --format yolo --out " + dir_ + "/e"}) {
    CmdResult r = Vqi("dataset " + verb + " --dataset defualt");
    EXPECT_EQ(r.code, 1) << verb << ": " << r.out;
    EXPECT_TRUE(Has(r, "NotFound: no dataset 'defualt'")) << verb << ": " << r.out;
    EXPECT_TRUE(Has(r, "existing: default")) << verb << ": " << r.out;
  }
  EXPECT_FALSE(fs::exists(dir_ + "/home/datasets/defualt"));
  EXPECT_FALSE(fs::exists(dir_ + "/e"));
}

TEST_F(DatasetCliTest, RemoveImagesByNameAndIdWithTheirLabels) {
  ASSERT_EQ(Vqi("dataset synth --count 3 --seed 5 --width 96 --height 64").code, 0);
  CmdResult json = Vqi("--json dataset export --format coco --out " + dir_ + "/c");
  ASSERT_EQ(json.code, 0) << json.out;
  CmdResult gone = Vqi("dataset remove synth-s5-0.jpg");
  ASSERT_EQ(gone.code, 0) << gone.out;
  EXPECT_TRUE(Has(gone, "synth-s5-0.jpg (1 label events)")) << gone.out;
  EXPECT_TRUE(Has(Vqi("dataset stats"), "images      2 (2 labeled")) << Vqi("dataset stats").out;
  CmdResult again = Vqi("dataset remove synth-s5-0.jpg");
  EXPECT_EQ(again.code, 1) << again.out;
  EXPECT_TRUE(Has(again, "no image 'synth-s5-0.jpg'")) << again.out;
  // One unknown key: nothing is removed.
  CmdResult mixed = Vqi("dataset remove synth-s5-1.jpg nope.jpg");
  EXPECT_EQ(mixed.code, 1) << mixed.out;
  EXPECT_TRUE(Has(Vqi("dataset stats"), "images      2 (2 labeled"));
  // In a split: refused unless --force.
  ASSERT_EQ(Vqi("dataset split").code, 0);
  CmdResult held = Vqi("dataset remove synth-s5-1.jpg");
  EXPECT_EQ(held.code, 1) << held.out;
  EXPECT_TRUE(Has(held, "split snapshot(s) 'default'; pass --force")) << held.out;
  CmdResult forced = Vqi("dataset remove --force synth-s5-1.jpg");
  EXPECT_EQ(forced.code, 0) << forced.out;
  EXPECT_TRUE(Has(forced, "dropped from 1 split(s)")) << forced.out;
  CmdResult check = Vqi("dataset check");
  EXPECT_EQ(check.code, 0) << check.out;
  EXPECT_TRUE(Has(check, "1 images, 1 blobs re-hashed, 0 problems")) << check.out;
}

TEST_F(DatasetCliTest, JsonReportStaysValidForNonUtf8FileNames) {
  ASSERT_EQ(Vqi("dataset synth --count 2 --width 96 --height 64 --out " + dir_ + "/y").code, 0);
  fs::copy_file(dir_ + "/y/images/synth-s1-0.jpg", dir_ + "/y/images/bad-\xff.jpg");
  std::ofstream(dir_ + "/y/images/bad-\xff.jpg", std::ios::app) << "x";  // other content
  CmdResult r = Vqi("--json dataset import " + dir_ + "/y");
  EXPECT_EQ(r.code, 0) << r.out;
  auto j = vqi::ParseJson(r.out.substr(r.out.find('{')));
  ASSERT_TRUE(j.ok()) << r.out;
  ASSERT_EQ((*j)["errors"].size(), 1u) << r.out;
  EXPECT_EQ((*j)["errors"][0]["file"], "images/bad-%FF.jpg");
  EXPECT_EQ((*j)["images"], 2);
}

TEST_F(DatasetCliTest, SynthNumbersOutOfRangeAreRefused) {
  CmdResult r = Vqi("dataset synth --count 100000000");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_TRUE(Has(r, "100000000 is out of range [0, 100000]")) << r.out;
  EXPECT_EQ(Vqi("dataset unlabeled --limit -1").code, 2);
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
  CmdResult split = Vqi("dataset split --seed 42");
  ASSERT_EQ(split.code, 0) << split.out;
  EXPECT_TRUE(Has(split, "train 124, val 28, test 28 images; digest 145f00de8f25e9a5"))
      << split.out;
  CmdResult stats = Vqi("dataset stats");
  EXPECT_TRUE(Has(stats, "images      193 (180 labeled, 13 unlabeled)")) << stats.out;
  EXPECT_TRUE(Has(stats, "358 boxes")) << stats.out;
  CmdResult pool = Vqi("dataset unlabeled");
  EXPECT_TRUE(Has(pool, "13 unlabeled images")) << pool.out;
}

}  // namespace
