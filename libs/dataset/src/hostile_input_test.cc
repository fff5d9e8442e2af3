// Hostile and careless input (issue 16): each case asserts the clear error and that nothing
// stored changed (a whole-file refusal) or that only the bad record was left out.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "test_util.h"
#include "text_formats.h"
#include "vqi/base/file.h"
#include "vqi/base/hash.h"
#include "vqi/base/json.h"
#include "vqi/dataset/export.h"
#include "vqi/dataset/image.h"
#include "vqi/dataset/import.h"
#include "vqi/dataset/limits.h"
#include "vqi/sqlite/sqlite.h"
#include "vqi/yolo/image_header.h"

namespace vqi::dataset {
namespace {
namespace fs = std::filesystem;

using testing::TempDir;
using testing::WriteImage;
using testing::WriteText;

// An empty file at `path`, to be grown sparsely (no disk used) past a size limit.
std::string WriteSparse(const std::string& path) {
  WriteText(path, "");
  return path;
}

class HostileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(Store::Open(home_.path()).value());
    // Something already stored, so "unchanged" means something.
    const std::string bytes = testing::ImageBytes(40, 30, 99);
    ImageRecord r{Sha256Hex(bytes), "base.jpg", "base", 40, 30, "jpeg", "test"};
    ASSERT_TRUE(store_->EnsureClass("scratch").ok());
    ASSERT_TRUE(store_->AddImage(r, bytes).ok());
    LabelEvent e;
    e.image_id = r.image_id;
    e.boxes = {Box{0, 1, 2, 3, 4}};
    e.event_time = 5;
    ASSERT_TRUE(store_->AppendLabel(e).ok());
    WriteImage(dir_ / "images/a.jpg", 40, 30, 1);
    WriteImage(dir_ / "images/b.jpg", 40, 30, 2);
  }

  // Everything the store holds: images with labels and history, classes, splits, blob files.
  std::string Snapshot() const {
    std::ostringstream s;
    for (bool labeled : {true, false}) {
      const std::vector<Sample> samples =
          (labeled ? store_->LabeledSamples() : store_->UnlabeledSamples()).value();
      for (const Sample& x : samples) {
        s << x.image_id << ' ' << x.name << ' ' << x.width << 'x' << x.height;
        for (const Box& b : x.boxes) s << " [" << b.class_id << ' ' << b.x << ' ' << b.y << ']';
        s << " events=" << store_->LabelHistory(x.image_id)->size() << '\n';
      }
    }
    for (const std::string& c : store_->ClassNames()) s << "class " << c << '\n';
    const std::vector<SplitInfo> splits = store_->Splits().value();
    for (const SplitInfo& i : splits) s << "split " << i.name << ' ' << i.digest << '\n';
    for (const auto& e : fs::recursive_directory_iterator(store_->dir() + "/blobs"))
      if (e.is_regular_file()) s << "blob " << e.path().filename().string() << '\n';
    return s.str();
  }
  std::set<std::string> Names() const {
    std::set<std::string> out;
    const std::vector<Sample> labeled = store_->LabeledSamples().value();
    const std::vector<Sample> unlabeled = store_->UnlabeledSamples().value();
    for (const Sample& x : labeled) out.insert(x.name);
    for (const Sample& x : unlabeled) out.insert(x.name);
    return out;
  }
  static std::string Errors(const ImportReport& r) {
    std::string all;
    for (const auto& e : r.errors) all += e.ToString() + "\n";
    return all;
  }
  static bool Has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
  }

  // COCO with a.jpg (id 1) and b.jpg (id 2), one category, one box on a.
  std::string Coco(const std::string& images_extra = "", const std::string& anns_extra = "",
                   const std::string& cats = R"([{"id": 1, "name": "scratch"}])") {
    return R"({"categories": )" + cats + R"(,
      "images": [{"id": 1, "file_name": "a.jpg"}, {"id": 2, "file_name": "b.jpg"})" +
           images_extra + R"(],
      "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 10, 12]})" +
           anns_extra + "]}";
  }
  Result<ImportReport> ImportCocoText(const std::string& json) {
    WriteText(dir_ / "annotations.json", json);
    return ImportCoco(*store_, dir_.path(), ImportOptions{});
  }
  // The whole file must be refused with `code` and a message holding `part`, storing nothing.
  void ExpectRefused(const Result<ImportReport>& r, StatusCode code, const std::string& part,
                     const std::string& before) {
    ASSERT_FALSE(r.ok()) << "accepted: " << Errors(*r);
    EXPECT_EQ(r.status().code(), code) << r.status().ToString();
    EXPECT_TRUE(Has(r.status().message(), part)) << r.status().ToString();
    EXPECT_EQ(Snapshot(), before);
  }

  TempDir home_, dir_;
  std::unique_ptr<Store> store_;
};

