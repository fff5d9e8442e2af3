// GET /v1/datasets/{name}/unlabeled on its handler: the pool with origins, the thing filter,
// the limit, an unknown dataset (NotFound → 404) and a bad limit (InvalidArgument → 400).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "context.h"
#include "vqi/base/hash.h"
#include "vqi/dataset/store.h"

namespace vqi::server {
namespace {

class UnlabeledRouteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t = (std::filesystem::temp_directory_path() / "vqi-unlabeled-XXXXXX").string();
    ASSERT_NE(::mkdtemp(t.data()), nullptr);
    ctx_.options.home = t;
    auto store = dataset::Store::Open(t, "pool");
    ASSERT_TRUE(store.ok());
    for (int i = 0; i < 3; ++i) {
      const std::string bytes = "image bytes " + std::to_string(i);
      dataset::ImageRecord r;
      r.image_id = Sha256Hex(bytes);
      r.name = "f" + std::to_string(i) + ".jpg";
      r.capture_id = r.name;
      r.width = 4;
      r.height = 3;
      r.format = "jpeg";
      ASSERT_TRUE((*store)->AddImage(r, bytes).ok());
      if (i == 2) continue;  // imported, no origin
      dataset::ImageOrigin o;
      o.image_id = r.image_id;
      o.thing = i == 0 ? "cam-1" : "cam-2";
      o.component = "vqi.inspect";
      o.model_name = "tags";
      o.model_version = "1." + std::to_string(i) + ".0";
      o.best_score = 0.5;
      o.received = "2026-12-06T10:00:00.000Z";
      o.message_id = "m-" + std::to_string(i);
      ASSERT_TRUE((*store)->AddOrigin(o).ok());
    }
    AddDatasetRoutes(router_, ctx_);
  }
  void TearDown() override { std::filesystem::remove_all(ctx_.options.home); }

  Status Get(const std::string& path, const std::multimap<std::string, std::string>& params,
             Json* body) {
    auto m = router_.Find("GET", path);
    if (!m.route) return NotFound("no route " + path);
    httplib::Request req;
    req.params = params;
    httplib::Response res;
    Call c{req, res, nullptr, nullptr, {}};
    c.params = m.params;
    Status st = m.route->handler(c);
    if (st.ok()) *body = Json::parse(res.body);
    return st;
  }

  ServerContext ctx_;
  Router router_;
};

TEST_F(UnlabeledRouteTest, PoolWithOriginsFilteredAndLimited) {
  Json j;
  ASSERT_TRUE(Get("/v1/datasets/pool/unlabeled", {}, &j).ok());
  EXPECT_EQ(j["dataset"], "pool");
  EXPECT_EQ(j["unlabeled"], 3);
  ASSERT_EQ(j["images"].size(), 3u);
  EXPECT_EQ(j["images"][0]["origins"][0]["thing"], "cam-2");  // the newest upload first
  EXPECT_EQ(j["images"][0]["origins"][0]["model"]["version"], "1.1.0");
  EXPECT_EQ(j["images"][0]["origins"][0]["bestScore"], 0.5);
  EXPECT_FALSE(j["images"][0].contains("path"));  // no server paths over HTTP
  EXPECT_TRUE(j["images"][2]["origins"].empty());
  ASSERT_TRUE(Get("/v1/datasets/pool/unlabeled", {{"thing", "cam-1"}}, &j).ok());
  EXPECT_EQ(j["unlabeled"], 1);
  EXPECT_EQ(j["images"][0]["origins"][0]["model"]["version"], "1.0.0");
  ASSERT_TRUE(Get("/v1/datasets/pool/unlabeled", {{"limit", "1"}}, &j).ok());
  EXPECT_EQ(j["unlabeled"], 3);
  EXPECT_EQ(j["images"].size(), 1u);
  EXPECT_EQ(Get("/v1/datasets/nope/unlabeled", {}, &j).code(), StatusCode::kNotFound);
  for (const char* bad : {"0", "x", "10001", "-1"})
    EXPECT_EQ(Get("/v1/datasets/pool/unlabeled", {{"limit", bad}}, &j).code(),
              StatusCode::kInvalidArgument)
        << bad;
}

}  // namespace
}  // namespace vqi::server
