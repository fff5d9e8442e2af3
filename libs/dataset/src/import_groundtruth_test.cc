// Ground-Truth CSV import: the real metal-tags set, and one test per kind of bad input, each
// asserting the reported message and that the valid records were kept.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

#include "test_util.h"
#include "vqi/base/system.h"
#include "vqi/dataset/import.h"

namespace vqi::dataset {
namespace {

using testing::TempDir;
using testing::WriteImage;
using testing::WriteText;

constexpr const char* kHeader =
    "source_ref,image_width,image_height,image_depth,annotations,event_time,labeling_job,"
    "status\n";

std::string Row(const std::string& file, const std::string& annotations,
                const std::string& status = "APPROVED", const std::string& size = "40,30") {
  return "s3://${bucket}/pipeline/assets/images/" + file + "," + size + ",3,\"" + annotations +
         "\",1657199072.0,labeling-job/j1," + status + "\n";
}

const char* kBox = "[{'class_id': 0, 'top': 5, 'left': 6, 'height': 10, 'width': 12}]";

// A folder with two valid labeled images (a, b) and one unlabeled (c).
class GroundTruthImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteImage(dir_ / "images/bad/a-cropped-left-top.jpg", 40, 30, 1);
    WriteImage(dir_ / "images/bad/b-cropped-left-top.jpg", 40, 30, 2);
    WriteImage(dir_ / "images/good/c-cropped-left-top.jpg", 40, 30, 3);
    rows_ = Row("bad/a-cropped-left-top.jpg", kBox) + Row("bad/b-cropped-left-top.jpg", "[]");
    store_ = std::move(Store::Open(home_.path()).value());
  }