// ---- COCO: ids unique per file, class names unique, or the file is refused.

TEST_F(HostileTest, CocoDuplicateImageIdRefusesTheFile) {
  const std::string before = Snapshot();
  WriteImage(dir_ / "images/c.jpg", 40, 30, 3);
  ExpectRefused(ImportCocoText(Coco(R"(, {"id": 1, "file_name": "c.jpg"})")),
                StatusCode::kInvalidArgument, "images[2]: duplicate image id 1 (also images[0])",
                before);
}

TEST_F(HostileTest, CocoDuplicateStringImageIdRefusesTheFile) {
  const std::string before = Snapshot();
  auto r = ImportCocoText(R"({"images": [{"id": "x", "file_name": "a.jpg"},
                                        {"id": "x", "file_name": "b.jpg"}]})");
  ExpectRefused(r, StatusCode::kInvalidArgument, "duplicate image id \"x\"", before);
}

TEST_F(HostileTest, CocoDuplicateAnnotationIdRefusesTheFile) {
  const std::string before = Snapshot();
  ExpectRefused(ImportCocoText(Coco(
                    "", R"(, {"id": 1, "image_id": 2, "category_id": 1, "bbox": [1, 1, 2, 2]})")),
                StatusCode::kInvalidArgument, "annotations[1]: duplicate annotation id 1", before);
}

TEST_F(HostileTest, CocoDuplicateCategoryIdRefusesTheFile) {
  const std::string before = Snapshot();
  ExpectRefused(ImportCocoText(Coco("", "", R"([{"id": 1, "name": "scratch"},
                                               {"id": 1, "name": "dent"}])")),
                StatusCode::kInvalidArgument, "categories[1]: duplicate category id 1", before);
}

TEST_F(HostileTest, CocoDuplicateCategoryNameRefusesTheFile) {
  const std::string before = Snapshot();
  ExpectRefused(ImportCocoText(Coco("", "", R"([{"id": 1, "name": "scratch"},
                                               {"id": 2, "name": "scratch"}])")),
                StatusCode::kInvalidArgument, "same name 'scratch' as class 0", before);
}

TEST_F(HostileTest, CocoEmptyCategoryNameRefusesTheFile) {
  const std::string before = Snapshot();
  ExpectRefused(ImportCocoText(Coco("", "", R"([{"id": 1, "name": " "}])")),
                StatusCode::kInvalidArgument, "class 0 has an empty name", before);
}

TEST_F(HostileTest, CocoIdOfWrongTypeRefusesTheFile) {
  const std::string before = Snapshot();
  ExpectRefused(ImportCocoText(Coco(R"(, {"id": {"a": 1}, "file_name": "b.jpg"})")),
                StatusCode::kInvalidArgument, "images[2]: id must be an integer or a string",
                before);
}

TEST_F(HostileTest, CocoTooDeepJsonRefusedNotCrashed) {
  const std::string before = Snapshot();
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  ExpectRefused(ImportCocoText(R"({"images": [], "x": )" + deep + "}"),
                StatusCode::kResourceExhausted, "nest", before);
}

