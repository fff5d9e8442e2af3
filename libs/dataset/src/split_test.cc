#include "vqi/dataset/split.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "test_util.h"
#include "vqi/base/hash.h"

namespace vqi::dataset {
namespace {

std::vector<Sample> Captures(int n) {
  std::vector<Sample> out;
  static const char* kCrops[] = {"left-top", "left-bottom", "right-top", "right-bottom"};
  for (int c = 0; c < n; ++c) {
    for (int k = 0; k <= c % 4; ++k) {
      Sample s;
      s.capture_id = "cap-" + std::to_string(c);
      s.name = s.capture_id + "-cropped-" + kCrops[k] + ".jpg";
      s.image_id = Sha256Hex(s.name);
      out.push_back(s);
    }
  }
  return out;
}

TEST(SplitTest, NoCaptureStraddlesParts) {
  const std::vector<Sample> samples = Captures(60);
  for (uint64_t seed : {1u, 42u, 1234u}) {
    const auto parts = AssignSplit(samples, SplitRatios{}, seed);
    std::map<std::string, std::set<std::string>> parts_of;
    for (size_t i = 0; i < samples.size(); ++i) parts_of[samples[i].capture_id].insert(parts[i]);
    for (const auto& [capture, set] : parts_of)
      EXPECT_EQ(set.size(), 1u) << capture << " appears in several parts (seed " << seed << ")";
  }
}

TEST(SplitTest, SameSeedSameSplitOtherSeedOther) {
  const std::vector<Sample> samples = Captures(60);
  EXPECT_EQ(AssignSplit(samples, SplitRatios{}, 42), AssignSplit(samples, SplitRatios{}, 42));
  EXPECT_NE(AssignSplit(samples, SplitRatios{}, 42), AssignSplit(samples, SplitRatios{}, 43));
  // Input order does not matter.
  std::vector<Sample> reversed(samples.rbegin(), samples.rend());
  auto a = AssignSplit(samples, SplitRatios{}, 42);
  auto b = AssignSplit(reversed, SplitRatios{}, 42);
  for (size_t i = 0; i < samples.size(); ++i) EXPECT_EQ(a[i], b[samples.size() - 1 - i]);
}

TEST(SplitTest, RatiosRoughlyHonoured) {
  const std::vector<Sample> samples = Captures(100);  // 250 images
  const auto parts = AssignSplit(samples, SplitRatios{0.6, 0.2, 0.2}, 7);
  std::map<std::string, int> count;
  for (const auto& p : parts) ++count[p];
  const double n = static_cast<double>(samples.size());
  EXPECT_NEAR(count["train"] / n, 0.6, 0.03);
  EXPECT_NEAR(count["val"] / n, 0.2, 0.03);
  EXPECT_NEAR(count["test"] / n, 0.2, 0.03);
  // A zero ratio gets nothing.
  for (const auto& p : AssignSplit(samples, SplitRatios{0.8, 0.2, 0.0}, 7)) EXPECT_NE(p, "test");
}

TEST(SplitTest, ParseRatios) {
  auto r = ParseRatios("0.8,0.1,0.1");
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->train, 0.8);
  EXPECT_EQ(ParseRatios("0.8,0.1").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseRatios("0.8,0.1,x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseRatios("0.8,0.3,0.1").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseRatios("1.2,-0.1,-0.1").status().code(), StatusCode::kInvalidArgument);
}

class StoreSplitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(Store::Open(home_.path()).value());
    int seed = 0;
    for (const Sample& s : Captures(30)) {
      const std::string bytes = testing::ImageBytes(40, 30, ++seed);
      ImageRecord r{Sha256Hex(bytes), s.name, s.capture_id, 40, 30, "jpeg", "test"};
      ASSERT_TRUE(store_->AddImage(r, bytes).ok());
      LabelEvent e;
      e.image_id = r.image_id;
      e.boxes = {Box{0, 1, 1, 5, 5}};
      e.event_time = 100;
      ASSERT_TRUE(store_->AppendLabel(e).ok());
      ids_.push_back(r.image_id);
    }
  }
  testing::TempDir home_;
  std::unique_ptr<Store> store_;
  std::vector<std::string> ids_;
};

TEST_F(StoreSplitTest, SnapshotIsPinnedAndNamed) {
  auto info = store_->CreateSplit("default", SplitRatios{}, 42);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->train + info->val + info->test, static_cast<int64_t>(ids_.size()));
  EXPECT_GT(info->val, 0);
  EXPECT_GT(info->test, 0);
  const std::string digest = *store_->SplitDigest("default");
  EXPECT_EQ(digest, info->digest);
  EXPECT_EQ(digest.size(), 64u);

  std::map<std::string, std::string> part_of_capture;
  size_t total = 0;
  for (const char* part : {"train", "val", "test"}) {
    auto samples = store_->SplitSamples("default", part);
    ASSERT_TRUE(samples.ok());
    total += samples->size();
    for (const Sample& s : *samples) {
      auto [it, inserted] = part_of_capture.emplace(s.capture_id, part);
      EXPECT_EQ(it->second, part) << s.capture_id << " in two parts";
      EXPECT_EQ(s.boxes, std::vector<Box>{(Box{0, 1, 1, 5, 5})});
    }
  }
  EXPECT_EQ(total, ids_.size());

  // Relabeling later changes neither the snapshot's samples nor its digest.
  LabelEvent e;
  e.image_id = ids_[0];
  e.boxes = {Box{0, 2, 2, 3, 3}};
  e.event_time = 200;
  ASSERT_TRUE(store_->AppendLabel(e).ok());
  EXPECT_EQ(*store_->SplitDigest("default"), digest);
  // The same name with the same content is fine; other content is refused unless replaced.
  EXPECT_EQ(store_->CreateSplit("default", SplitRatios{}, 42).status().code(),
            StatusCode::kAlreadyExists);  // the label changed, so the content differs
  auto replaced = store_->CreateSplit("default", SplitRatios{}, 42, /*replace=*/true);
  ASSERT_TRUE(replaced.ok());
  EXPECT_NE(replaced->digest, digest);
  auto again = store_->CreateSplit("default", SplitRatios{}, 42);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->digest, replaced->digest);
  EXPECT_EQ(store_->CreateSplit("default", SplitRatios{}, 43).status().code(),
            StatusCode::kAlreadyExists);
  auto other = store_->CreateSplit("seed43", SplitRatios{}, 43);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->digest, replaced->digest);
  EXPECT_EQ(store_->Splits()->size(), 2u);
}

TEST_F(StoreSplitTest, Errors) {
  EXPECT_EQ(store_->SplitDigest("nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->SplitSamples("nope", "train").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->CreateSplit("s", SplitRatios{}, 1).ok());
  EXPECT_EQ(store_->SplitSamples("s", "holdout").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->CreateSplit("t", SplitRatios{0.5, 0.5, 0.5}, 1).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace vqi::dataset