  ImportReport Run(const std::string& extra_rows, bool strict = false) {
    WriteText(dir_ / "labels.csv", kHeader + rows_ + extra_rows);
    ImportOptions o;
    o.strict = strict;
    auto r = ImportGroundTruth(*store_, dir_.path(), o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ImportReport{};
  }

  // The one reported error; fails the test unless there is exactly one.
  std::string OnlyError(const ImportReport& r) {
    EXPECT_EQ(r.errors.size(), 1u);
    std::string all;
    for (const auto& e : r.errors) all += e.ToString() + "\n";
    return r.errors.size() == 1 ? r.errors[0].ToString() : all;
  }

  // The two valid labels made it into the store.
  void ExpectValidKept() {
    auto labeled = store_->LabeledSamples();
    ASSERT_TRUE(labeled.ok());
    std::map<std::string, std::vector<Box>> by_name;
    for (const Sample& s : *labeled) by_name[s.name] = s.boxes;
    ASSERT_TRUE(by_name.count("a-cropped-left-top.jpg"));
    EXPECT_EQ(by_name["a-cropped-left-top.jpg"], (std::vector<Box>{Box{0, 6, 5, 12, 10}}));
    ASSERT_TRUE(by_name.count("b-cropped-left-top.jpg"));
    EXPECT_TRUE(by_name["b-cropped-left-top.jpg"].empty());
  }

  TempDir home_, dir_;
  std::string rows_;
  std::unique_ptr<Store> store_;
};

TEST_F(GroundTruthImportTest, CleanImport) {
  ImportReport r = Run("");
  EXPECT_TRUE(r.errors.empty());
  EXPECT_TRUE(r.committed);
  EXPECT_EQ(r.images, 3);
  EXPECT_EQ(r.labeled, 2);
  EXPECT_EQ(r.boxes, 1);
  EXPECT_EQ(r.empty_labels, 1);
  EXPECT_EQ(r.unlabeled, 1);
  ExpectValidKept();
  EXPECT_EQ(store_->UnlabeledSamples()->size(), 1u);
  EXPECT_EQ(store_->ClassNames(), std::vector<std::string>{"scratch"});
  // Re-import adds nothing.
  ImportReport again = Run("");
  EXPECT_EQ(again.new_images, 0);
  EXPECT_EQ(again.new_label_events, 0);
}

TEST_F(GroundTruthImportTest, ImagesInAnotherFolderMatchByName) {
  TempDir elsewhere;
  WriteText(dir_ / "labels.csv", kHeader + rows_);
  std::filesystem::rename(dir_ / "images", elsewhere / "pics");
  ImportOptions o;
  o.images_dir = elsewhere / "pics";
  auto r = ImportGroundTruth(*store_, dir_ / "labels.csv", o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->errors.empty());
  EXPECT_EQ(r->images, 3);
  ExpectValidKept();
}

TEST_F(GroundTruthImportTest, TruncatedJpeg) {
  std::string bytes = testing::ImageBytes(40, 30, 9);
  WriteText(dir_ / "images/bad/t.jpg", bytes.substr(0, bytes.size() / 2));
  ImportReport r = Run(Row("bad/t.jpg", kBox));
  EXPECT_EQ(OnlyError(r), "images/bad/t.jpg: truncated JPEG (no end-of-image marker)");
  EXPECT_EQ(r.images, 3);
  ExpectValidKept();
}

TEST_F(GroundTruthImportTest, CorruptJpeg) {
  WriteText(dir_ / "images/bad/k.jpg", std::string("\xFF\xD8\xFF\xE0garbage-garbage\xFF\xD9"));
  ImportReport r = Run("");
  EXPECT_EQ(OnlyError(r), "images/bad/k.jpg: corrupt jpeg header (no frame header)");
  ExpectValidKept();
}

TEST_F(GroundTruthImportTest, NonImageFile) {
  WriteText(dir_ / "images/good/notes.jpg", "these are not pixels\n");
  ImportReport r = Run("");
  EXPECT_EQ(OnlyError(r), "images/good/notes.jpg: not an image (unrecognized content)");
  ExpectValidKept();
}

TEST_F(GroundTruthImportTest, OddExtensionsAreDetectedFromContent) {
  WriteImage(dir_ / "images/bad/d-cropped-right-top.jpg_3", 40, 30, 4);
  WriteImage(dir_ / "images/bad/e.png", 40, 30, 5, ".jpg");  // a JPEG named .png
  ImportReport r = Run(Row("bad/d-cropped-right-top.jpg_3", kBox));
  EXPECT_TRUE(r.errors.empty()) << OnlyError(r);
  EXPECT_EQ(r.images, 5);
  EXPECT_EQ(r.labeled, 3);
  ExpectValidKept();
  bool found = false;
  const std::vector<Sample> labeled = *store_->LabeledSamples();
  for (const Sample& s : labeled) {
    if (s.name != "d-cropped-right-top.jpg_3") continue;
    found = true;
    EXPECT_EQ(s.capture_id, "d");
    EXPECT_EQ(std::filesystem::path(s.path).extension(), ".jpg");
  }
  EXPECT_TRUE(found);
}

TEST_F(GroundTruthImportTest, BoxOutsideImage) {
  WriteImage(dir_ / "images/bad/o.jpg", 40, 30, 6);
  ImportReport r =
      Run(Row("bad/o.jpg", "[{'class_id': 0, 'top': 25, 'left': 30, 'height': 10, 'width': 12}]"));
  EXPECT_EQ(OnlyError(r),
            "labels.csv:4: annotation 1: box (x 30, y 25, width 12, height 10) lies outside the "
            "40x30 image");
  EXPECT_EQ(r.labeled, 2);
  EXPECT_EQ(r.unlabeled, 2);  // c, and o whose label was rejected
  ExpectValidKept();
}

TEST_F(GroundTruthImportTest, ZeroSizeBox) {
  WriteImage(dir_ / "images/bad/z.jpg", 40, 30, 7);
  ImportReport r = Run(Row("bad/z.jpg",
                           "[{'class_id': 0, 'top': 5, 'left': 6, 'height': 10, 'width': 12}, "
                           "{'class_id': 0, 'top': 5, 'left': 6, 'height': 0, 'width': 12}]"));
  EXPECT_EQ(OnlyError(r), "labels.csv:4: annotation 2: zero-size box (width 12, height 0)");
  ExpectValidKept();
}

TEST_F(GroundTruthImportTest, MalformedCsvRows) {
  ImportReport r = Run("s3://x/pipeline/assets/images/good/c-cropped-left-top.jpg,40,30\n" +
                       std::string("bad\"quote,1,2,3,[],1,j,APPROVED\n"));
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0].ToString(), "labels.csv:4: malformed row: 3 fields, the header has 8");
  EXPECT_EQ(r.errors[1].ToString(),
            "labels.csv:5: malformed row: stray quote inside an unquoted field");
  ExpectValidKept();
  ImportReport u =
      Run("s3://x/pipeline/assets/images/good/c-cropped-left-top.jpg,40,30,3,\"[{'class_id'\n");
  EXPECT_EQ(OnlyError(u),
            "labels.csv:4: malformed row: unterminated quoted field (opened on line 4)");
  ExpectValidKept();
}

TEST_F(GroundTruthImportTest, MalformedAnnotationLiteral) {
  ImportReport r = Run(Row("good/c-cropped-left-top.jpg", "[{'class_id': 0, 'top': five}]"));
  EXPECT_EQ(OnlyError(r), "labels.csv:4: annotations: expected a number at offset 24");
  ImportReport m = Run(Row("good/c-cropped-left-top.jpg", "[{'class_id': 0, 'top': 5}]"));
  EXPECT_EQ(OnlyError(m), "labels.csv:4: annotation 1: missing 'left'");
  EXPECT_EQ(m.unlabeled, 1);
  ExpectValidKept();
}

