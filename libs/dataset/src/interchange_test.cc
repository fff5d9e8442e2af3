// YOLO and COCO: exact round trips, idempotent re-import, and bad input in each format.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "test_util.h"
#include "vqi/base/file.h"
#include "vqi/base/hash.h"
#include "vqi/base/system.h"
#include "vqi/dataset/export.h"
#include "vqi/dataset/import.h"
#include "vqi/dataset/synth_io.h"

namespace vqi::dataset {
namespace {

using testing::TempDir;
using testing::WriteImage;
using testing::WriteText;

std::map<std::string, std::vector<Box>> Labels(const Store& store) {
  std::map<std::string, std::vector<Box>> out;
  auto samples = store.LabeledSamples();
  EXPECT_TRUE(samples.ok());
  for (const Sample& s : *samples) out[s.image_id] = s.boxes;
  return out;
}

// A store with awkward boxes: fractional, touching the border, several per image, none.
void FillAwkward(Store& store) {
  const std::vector<std::vector<Box>> labels = {
      {Box{0, 0, 0, 97, 61}},
      {Box{0, 10.3f, 7.77f, 33.1f, 0.25f}, Box{1, 1.0f / 3, 2.0f / 7, 96.6f, 60.7f}},
      {},
      {Box{1, 96.5f, 60.5f, 0.5f, 0.5f}, Box{0, 12, 13, 14, 15}, Box{0, 12, 13, 14, 15}}};
  ASSERT_TRUE(store.EnsureClass("scratch").ok());
  ASSERT_TRUE(store.EnsureClass("dent").ok());
  for (size_t i = 0; i < labels.size() + 1; ++i) {
    const std::string bytes = testing::ImageBytes(97, 61, static_cast<int>(i) + 10);
    const std::string name = i == 1 ? "odd-cropped-x.jpg_3" : "img" + std::to_string(i) + ".jpg";
    ImageRecord r{Sha256Hex(bytes), name, CaptureIdOf(name), 97, 61, "jpeg", "test"};
    ASSERT_TRUE(store.AddImage(r, bytes).ok());
    if (i == labels.size()) continue;  // the last one stays unlabeled
    LabelEvent e;
    e.image_id = r.image_id;
    e.boxes = labels[i];
    e.event_time = 10;
    ASSERT_TRUE(store.AppendLabel(e).ok());
  }
}

class RoundTripTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RoundTripTest, AwkwardBoxesSurviveExactlyAndReimportAddsNothing) {
  const std::string format = GetParam();
  TempDir home, out;
  auto src = std::move(Store::Open(home.path(), "src").value());
  FillAwkward(*src);
  auto exported = Export(*src, format, out.path(), ExportOptions{});
  ASSERT_TRUE(exported.ok()) << exported.status().ToString();
  EXPECT_EQ(exported->images, 4);  // the unlabeled image is not exported
  EXPECT_EQ(exported->boxes, 6);