TEST_F(HostileTest, CocoFileNameLeavingTheFolderIsSkipped) {
  WriteImage(dir_.path() + "/../outside-" + fs::path(dir_.path()).filename().string() + ".jpg", 40,
             30, 7);
  auto r = ImportCocoText(
      Coco(R"(, {"id": 3, "file_name": "../outside.jpg"}, {"id": 4, "file_name": "/etc/passwd"})"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(Has(Errors(*r), "images[2]: file_name '../outside.jpg' leaves the dataset folder"))
      << Errors(*r);
  EXPECT_TRUE(Has(Errors(*r), "images[3]: file_name '/etc/passwd' is an absolute path"));
  EXPECT_EQ(Names(), (std::set<std::string>{"base.jpg", "a.jpg", "b.jpg"}));
  fs::remove(dir_.path() + "/../outside-" + fs::path(dir_.path()).filename().string() + ".jpg");
}

TEST_F(HostileTest, CocoHugeBoxNumbersAreReportedNotConverted) {
  auto r = ImportCocoText(
      Coco("", R"(, {"id": 2, "image_id": 2, "category_id": 1, "bbox": [1e300, 1, 2, 2]})"));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(Has(Errors(*r),
                  "annotations[1]: bbox must be [x, y, width, height], four numbers "
                  "within +-1e9"))
      << Errors(*r);
  EXPECT_EQ(r->unlabeled, 1);  // b's label was bad: b stays unlabeled
  EXPECT_EQ(store_->UnlabeledSamples()->size(), 1u);
}

TEST_F(HostileTest, CocoTooManyBoxesForOneImage) {
  std::string anns;
  for (int i = 0; i < kMaxBoxesPerImage + 5; ++i)
    anns += R"(, {"image_id": 2, "category_id": 1, "bbox": [1, 1, 2, 2]})";
  auto r = ImportCocoText(Coco("", anns));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->errors.size(), 1u) << Errors(*r);  // reported once, not 5 times
  EXPECT_TRUE(Has(Errors(*r), "the limit is 10000 per image"));
  EXPECT_EQ(store_->UnlabeledSamples()->size(), 1u);  // b: label refused whole
}

TEST_F(HostileTest, CocoAnnotationsNotAnArrayRefused) {
  const std::string before = Snapshot();
  ExpectRefused(ImportCocoText(R"({"images": [], "annotations": {"a": 1}})"),
                StatusCode::kInvalidArgument, "'annotations' must be an array", before);
}

// ---- Class names unique in every format.

TEST_F(HostileTest, GroundTruthDuplicateClassNamesRefused) {
  WriteText(dir_ / "labels.csv", "source_ref,annotations\n");
  const std::string before = Snapshot();
  ImportOptions o;
  o.class_names = {"scratch", "dent", "scratch"};
  auto r = ImportGroundTruth(*store_, dir_.path(), o);
  ExpectRefused(r, StatusCode::kInvalidArgument,
                "--classes: class 2 has the same name 'scratch' as class 0", before);
  o.class_names = {"a", "", "b"};
  ExpectRefused(ImportGroundTruth(*store_, dir_.path(), o), StatusCode::kInvalidArgument,
                "class 1 has an empty name", before);
}

TEST_F(HostileTest, YoloDuplicateClassNamesRefused) {
  WriteText(dir_ / "data.yaml", "names: [scratch, dent, dent]\n");
  const std::string before = Snapshot();
  ExpectRefused(ImportYolo(*store_, dir_.path(), ImportOptions{}), StatusCode::kInvalidArgument,
                "class 2 has the same name 'dent' as class 1", before);
}

// ---- CSV text: BOM, CR-only line ends, duplicate columns, huge numbers.

constexpr const char* kGtHeader = "source_ref,image_width,image_height,annotations\n";
std::string GtRow(const std::string& file, const std::string& ann) {
  return "s3://b/pipeline/assets/images/" + file + ",40,30,\"" + ann + "\"\n";
}
const char* kGtBox = "[{'class_id': 0, 'top': 5, 'left': 6, 'height': 10, 'width': 12}]";

TEST_F(HostileTest, CsvWithUtf8BomImports) {
  WriteText(dir_ / "labels.csv", std::string("\xEF\xBB\xBF") + kGtHeader + GtRow("a.jpg", kGtBox) +
                                     GtRow("b.jpg", "[]"));
  auto r = ImportGroundTruth(*store_, dir_.path(), ImportOptions{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->errors.size(), 0u) << Errors(*r);
  EXPECT_EQ(r->labeled, 2);
  EXPECT_EQ(r->boxes, 1);
}

TEST_F(HostileTest, CsvWithCrOnlyLineEndsImports) {
  std::string text = std::string(kGtHeader) + GtRow("a.jpg", kGtBox) + GtRow("b.jpg", "[]");
  for (char& c : text)
    if (c == '\n') c = '\r';
  WriteText(dir_ / "labels.csv", text + "s3://b/pipeline/assets/images/zz.jpg,40,30,\"[]\"\r");
  auto r = ImportGroundTruth(*store_, dir_.path(), ImportOptions{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->labeled, 2);
  EXPECT_EQ(r->boxes, 1);
  // Lines are counted at the lone CRs too: the missing image is on line 4.
  EXPECT_EQ(Errors(*r), "labels.csv:4: image file not found: images/zz.jpg\n");
}

TEST_F(HostileTest, CsvDuplicateColumnRefused) {
  WriteText(dir_ / "labels.csv", "source_ref,annotations,annotations\n");
  const std::string before = Snapshot();
  ExpectRefused(ImportGroundTruth(*store_, dir_.path(), ImportOptions{}),
                StatusCode::kInvalidArgument, "column 'annotations' appears twice", before);
}

TEST_F(HostileTest, CsvHugeClassIdAndCoordinateAreRowErrors) {
  WriteText(
      dir_ / "labels.csv",
      std::string(kGtHeader) +
          GtRow("a.jpg", "[{'class_id': 1e300, 'top': 5, 'left': 6, 'height': 1, 'width': 1}]") +
          GtRow("b.jpg", "[{'class_id': 0, 'top': 5, 'left': -1e300, 'height': 1, 'width': 1}]"));
  auto r = ImportGroundTruth(*store_, dir_.path(), ImportOptions{});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(Has(Errors(*r), "labels.csv:2: annotation 1: unknown class id 1e+300")) << Errors(*r);
  EXPECT_TRUE(Has(Errors(*r), "labels.csv:3: annotation 1: 'left' -1e+300 is out of range"));
  EXPECT_EQ(r->labeled, 0);
}

TEST_F(HostileTest, YoloCrOnlyLabelFileAndHugeClassId) {
  WriteText(dir_ / "data.yaml", "names: [scratch]\n");
  WriteText(dir_ / "labels/a.txt", "0 0.5 0.5 0.2 0.2\r0 0.3 0.3 0.1 0.1\r");
  WriteText(dir_ / "labels/b.txt", "1e30 0.5 0.5 0.2 0.2\n");
  auto r = ImportYolo(*store_, dir_.path(), ImportOptions{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->labeled, 1);
  EXPECT_EQ(r->boxes, 2);
  EXPECT_EQ(Errors(*r), "labels/b.txt:1: class id '1e30' is not a non-negative integer\n");
}

// ---- File names that are not UTF-8.

TEST_F(HostileTest, NonUtf8FileNameIsRefusedAndTheRestImported) {
  WriteImage(dir_.path() + "/images/bad-\xff\xfe.jpg", 40, 30, 5);
  WriteText(dir_ / "data.yaml", "names: [scratch]\n");
  auto r = ImportYolo(*store_, dir_.path(), ImportOptions{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Errors(*r),
            "images/bad-%FF%FE.jpg: file name is not valid UTF-8 (shown with %XX for "
            "the bad bytes); rename it\n");
  EXPECT_EQ(Names(), (std::set<std::string>{"base.jpg", "a.jpg", "b.jpg"}));
  // The report is valid UTF-8, so it serializes.
  EXPECT_TRUE(IsValidUtf8(Errors(*r)));
}

TEST_F(HostileTest, LegacyNonUtf8NameStillExportsAndCanBeRemoved) {
  // A store written before the check: rename the stored image to raw bytes.
  const std::string id = store_->LabeledSamples()->at(0).image_id;
  {
    auto db = sqlite::Db::Open(store_->dir() + "/dataset.db");
    ASSERT_TRUE(db.ok());
    auto st = db->Prepare("UPDATE images SET name = ? WHERE id = ?");
    ASSERT_TRUE(st->Bind(1, std::string("tag-\xff.jpg")).Bind(2, id).Run().ok());
  }
  EXPECT_EQ(store_->LabeledSamples()->at(0).name, "tag-%FF.jpg");
  for (const char* format : {"coco", "yolo"}) {
    const std::string out = dir_.path() + "/out-" + format;
    auto ex = Export(*store_, format, out, ExportOptions{});
    ASSERT_TRUE(ex.ok()) << format << ": " << ex.status().ToString();
    EXPECT_EQ(ex->images, 1);
    EXPECT_TRUE(fs::exists(out + "/images/tag-%FF.jpg")) << format;
  }
  auto j = ReadJsonFile(dir_.path() + "/out-coco/annotations.json");
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)["images"][0]["file_name"], "tag-%FF.jpg");
  auto found = store_->FindImages("tag-%FF.jpg");
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].image_id, id);
}

TEST_F(HostileTest, StoreRefusesNonUtf8NamesDirectly) {
  const std::string before = Snapshot();
  const std::string bytes = testing::ImageBytes(40, 30, 42);
  ImageRecord r{Sha256Hex(bytes), "x\xc3(.jpg", "x", 40, 30, "jpeg", "t"};
  EXPECT_EQ(store_->AddImage(r, bytes).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->EnsureClass("bad\x80").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Snapshot(), before);
}

// ---- Image size limited before decoding.

std::string JpegClaiming(int w, int h) {
  std::string b = "\xFF\xD8";
  b += std::string("\xFF\xC0\x00\x11\x08", 5);
  b += static_cast<char>(h >> 8), b += static_cast<char>(h & 255);
  b += static_cast<char>(w >> 8), b += static_cast<char>(w & 255);
  b += std::string("\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01", 10);
  return b + std::string(64, '\0') + "\xFF\xD9";
}

std::string PngClaiming(uint32_t w, uint32_t h) {
  std::string b = "\x89PNG\r\n\x1A\n";
  b += std::string("\x00\x00\x00\x0DIHDR", 8);
  for (uint32_t v : {w, h})
    for (int s = 24; s >= 0; s -= 8) b += static_cast<char>((v >> s) & 255);
  return b + std::string("\x08\x02\x00\x00\x00", 5) + "IEND";
}

TEST_F(HostileTest, HugeClaimedPixelsAreRefusedBeforeDecoding) {
  for (const std::string& bytes : {JpegClaiming(20000, 20000), PngClaiming(20000, 20000)}) {
    auto info = ProbeImage(bytes);
    ASSERT_FALSE(info.ok());
    EXPECT_EQ(info.status().code(), StatusCode::kResourceExhausted) << info.status().ToString();
    EXPECT_TRUE(Has(info.status().message(),
                    "claims 20000x20000 = 400000000 pixels; the limit "
                    "is 67108864 (8192x8192), refused before decoding"))
        << info.status().ToString();
  }
  // Through an import: reported for that file, the others imported.
  WriteText(dir_ / "images/huge.jpg", JpegClaiming(20000, 20000));
  WriteText(dir_ / "data.yaml", "names: [scratch]\n");
  auto r = ImportYolo(*store_, dir_.path(), ImportOptions{});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(Has(Errors(*r), "images/huge.jpg: jpeg header claims 20000x20000")) << Errors(*r);
  EXPECT_EQ(Names(), (std::set<std::string>{"base.jpg", "a.jpg", "b.jpg"}));
}

// Found by dataset_image_fuzz: a WebP header with "DICM" at byte 128 made OpenCV hand the
// bytes to GDCM, which aborted the process (SIGABRT) instead of returning an error.
TEST(ImageHeaderTest, DicomSignatureInsideAnotherFormatIsRefusedNotAborted) {
  std::string webp = std::string("RIFF\x1e\0\0\0WEBPVP8X\x0a\0", 22) + std::string(106, 'M');
  webp += "DICM" + std::string(8, 'M');
  auto info = ProbeImage(webp);
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(info.status().message().find("DICOM signature at byte 128") != std::string::npos)
      << info.status().ToString();
  std::string jpeg = testing::ImageBytes(64, 64, 3);
  ASSERT_GT(jpeg.size(), 132u);
  jpeg.replace(128, 4, "DICM");
  EXPECT_EQ(ProbeImage(jpeg).status().code(), StatusCode::kInvalidArgument);
}

TEST(ImageHeaderTest, DimsOfEveryFormatMatchTheDecoder) {
  for (const char* ext : {".jpg", ".png", ".bmp", ".tiff", ".webp"}) {
    const std::string bytes = testing::ImageBytes(123, 45, 1, ext);
    auto info = ProbeImage(bytes);
    ASSERT_TRUE(info.ok()) << ext << ": " << info.status().ToString();
    EXPECT_EQ(info->width, 123) << ext;
    EXPECT_EQ(info->height, 45) << ext;
  }
  // Truncated headers are errors, not reads past the end.
  for (const char* format : {"jpeg", "png", "bmp", "tiff", "webp"})
    for (size_t n : {0, 1, 5, 11, 20, 29})
      EXPECT_FALSE(yolo::ReadHeaderDims(format, std::string(n, '\xFF')).ok()) << format << n;
}

// ---- Folders: symbolic-link loops, dangling links, fifos, oversized files.

TEST_F(HostileTest, SymlinkLoopDanglingLinkAndFifoAreReportedAndTheRestImported) {
  fs::create_symlink("loop.jpg", dir_ / "images/loop.jpg");
  fs::create_symlink("nowhere.jpg", dir_ / "images/dangling.jpg");
  fs::create_directory_symlink("..", dir_ / "images/up");  // a directory loop: not followed
  ASSERT_EQ(::mkfifo((dir_ / "images/pipe.jpg").c_str(), 0644), 0);
  WriteText(dir_ / "data.yaml", "names: [scratch]\n");
  auto r = ImportYolo(*store_, dir_.path(), ImportOptions{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const std::string errors = Errors(*r);
  EXPECT_TRUE(Has(errors, "images/loop.jpg: cannot follow: Too many levels of symbolic links"))
      << errors;
  EXPECT_TRUE(Has(errors, "images/dangling.jpg: cannot follow")) << errors;
  EXPECT_TRUE(Has(errors, "images/pipe.jpg: not a regular file, skipped")) << errors;
  EXPECT_EQ(Names(), (std::set<std::string>{"base.jpg", "a.jpg", "b.jpg"}));
}

TEST_F(HostileTest, OversizedImageAndLabelFilesRefusedBeforeReading) {
  fs::resize_file(WriteSparse(dir_ / "images/big.jpg"), kMaxImageFileBytes + 1);
  WriteText(dir_ / "data.yaml", "names: [scratch]\n");
  auto r = ImportYolo(*store_, dir_.path(), ImportOptions{});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(Has(Errors(*r),
                  "images/big.jpg: image file is 67108865 bytes; the limit is "
                  "67108864 (64 MiB)"))
      << Errors(*r);
  EXPECT_EQ(Names(), (std::set<std::string>{"base.jpg", "a.jpg", "b.jpg"}));
  const std::string before = Snapshot();
  fs::resize_file(WriteSparse(dir_ / "labels.csv"), kMaxLabelFileBytes + 1);
  ExpectRefused(ImportGroundTruth(*store_, dir_.path(), ImportOptions{}),
                StatusCode::kResourceExhausted, "labels file is 268435457 bytes", before);
}

// ---- Dataset names and removal.

TEST_F(HostileTest, MistypedDatasetNameIsNotFoundListingTheOthers) {
  auto typo = Store::Open(home_.path(), "defualt", /*create=*/false);
  ASSERT_FALSE(typo.ok());
  EXPECT_EQ(typo.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Has(typo.status().message(), "no dataset 'defualt'")) << typo.status().ToString();
  EXPECT_TRUE(Has(typo.status().message(), "existing: default")) << typo.status().ToString();
  EXPECT_FALSE(fs::exists(home_.path() + "/datasets/defualt"));
  EXPECT_EQ(Store::List(home_.path()), std::vector<std::string>{"default"});
}

TEST_F(HostileTest, RemoveImageRefusedWhileInASplitUnlessForced) {
  const std::string id = store_->LabeledSamples()->at(0).image_id;
  const std::string blob = store_->LabeledSamples()->at(0).path;
  ASSERT_TRUE(store_->CreateSplit("s", SplitRatios{1, 0, 0}, 1).ok());
  const std::string before = Snapshot();
  auto refused = store_->RemoveImage(id, false);
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Has(refused.status().message(), "split snapshot(s) 's'; pass --force"));
  EXPECT_EQ(Snapshot(), before);
  auto removed = store_->RemoveImage(id, true);
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(removed->label_events, 1);
  EXPECT_EQ(removed->splits, std::vector<std::string>{"s"});
  EXPECT_EQ(*store_->ImageCount(), 0);
  EXPECT_TRUE(store_->LabelHistory(id)->empty());
  EXPECT_FALSE(fs::exists(blob));
  EXPECT_TRUE(store_->SplitSamples("s", "train")->empty());
  EXPECT_EQ(store_->RemoveImage(id, true).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->Check()->ok());
}

TEST_F(HostileTest, FindImagesByIdPrefixAndName) {
  const std::string id = store_->LabeledSamples()->at(0).image_id;
  EXPECT_EQ(store_->FindImages(id.substr(0, 8))->size(), 1u);
  EXPECT_EQ(store_->FindImages("base.jpg")->size(), 1u);
  EXPECT_EQ(store_->FindImages("abc")->size(), 0u);  // too short to be a prefix
  EXPECT_EQ(store_->FindImages("' OR 1=1 --")->size(), 0u);
}

TEST_F(HostileTest, CheckReportsMissingAndDamagedBlobs) {
  const Sample s = store_->LabeledSamples()->at(0);
  ASSERT_TRUE(store_->Check()->ok());
  WriteText(s.path, "damaged");
  auto c = store_->Check();
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->problems.size(), 1u);
  EXPECT_TRUE(Has(c->problems[0], "damaged blob " + s.path)) << c->problems[0];
  fs::remove(s.path);
  EXPECT_TRUE(Has(store_->Check()->problems.at(0), "blob missing"));
}

}  // namespace
}  // namespace vqi::dataset
