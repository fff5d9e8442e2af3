// GET /v1/shadow on a store written as the results ingest writes it: all candidates, one
// candidate, the fleet sum per candidate, a malformed parameter (InvalidArgument → 400).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "context.h"
#include "vqi/fleet/shadow_store.h"

namespace vqi::server {
namespace {

std::string Message(const std::string& thing, const std::string& version, int images, int agree) {
  return Json{{"schema", "vqi.inspect.shadow/1"},
              {"thing", thing},
              {"component", "vqi.inspect"},
              {"live", {{"name", "tags"}, {"version", "1"}}},
              {"candidate", {{"component", "vqi.model.tags"}, {"version", version}}},
              {"counts",
               {{"images", images},
                {"verdict_agree", agree},
                {"live_fail", 0},
                {"candidate_fail", 0},
                {"candidate_errors", 0},
                {"boxes_live", 4},
                {"boxes_candidate", 4},
                {"boxes_matched", 2},
                {"box_slots", 4},
                {"pairs", 2}}},
              {"sums",
               {{"best_shift", 0.0},
                {"pair_shift", 0.0},
                {"live_ms", 10.0 * images},
                {"candidate_ms", 20.0 * images}}}}
      .dump();
}

class ShadowRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t = (std::filesystem::temp_directory_path() / "vqi-sroutes-XXXXXX").string();
    ASSERT_NE(::mkdtemp(t.data()), nullptr);
    ctx_.options.home = t;
    auto store = fleet::OpenSqliteShadowStore(fleet::ShadowDbPath(t));
    ASSERT_TRUE(store.ok());
    for (const auto& [thing, version, images, agree] :
         std::vector<std::tuple<std::string, std::string, int, int>>{
             {"cam-1", "1.0.1", 10, 9}, {"cam-2", "1.0.1", 30, 30}, {"cam-1", "1.0.2", 5, 1}})
      ASSERT_TRUE(fleet::IngestShadowMessage(**store, thing, "vqi.inspect",
                                             Message(thing, version, images, agree), 1)
                      .ok());
    ASSERT_TRUE(AddShadowRoutes(router_, ctx_).ok());
  }
  void TearDown() override { std::filesystem::remove_all(ctx_.options.home); }

  Status Get(const std::multimap<std::string, std::string>& params, Json* body) {
    auto m = router_.Find("GET", "/v1/shadow");
    if (!m.route) return NotFound("no route");
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

TEST_F(ShadowRoutesTest, CandidatesWithTheirFleetSumAndDevices) {
  Json j;
  ASSERT_TRUE(Get({}, &j).ok());
  ASSERT_EQ(j["candidates"].size(), 2u) << j.dump();
  EXPECT_EQ(j["candidates"][0]["candidate"], "vqi.model.tags@1.0.1");
  EXPECT_EQ(j["candidates"][0]["fleet"]["devices"], 2);
  EXPECT_EQ(j["candidates"][0]["fleet"]["images"], 40);
  EXPECT_DOUBLE_EQ(j["candidates"][0]["fleet"]["verdict_agreement"].get<double>(), 0.975);
  EXPECT_DOUBLE_EQ(j["candidates"][0]["fleet"]["latency_ratio"].get<double>(), 2.0);
  EXPECT_EQ(j["candidates"][0]["devices"].size(), 2u);
  ASSERT_TRUE(Get({{"candidate", "vqi.model.tags@1.0.2"}}, &j).ok());
  ASSERT_EQ(j["candidates"].size(), 1u);
  EXPECT_EQ(j["candidates"][0]["devices"][0]["thing"], "cam-1");
  EXPECT_EQ(j["candidates"][0]["devices"][0]["images"], 5);
  ASSERT_TRUE(Get({{"candidate", "vqi.model.tags@9"}}, &j).ok());
  EXPECT_EQ(j["candidates"].size(), 0u);
  for (const char* bad : {"vqi.model.tags", "@1", "x@"})
    EXPECT_EQ(Get({{"candidate", bad}}, &j).code(), StatusCode::kInvalidArgument) << bad;
}

}  // namespace
}  // namespace vqi::server