  auto dst = std::move(Store::Open(home.path(), "dst").value());
  auto r = Import(*dst, out.path(), "auto", ImportOptions{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (const auto& e : r->errors) ADD_FAILURE() << e.ToString();
  EXPECT_EQ(r->format, format);
  EXPECT_EQ(r->images, 4);
  EXPECT_EQ(r->labeled, 4);
  EXPECT_EQ(r->empty_labels, 1);
  EXPECT_EQ(Labels(*dst), Labels(*src));  // bit-exact floats, same order, same classes
  EXPECT_EQ(dst->ClassNames(), src->ClassNames());

  auto again = Import(*dst, out.path(), "auto", ImportOptions{});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->new_images, 0);
  EXPECT_EQ(again->new_label_events, 0);
  auto into_src = Import(*src, out.path(), "auto", ImportOptions{});
  ASSERT_TRUE(into_src.ok());
  EXPECT_EQ(into_src->new_images, 0);
  EXPECT_EQ(into_src->new_label_events, 0);
}

TEST_P(RoundTripTest, SplitExportKeepsParts) {
  const std::string format = GetParam();
  TempDir home, out;
  auto src = std::move(Store::Open(home.path(), "src").value());
  ASSERT_TRUE(SynthesizeToStore(*src, SynthOptions{128, 96, 3, 0.8, 3}, 24).ok());
  auto info = src->CreateSplit("default", SplitRatios{}, 42);
  ASSERT_TRUE(info.ok());
  ExportOptions o;
  o.split = "default";
  ASSERT_TRUE(Export(*src, format, out.path(), o).ok());
  auto dst = std::move(Store::Open(home.path(), "dst").value());
  for (const char* part : {"train", "val", "test"}) {
    const std::string path = format == "yolo" ? out.path() : out / part;
    auto r = Import(*dst, path, "auto", ImportOptions{});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(r->errors.empty());
    if (format == "yolo") break;  // one data.yaml covers all parts
  }
  EXPECT_EQ(Labels(*dst), Labels(*src));
  EXPECT_EQ(dst->CreateSplit("default", SplitRatios{}, 42)->digest, info->digest);
}

INSTANTIATE_TEST_SUITE_P(Formats, RoundTripTest, ::testing::Values("yolo", "coco"));

TEST(RealDataRoundTrip, MetalTagsThroughYoloAndCoco) {
  const std::string shared = SharedDir();
  if (shared.empty()) GTEST_SKIP() << "shared data folder absent (set VQI_SHARED_DIR)";
  TempDir home, yolo, coco;
  auto src = std::move(Store::Open(home.path(), "src").value());
  ASSERT_TRUE(Import(*src, shared + "/datasets/metal-tags", "auto", ImportOptions{}).ok());
  ASSERT_TRUE(ExportYolo(*src, yolo.path(), ExportOptions{}).ok());
  ASSERT_TRUE(ExportCoco(*src, coco.path(), ExportOptions{}).ok());
  for (const std::string& dir : {yolo.path(), coco.path()}) {
    auto dst = std::move(Store::Open(home.path(), "dst" + std::to_string(dir.size())).value());
    auto r = Import(*dst, dir, "auto", ImportOptions{});
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->errors.empty());
    EXPECT_EQ(r->labeled, 180);
    EXPECT_EQ(r->boxes, 358);
    EXPECT_EQ(Labels(*dst), Labels(*src)) << dir;
    auto again = Import(*src, dir, "auto", ImportOptions{});
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->new_images + again->new_label_events, 0) << dir;
  }
}

// --- bad input, YOLO -------------------------------------------------------------------------

class YoloBadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteText(dir_ / "data.yaml", "names: [scratch]\n");
    WriteImage(dir_ / "images/a.jpg", 40, 30, 1);
    WriteText(dir_ / "labels/a.txt", "0 0.5 0.5 0.25 0.5\n");
    WriteImage(dir_ / "images/b.jpg", 40, 30, 2);
    WriteText(dir_ / "labels/b.txt", "");
    store_ = std::move(Store::Open(home_.path()).value());
  }
  ImportReport Run() {
    auto r = ImportYolo(*store_, dir_.path(), ImportOptions{});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ImportReport{};
  }
  void ExpectValidKept() {
    std::map<std::string, std::vector<Box>> by_name;
    const std::vector<Sample> labeled = *store_->LabeledSamples();
    for (const Sample& s : labeled) by_name[s.name] = s.boxes;
    EXPECT_EQ(by_name["a.jpg"], (std::vector<Box>{Box{0, 15, 7.5f, 10, 15}}));
    ASSERT_TRUE(by_name.count("b.jpg"));
    EXPECT_TRUE(by_name["b.jpg"].empty());
  }
  TempDir home_, dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(YoloBadInputTest, MalformedLineUnknownClassAndOutsideBox) {
  WriteImage(dir_ / "images/c.jpg", 40, 30, 3);
  WriteText(dir_ / "labels/c.txt", "0 0.5 0.5 0.1\n3 0.5 0.5 0.1 0.1\n0 0.9 0.5 0.4 0.1\n");
  ImportReport r = Run();
  ASSERT_EQ(r.errors.size(), 3u);
  EXPECT_EQ(r.errors[0].ToString(), "labels/c.txt:1: expected 5 values (class cx cy w h), got 4");
  EXPECT_EQ(r.errors[1].ToString(), "labels/c.txt:2: unknown class id 3 (known: 0..0)");
  EXPECT_EQ(r.errors[2].ToString(),
            "labels/c.txt:3: box (x 28, y 13.5, width 16, height 3) lies outside the 40x30 "
            "image");
  EXPECT_EQ(r.unlabeled, 1);
  ExpectValidKept();
}

