// End-to-end: `vqi model eval` reading ground truth from a dataset split snapshot.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "vqi/base/file.h"
#include "vqi/base/hash.h"
#include "vqi/base/json.h"
#include "vqi/dataset/store.h"

namespace {

namespace fs = std::filesystem;

// A 24-bit BMP filled with `value` (decodable by OpenCV; different values, different hashes).
std::string Bmp(int w, int h, unsigned char value) {
  const int row = (w * 3 + 3) / 4 * 4;
  const uint32_t size = 54 + row * h;
  std::string b(size, static_cast<char>(value));
  auto put32 = [&](int at, uint32_t v) {
    for (int k = 0; k < 4; ++k) b[at + k] = static_cast<char>((v >> (8 * k)) & 0xff);
  };
  for (int i = 0; i < 54; ++i) b[i] = 0;
  b[0] = 'B';
  b[1] = 'M';
  put32(2, size);
  put32(10, 54);
  put32(14, 40);
  put32(18, w);
  put32(22, h);
  b[26] = 1;
  b[28] = 24;
  put32(34, row * h);
  return b;
}

TEST(EvalStoreCliTest, EvaluatesASplitPart) {
  const char* bin = std::getenv("VQI_BIN");
  if (!bin || !fs::exists(bin)) GTEST_SKIP() << "VQI_BIN not set or not built";
  const fs::path dir =
      fs::path(::testing::TempDir()) / ("vqi_eval_store_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string home = (dir / "home").string();

  // Two images in the store: a with two boxes, b with one; all in the test part.
  std::string blob_a, blob_b;
  {
    auto store = vqi::dataset::Store::Open(home);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->EnsureClass("scratch").ok());
    auto add = [&](const std::string& name, unsigned char value,
                   std::vector<vqi::dataset::Box> boxes) {
      const std::string bytes = Bmp(200, 100, value);
      vqi::dataset::ImageRecord rec;
      rec.image_id = vqi::Sha256Hex(bytes);
      rec.name = name;
      rec.capture_id = name;
      rec.width = 200;
      rec.height = 100;
      rec.format = "bmp";
      EXPECT_TRUE((*store)->AddImage(rec, bytes).ok());
      vqi::dataset::LabelEvent ev;
      ev.image_id = rec.image_id;
      ev.boxes = std::move(boxes);
      ev.event_time = 1;
      EXPECT_TRUE((*store)->AppendLabel(ev).ok());
      return (*store)->BlobPath(rec.image_id, rec.format);
    };
    blob_a = add("a.bmp", 100, {{0, 30, 30, 40, 40}, {0, 130, 30, 40, 40}});
    blob_b = add("b.bmp", 150, {{0, 50, 25, 100, 50}});
    ASSERT_TRUE((*store)->CreateSplit("s", {0, 0, 1}, 1).ok());
  }
  // Predictions: a's two boxes exact, b's box missed -> AP50 = 67/101 (recall <= 2/3 at
  // precision 1), recall 2/3.
  const std::string model = (dir / "m.predictions.json").string();
  std::ofstream(model)
      << vqi::Json{{"classes", {"scratch"}},
                   {"images",
                    {{{"file", blob_a},
                      {"detections",
                       {{{"box", {30, 30, 70, 70}}, {"score", 0.9}, {"class_id", 0}},
                        {{"box", {130, 30, 170, 70}}, {"score", 0.8}, {"class_id", 0}}}}},
                     {{"file", blob_b}, {"detections", vqi::Json::array()}}}}}
             .dump();
  const std::string report = (dir / "report.json").string();
  const std::string cmd = std::string(bin) + " --home " + home + " model eval --model " + model +
                          " --split s --part test --report " + report + " >" +
                          (dir / "out").string() + " 2>&1";
  const int status = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0) << *vqi::ReadFile((dir / "out").string());
  auto j = vqi::ReadJsonFile(report);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)["source"]["split"], "s");
  EXPECT_EQ((*j)["source"]["split_digest"].get<std::string>().size(), 64u);
  EXPECT_EQ((*j)["metrics"]["images"], 2);
  EXPECT_EQ((*j)["metrics"]["ground_truth_boxes"], 3);
  EXPECT_NEAR((*j)["metrics"]["map50"].get<double>(), 67.0 / 101, 1e-6);
  EXPECT_NEAR((*j)["metrics"]["recall"].get<double>(), 2.0 / 3, 1e-6);
  fs::remove_all(dir);
}

}  // namespace