TEST_F(GroundTruthImportTest, UnknownClassId) {
  ImportReport r = Run(Row("good/c-cropped-left-top.jpg",
                           "[{'class_id': 3, 'top': 5, 'left': 6, 'height': 10, 'width': 12}]"));
  EXPECT_EQ(OnlyError(r), "labels.csv:4: annotation 1: unknown class id 3 (known: 0..0)");
  ExpectValidKept();
}

TEST_F(GroundTruthImportTest, DuplicateImage) {
  WriteImage(dir_ / "images/good/copy-of-a.jpg", 40, 30, 1);  // same bytes as a
  ImportReport r = Run(Row("good/copy-of-a.jpg", "[]"));
  EXPECT_EQ(OnlyError(r),
            "images/good/copy-of-a.jpg: duplicate image: same content as "
            "images/bad/a-cropped-left-top.jpg");
  EXPECT_EQ(r.images, 3);
  ExpectValidKept();
}

TEST_F(GroundTruthImportTest, MissingImageFile) {
  ImportReport r = Run(Row("bad/missing.jpg", kBox));
  EXPECT_EQ(OnlyError(r), "labels.csv:4: image file not found: images/bad/missing.jpg");
  ExpectValidKept();
}

TEST_F(GroundTruthImportTest, SizeAndStatusMismatch) {
  ImportReport r = Run(Row("good/c-cropped-left-top.jpg", "[]", "APPROVED", "450,300") +
                       Row("good/c-cropped-left-top.jpg", "[]", "MAYBE"));
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0].ToString(),
            "labels.csv:4: image_width 450 does not match the image (40x30)");
  EXPECT_EQ(r.errors[1].ToString(),
            "labels.csv:5: status: unknown label status 'MAYBE' (expected APPROVED, PENDING or "
            "REJECTED)");
  ExpectValidKept();
}

TEST_F(GroundTruthImportTest, StrictWritesNothingOnAnyError) {
  ImportReport r = Run(Row("bad/missing.jpg", kBox), /*strict=*/true);
  EXPECT_FALSE(r.committed);
  EXPECT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(*store_->ImageCount(), 0);
  EXPECT_TRUE(store_->LabeledSamples()->empty());
  // Without errors strict imports normally.
  ImportReport ok = Run("", /*strict=*/true);
  EXPECT_TRUE(ok.committed);
  ExpectValidKept();
}

TEST(GroundTruthRealDataTest, MetalTagsImportsCleanlyAndSplitsByCapture) {
  const std::string shared = SharedDir();
  if (shared.empty()) GTEST_SKIP() << "shared data folder absent (set VQI_SHARED_DIR)";
  TempDir home;
  auto store = std::move(Store::Open(home.path()).value());
  auto r = ImportGroundTruth(*store, shared + "/datasets/metal-tags", ImportOptions{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (const auto& e : r->errors) ADD_FAILURE() << e.ToString();
  EXPECT_EQ(r->images, 193);
  EXPECT_EQ(r->labeled, 180);
  EXPECT_EQ(r->boxes, 358);
  EXPECT_EQ(r->empty_labels, 5);
  EXPECT_EQ(r->unlabeled, 13);
  EXPECT_EQ(store->UnlabeledSamples()->size(), 13u);
  auto again = ImportGroundTruth(*store, shared + "/datasets/metal-tags", ImportOptions{});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->new_images, 0);
  EXPECT_EQ(again->new_label_events, 0);

  auto info = store->CreateSplit("default", SplitRatios{}, 42);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  std::map<std::string, std::string> part_of;
  for (const char* part : {"train", "val", "test"}) {
    const std::vector<Sample> samples = *store->SplitSamples("default", part);
    for (const Sample& s : samples) {
      auto [it, inserted] = part_of.emplace(s.capture_id, part);
      EXPECT_EQ(it->second, part) << "capture " << s.capture_id << " in two splits";
    }
  }
  EXPECT_EQ(info->train + info->val + info->test, 180);
  // The same seed in a fresh store gives the same snapshot.
  TempDir home2;
  auto store2 = std::move(Store::Open(home2.path()).value());
  ASSERT_TRUE(ImportGroundTruth(*store2, shared + "/datasets/metal-tags", ImportOptions{}).ok());
  EXPECT_EQ(store2->CreateSplit("default", SplitRatios{}, 42)->digest, info->digest);
  EXPECT_NE(store2->CreateSplit("other", SplitRatios{}, 7)->digest, info->digest);
}

}  // namespace
}  // namespace vqi::dataset