TEST_F(YoloBadInputTest, ZeroSizeBoxAndMissingImageAndNonImage) {
  WriteImage(dir_ / "images/z.png", 40, 30, 4, ".png");
  WriteText(dir_ / "labels/z.txt", "0 0.5 0.5 0 0.2\n");
  WriteText(dir_ / "labels/ghost.txt", "0 0.5 0.5 0.1 0.1\n");
  WriteText(dir_ / "images/readme.jpg", "not an image");
  ImportReport r = Run();
  ASSERT_EQ(r.errors.size(), 3u);
  EXPECT_EQ(r.errors[0].ToString(), "images/readme.jpg: not an image (unrecognized content)");
  EXPECT_EQ(r.errors[1].ToString(), "labels/z.txt:1: zero-size box (width 0, height 6)");
  EXPECT_EQ(r.errors[2].ToString(), "labels/ghost.txt: missing image file for this label file");
  ExpectValidKept();
}

TEST_F(YoloBadInputTest, DuplicateAndTruncatedImages) {
  WriteImage(dir_ / "images/a-copy.jpg", 40, 30, 1);
  const std::string bytes = testing::ImageBytes(40, 30, 5);
  WriteText(dir_ / "images/t.jpg", bytes.substr(0, bytes.size() - 30));
  ImportReport r = Run();
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0].ToString(),
            "images/a.jpg: duplicate image: same content as images/a-copy.jpg");
  EXPECT_EQ(r.errors[1].ToString(), "images/t.jpg: truncated JPEG (no end-of-image marker)");
  // a-copy.jpg (first in order) has no label file, so the labeled copy was the duplicate.
  EXPECT_EQ(r.images, 2);
}

TEST_F(YoloBadInputTest, BadDataYamlIsFatal) {
  WriteText(dir_ / "data.yaml", "nc: 1\n");
  EXPECT_EQ(ImportYolo(*store_, dir_.path(), ImportOptions{}).status().code(),
            StatusCode::kInvalidArgument);
  WriteText(dir_ / "data.yaml", "names: [a, b\n");
  auto r = ImportYolo(*store_, dir_.path(), ImportOptions{});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("data.yaml"), std::string::npos);
  EXPECT_EQ(*store_->ImageCount(), 0);
}

TEST_F(YoloBadInputTest, StrictWritesNothing) {
  WriteText(dir_ / "labels/ghost.txt", "0 0.5 0.5 0.1 0.1\n");
  ImportOptions o;
  o.strict = true;
  auto r = ImportYolo(*store_, dir_.path(), o);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->committed);
  EXPECT_EQ(*store_->ImageCount(), 0);
}

// --- bad input, COCO -------------------------------------------------------------------------

class CocoBadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteImage(dir_ / "images/a.jpg", 40, 30, 1);
    WriteImage(dir_ / "images/b.jpg", 40, 30, 2);
    store_ = std::move(Store::Open(home_.path()).value());
  }
  ImportReport Run(const std::string& extra_images, const std::string& extra_annotations) {
    WriteText(dir_ / "annotations.json",
              R"({"categories": [{"id": 1, "name": "scratch"}],
                  "images": [{"id": 1, "file_name": "a.jpg", "width": 40, "height": 30},
                             {"id": 2, "file_name": "b.jpg"})" +
                  extra_images + R"(],
                  "annotations": [{"id": 1, "image_id": 1, "category_id": 1,
                                   "bbox": [1.5, 2, 10, 12]})" +
                  extra_annotations + "]}");
    auto r = ImportCoco(*store_, dir_.path(), ImportOptions{});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ImportReport{};
  }
  void ExpectValidKept() {
    std::map<std::string, std::vector<Box>> by_name;
    const std::vector<Sample> labeled = *store_->LabeledSamples();
    for (const Sample& s : labeled) by_name[s.name] = s.boxes;
    EXPECT_EQ(by_name["a.jpg"], (std::vector<Box>{Box{0, 1.5f, 2, 10, 12}}));
    ASSERT_TRUE(by_name.count("b.jpg"));
    EXPECT_TRUE(by_name["b.jpg"].empty());
  }
  TempDir home_, dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(CocoBadInputTest, Clean) {
  ImportReport r = Run("", "");
  EXPECT_TRUE(r.errors.empty());
  ExpectValidKept();
}

