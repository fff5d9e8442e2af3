#include "vqi/dataset/store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "test_util.h"
#include "vqi/base/file.h"
#include "vqi/base/hash.h"
#include "vqi/dataset/synth_io.h"

namespace vqi::dataset {
namespace {

using testing::TempDir;

ImageRecord Record(const std::string& bytes, const std::string& name) {
  ImageRecord r;
  r.image_id = Sha256Hex(bytes);
  r.name = name;
  r.capture_id = CaptureIdOf(name);
  r.width = 40;
  r.height = 30;
  r.format = "jpeg";
  return r;
}

LabelEvent Event(const std::string& id, std::vector<Box> boxes, LabelStatus s, double t) {
  LabelEvent e;
  e.image_id = id;
  e.boxes = std::move(boxes);
  e.status = s;
  e.event_time = t;
  e.job = "job";
  return e;
}

TEST(StoreTest, CaptureId) {
  EXPECT_EQ(CaptureIdOf("image-2020-04-22-10-51-14-06-cropped-left-top.jpg"),
            "image-2020-04-22-10-51-14-06");
  EXPECT_EQ(CaptureIdOf("frame-7.jpg_3"), "frame-7");
  EXPECT_EQ(CaptureIdOf("noext"), "noext");
}

TEST(StoreTest, RejectsBadDatasetName) {
  TempDir home;
  EXPECT_EQ(Store::Open(home.path(), "../x").status().code(), StatusCode::kInvalidArgument);
}

TEST(StoreTest, DamagedDatabaseIsDataLossNamingTheFile) {
  TempDir home;
  {
    auto store = Store::Open(home.path(), "d");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    const std::string bytes = testing::ImageBytes(40, 30, 1);
    ASSERT_TRUE((*store)->AddImage(Record(bytes, "a.jpg"), bytes).ok());
  }
  const std::string db = home.path() + "/datasets/d/dataset.db";
  {
    std::fstream f(db, std::ios::in | std::ios::out | std::ios::binary);
    f.write("definitely not sqlite", 21);
  }
  auto reopened = Store::Open(home.path(), "d");
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.status().code(), StatusCode::kDataLoss) << reopened.status().ToString();
  EXPECT_NE(reopened.status().message().find(db), std::string::npos)
      << reopened.status().ToString();
}

TEST(StoreTest, ImagesAreContentAddressedAndDeduplicated) {
  TempDir home;
  auto store = Store::Open(home.path());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const std::string bytes = testing::ImageBytes(40, 30, 1);
  const ImageRecord r = Record(bytes, "a-cropped-left.jpg");
  auto added = (*store)->AddImage(r, bytes);
  ASSERT_TRUE(added.ok());
  EXPECT_TRUE(*added);
  auto again = (*store)->AddImage(Record(bytes, "other-name.jpg"), bytes);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  EXPECT_EQ(*(*store)->ImageCount(), 1);
  auto blob = ReadFile((*store)->BlobPath(r.image_id, "jpeg"));
  ASSERT_TRUE(blob.ok());
  EXPECT_EQ(*blob, bytes);
  auto pool = (*store)->UnlabeledSamples();
  ASSERT_TRUE(pool.ok());
  ASSERT_EQ(pool->size(), 1u);
  EXPECT_EQ((*pool)[0].name, "a-cropped-left.jpg");
  EXPECT_EQ((*pool)[0].capture_id, "a");
  EXPECT_EQ((*pool)[0].path, (*store)->BlobPath(r.image_id, "jpeg"));
}

TEST(StoreTest, CurrentLabelIsLatestApprovedEvent) {
  TempDir home;
  auto store = std::move(Store::Open(home.path()).value());
  const std::string bytes = testing::ImageBytes(40, 30, 2);
  const std::string id = Sha256Hex(bytes);
  ASSERT_TRUE(store->AddImage(Record(bytes, "x.jpg"), bytes).ok());
  const Box a{0, 1, 2, 3, 4}, b{0, 5, 6, 7, 8}, c{0, 9, 9, 9, 9};
  // Pending alone: still unlabeled.
  ASSERT_TRUE(*store->AppendLabel(Event(id, {a}, LabelStatus::kPending, 10)));
  EXPECT_EQ(store->LabeledSamples()->size(), 0u);
  EXPECT_EQ(store->UnlabeledSamples()->size(), 1u);
  ASSERT_TRUE(*store->AppendLabel(Event(id, {a}, LabelStatus::kApproved, 20)));
  ASSERT_TRUE(*store->AppendLabel(Event(id, {b}, LabelStatus::kApproved, 30)));
  // Later events that are not approved do not change the current label; an older approved
  // one appended later does not either.
  ASSERT_TRUE(*store->AppendLabel(Event(id, {c}, LabelStatus::kRejected, 40)));
  ASSERT_TRUE(*store->AppendLabel(Event(id, {c}, LabelStatus::kPending, 50)));
  ASSERT_TRUE(*store->AppendLabel(Event(id, {c}, LabelStatus::kApproved, 25)));
  auto labeled = store->LabeledSamples();
  ASSERT_TRUE(labeled.ok());
  ASSERT_EQ(labeled->size(), 1u);
  EXPECT_EQ((*labeled)[0].boxes, std::vector<Box>{b});
  EXPECT_EQ(store->UnlabeledSamples()->size(), 0u);
  EXPECT_EQ(store->LabelHistory(id)->size(), 6u);
  // An identical event is not stored twice.
  EXPECT_FALSE(*store->AppendLabel(Event(id, {b}, LabelStatus::kApproved, 30)));
  EXPECT_EQ(store->LabelHistory(id)->size(), 6u);
  // Labels for unknown images are refused.
  EXPECT_EQ(store->AppendLabel(Event("ff", {}, LabelStatus::kApproved, 1)).status().code(),
            StatusCode::kNotFound);
}

TEST(StoreTest, FailedTransactionLeavesNothing) {
  TempDir home;
  auto store = std::move(Store::Open(home.path()).value());
  const std::string bytes = testing::ImageBytes(40, 30, 3);
  Status st = store->Transaction([&]() -> Status {
    VQI_RETURN_IF_ERROR(store->AddImage(Record(bytes, "y.jpg"), bytes).status());
    VQI_RETURN_IF_ERROR(store->EnsureClass("scratch").status());
    return Internal("simulated failure mid-import");
  });
  EXPECT_EQ(st.code(), StatusCode::kInternal);
  EXPECT_EQ(*store->ImageCount(), 0);
  EXPECT_TRUE(store->ClassNames().empty());
}

// A process killed in the middle of a write leaves all of it or none of it; one left alone
// leaves all of it.
TEST(StoreTest, KilledImportIsAllOrNothing) {
  for (int round = 0; round < 3; ++round) {
    TempDir home;
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      auto store = Store::Open(home.path());
      if (!store.ok()) ::_exit(3);
      auto r = SynthesizeToStore(**store, SynthOptions{64, 64, 9, 0.8, 2}, 150);
      ::_exit(r.ok() ? 0 : 4);
    }
    const bool kill_it = round < 2;
    if (kill_it) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200 + 300 * round));
      ::kill(child, SIGKILL);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    auto store = Store::Open(home.path());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    const int64_t images = *(*store)->ImageCount();
    if (kill_it && WIFSIGNALED(status)) {
      EXPECT_TRUE(images == 0 || images == 150) << "half an import: " << images << " images";
    } else {
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
      EXPECT_EQ(images, 150);
    }
    EXPECT_EQ(static_cast<int64_t>((*store)->LabeledSamples()->size()), images);
  }
}

TEST(StoreTest, PersistsAcrossOpenAndClassesAreStable) {
  TempDir home;
  {
    auto store = std::move(Store::Open(home.path(), "tags").value());
    EXPECT_EQ(*store->EnsureClass("scratch"), 0);
    EXPECT_EQ(*store->EnsureClass("dent"), 1);
    EXPECT_EQ(*store->EnsureClass("scratch"), 0);
  }
  auto store = std::move(Store::Open(home.path(), "tags").value());
  EXPECT_EQ(store->ClassNames(), (std::vector<std::string>{"scratch", "dent"}));
}

}  // namespace
}  // namespace vqi::dataset
