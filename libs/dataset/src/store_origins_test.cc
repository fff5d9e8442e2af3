// Image origins: recorded once per (thing, message id), listed with the unlabeled pool, filtered
// by thing, removed with the image; a labeled image leaves the pool.
#include <gtest/gtest.h>

#include "test_util.h"
#include "vqi/base/hash.h"
#include "vqi/dataset/store.h"
#include "vqi/sqlite/sqlite.h"

namespace vqi::dataset {
namespace {

using testing::TempDir;

struct Fixture {
  TempDir home;
  std::unique_ptr<Store> store;
  Fixture() {
    auto s = Store::Open(home.path(), "pool");
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    store = std::move(*s);
  }
  std::string Add(int seed, const std::string& name) {
    const std::string bytes = testing::ImageBytes(40, 30, seed);
    ImageRecord r;
    r.image_id = Sha256Hex(bytes);
    r.name = name;
    r.capture_id = CaptureIdOf(name);
    r.width = 40;
    r.height = 30;
    r.format = "jpeg";
    EXPECT_TRUE(store->AddImage(r, bytes).ok());
    return r.image_id;
  }
};

ImageOrigin Origin(const std::string& image, const std::string& thing, const std::string& msg,
                   const std::string& version = "1.0.0") {
  ImageOrigin o;
  o.image_id = image;
  o.thing = thing;
  o.component = "vqi.inspect";
  o.model_name = "tags";
  o.model_version = version;
  o.result_id = thing + ":" + image;
  o.best_score = 0.42;
  o.image_name = "frame.jpg";
  o.received = "2026-12-06T10:00:00.000Z";
  o.message_id = msg;
  return o;
}

TEST(StoreOriginsTest, AnOriginIsRecordedOncePerThingAndMessageId) {
  Fixture f;
  const std::string a = f.Add(1, "a.jpg");
  auto added = f.store->AddOrigin(Origin(a, "cam-1", "m-1"));
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_TRUE(*added);
  EXPECT_FALSE(*f.store->AddOrigin(Origin(a, "cam-1", "m-1")));  // the resend
  EXPECT_TRUE(*f.store->AddOrigin(Origin(a, "cam-2", "m-1")));   // another device's ids
  EXPECT_TRUE(*f.store->AddOrigin(Origin(a, "cam-1", "m-2", "1.1.0")));
  // The same observation (thing, result id, model) under a new message id: not a new origin.
  EXPECT_FALSE(*f.store->AddOrigin(Origin(a, "cam-1", "m-5", "1.1.0")));
  auto origins = f.store->Origins(a);
  ASSERT_TRUE(origins.ok());
  ASSERT_EQ(origins->size(), 3u);
  EXPECT_EQ((*origins)[0].thing, "cam-1");
  EXPECT_EQ((*origins)[0].model_version, "1.0.0");
  EXPECT_DOUBLE_EQ((*origins)[0].best_score, 0.42);
  EXPECT_EQ((*origins)[0].result_id, "cam-1:" + a);
  EXPECT_EQ((*origins)[2].model_version, "1.1.0");
  EXPECT_LT((*origins)[0].seq, (*origins)[1].seq);

  EXPECT_EQ(f.store->AddOrigin(Origin(std::string(64, 'f'), "cam-1", "m-9")).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(f.store->AddOrigin(Origin(a, "", "m-9")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(f.store->AddOrigin(Origin(a, "cam-1", "")).status().code(),
            StatusCode::kInvalidArgument);
  ImageOrigin bad = Origin(a, "cam-1", "m-3");
  bad.image_name = "bad\xff";
  EXPECT_EQ(f.store->AddOrigin(bad).status().code(), StatusCode::kInvalidArgument);
  ImageOrigin no_score = Origin(a, "cam-3", "m-1");
  no_score.best_score = -1;
  ASSERT_TRUE(f.store->AddOrigin(no_score).ok());
  EXPECT_EQ(f.store->Origins(a)->back().best_score, -1);
}

TEST(StoreOriginsTest, PoolListsUnlabeledImagesWithOriginsNewestFirstAndFiltersByThing) {
  Fixture f;
  const std::string a = f.Add(1, "a.jpg");
  const std::string b = f.Add(2, "b.jpg");
  const std::string imported = f.Add(3, "imported.jpg");  // no origin
  const std::string labeled = f.Add(4, "labeled.jpg");
  ASSERT_TRUE(f.store->AddOrigin(Origin(a, "cam-1", "m-1")).ok());
  ASSERT_TRUE(f.store->AddOrigin(Origin(b, "cam-2", "m-1")).ok());
  ASSERT_TRUE(f.store->AddOrigin(Origin(labeled, "cam-1", "m-2")).ok());
  LabelEvent e;
  e.image_id = labeled;
  e.boxes = {{0, 1, 2, 3, 4}};
  e.event_time = 1;
  e.job = "human";
  ASSERT_TRUE(f.store->AppendLabel(e).ok());

  auto pool = f.store->UnlabeledPool({});
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();
  ASSERT_EQ(pool->size(), 3u);
  EXPECT_EQ((*pool)[0].sample.image_id, b);  // the most recent origin first
  EXPECT_EQ((*pool)[0].origins.at(0).thing, "cam-2");
  EXPECT_EQ((*pool)[1].sample.image_id, a);
  EXPECT_EQ((*pool)[2].sample.image_id, imported);
  EXPECT_TRUE((*pool)[2].origins.empty());
  EXPECT_EQ((*pool)[1].format, "jpeg");
  EXPECT_FALSE((*pool)[1].sample.path.empty());
  EXPECT_EQ(f.store->UnlabeledSamples()->size(), 3u);  // the same pool

  auto cam1 = f.store->UnlabeledPool({"cam-1", 0});
  ASSERT_TRUE(cam1.ok());
  ASSERT_EQ(cam1->size(), 1u);  // the labeled one left the pool
  EXPECT_EQ((*cam1)[0].sample.image_id, a);
  auto limited = f.store->UnlabeledPool({"", 1});
  ASSERT_EQ(limited->size(), 1u);
  EXPECT_EQ(*f.store->UnlabeledPoolSize(""), 3);
  EXPECT_EQ(*f.store->UnlabeledPoolSize("cam-1"), 1);
  EXPECT_EQ(*f.store->UnlabeledPoolSize("cam-2"), 1);
  auto page = f.store->UnlabeledPoolPage({"", 1});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->images.size(), 1u);
  EXPECT_EQ(page->total, 3);
  EXPECT_EQ(f.store->UnlabeledPoolPage({"cam-1", 0})->total, 1);
  EXPECT_EQ(*f.store->UnlabeledPoolSize("nobody"), 0);
  EXPECT_EQ(f.store->UnlabeledPool({"nobody", 0})->size(), 0u);
  EXPECT_EQ(f.store->UnlabeledPool({"", -1}).status().code(), StatusCode::kInvalidArgument);

  // Removing an image removes its origins (privacy path; the foreign key holds).
  auto removed = f.store->RemoveImage(a, false);
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_TRUE(f.store->Origins(a)->empty());
  EXPECT_EQ(f.store->UnlabeledPool({"cam-1", 0})->size(), 0u);
}

TEST(StoreOriginsTest, AStoreFromBeforeOriginsIsMigrated) {
  {
    Fixture f;
    const std::string a = f.Add(1, "a.jpg");
    // Make it a version-1 store (what vqi wrote before origins).
    auto db = sqlite::Db::Open(f.store->dir() + "/dataset.db");
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db->Exec("DROP TABLE image_origins; PRAGMA user_version=1").ok());
    f.store.reset();
    auto s = Store::Open(f.home.path(), "pool");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    ASSERT_TRUE((*s)->HasImage(a));
    EXPECT_TRUE(*(*s)->AddOrigin(Origin(a, "cam-1", "m-1")));
    EXPECT_EQ((*s)->UnlabeledPool({"cam-1", 0})->size(), 1u);
  }
}

}  // namespace
}  // namespace vqi::dataset