TEST_F(CocoBadInputTest, MissingImageNonImageAndSizeMismatch) {
  WriteText(dir_ / "images/n.jpg", "text");
  WriteImage(dir_ / "images/s.jpg", 40, 30, 3);
  ImportReport r = Run(R"(, {"id": 3, "file_name": "gone.jpg"}, {"id": 4, "file_name": "n.jpg"},
                          {"id": 5, "file_name": "s.jpg", "width": 41, "height": 30})",
                       R"(, {"id": 2, "image_id": 3, "category_id": 1, "bbox": [1, 1, 2, 2]})");
  ASSERT_EQ(r.errors.size(), 3u);
  EXPECT_EQ(r.errors[0].ToString(), "annotations.json: images[2]: image file not found: gone.jpg");
  EXPECT_EQ(r.errors[1].ToString(), "images/n.jpg: not an image (unrecognized content)");
  EXPECT_EQ(r.errors[2].ToString(),
            "annotations.json: images[4]: size 41x30 does not match the image (40x30)");
  ExpectValidKept();
}

TEST_F(CocoBadInputTest, BadAnnotations) {
  WriteImage(dir_ / "images/c.jpg", 40, 30, 3);
  ImportReport r = Run(R"(, {"id": 3, "file_name": "c.jpg"})",
                       R"(, {"image_id": 3, "category_id": 9, "bbox": [1, 1, 2, 2]},
                          {"image_id": 3, "category_id": 1, "bbox": [1, 1, "2", 2]},
                          {"image_id": 3, "category_id": 1, "bbox": [35, 1, 10, 2]},
                          {"image_id": 3, "category_id": 1, "bbox": [1, 1, 0, 2]},
                          {"image_id": 77, "category_id": 1, "bbox": [1, 1, 2, 2]})");
  ASSERT_EQ(r.errors.size(), 5u);
  EXPECT_EQ(r.errors[0].ToString(), "annotations.json: annotations[1]: unknown category id 9");
  EXPECT_EQ(r.errors[1].ToString(),
            "annotations.json: annotations[2]: bbox must be [x, y, width, height], four numbers "
            "within +-1e9");
  EXPECT_EQ(r.errors[2].ToString(),
            "annotations.json: annotations[3]: box (x 35, y 1, width 10, height 2) lies outside "
            "the 40x30 image");
  EXPECT_EQ(r.errors[3].ToString(),
            "annotations.json: annotations[4]: zero-size box (width 0, height 2)");
  EXPECT_EQ(r.errors[4].ToString(), "annotations.json: annotations[5]: unknown image_id 77");
  EXPECT_EQ(r.unlabeled, 1);  // c.jpg: its label had bad boxes
  ExpectValidKept();
}

TEST_F(CocoBadInputTest, DuplicateImageAndMalformedJson) {
  WriteImage(dir_ / "images/a2.jpg", 40, 30, 1);
  ImportReport r = Run(R"(, {"id": 3, "file_name": "a2.jpg"})", "");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].ToString(), "images/a2.jpg: duplicate image: same content as images/a.jpg");
  ExpectValidKept();
  WriteText(dir_ / "annotations.json", "{\"images\": [");
  auto bad = ImportCoco(*store_, dir_.path(), ImportOptions{});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST(SynthYoloTest, WritesAnImportableFolder) {
  TempDir home, out;
  auto r = SynthesizeToYolo(out.path(), SynthOptions{96, 64, 5, 0.8, 3}, 12);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto store = std::move(Store::Open(home.path()).value());
  auto imp = Import(*store, out.path(), "auto", ImportOptions{});
  ASSERT_TRUE(imp.ok()) << imp.status().ToString();
  EXPECT_TRUE(imp->errors.empty());
  EXPECT_EQ(imp->labeled, 12);
  EXPECT_EQ(imp->boxes, r->boxes);
  // Into a store directly: same again adds nothing.
  auto s1 = SynthesizeToStore(*store, SynthOptions{96, 64, 5, 0.8, 3}, 12);
  ASSERT_TRUE(s1.ok());
  EXPECT_EQ(s1->new_images, 0);  // identical JPEG bytes
  auto s2 = SynthesizeToStore(*store, SynthOptions{96, 64, 5, 0.8, 3}, 12);
  EXPECT_EQ(s2->new_images, 0);
  EXPECT_EQ(store->LabeledSamples()->size(), 12u);
}

}  // namespace
}  // namespace vqi::dataset
