// The results routes' handlers on a store written by libs/results: the recent list and its
// filters, the cursor, the counters, and bad query parameters (InvalidArgument → 400).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "context.h"
#include "vqi/results/store.h"

namespace vqi::server {

namespace {

std::string Id(int n) {
  char b[17];
  std::snprintf(b, sizeof b, "%016x", n);
  return std::string(48, 'e') + b;
}

results::ParsedResult Make(const std::string& thing, int n, const std::string& verdict) {
  Json j{{"schema", "vqi.inspect.result/1"}, {"id", thing + ":" + Id(n)}, {"thing", thing},
         {"component", "vqi.inspect"},       {"verdict", verdict},        {"n", n}};
  auto r = results::ParseResultMessage("vqi/v1/results/" + thing + "/vqi.inspect", j.dump());
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return *r;
}

class ResultsRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t = (std::filesystem::temp_directory_path() / "vqi-rroutes-XXXXXX").string();
    ASSERT_NE(::mkdtemp(t.data()), nullptr);
    ctx_.options.home = t;
    auto store = results::OpenSqliteResultStore(results::ResultsDbPath(t));
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)
                    ->AddBatch({Make("cam-1", 1, "pass"), Make("cam-2", 2, "fail"),
                                Make("cam-1", 3, "fail")})
                    .ok());
    ASSERT_TRUE(AddResultsRoutes(router_, ctx_).ok());
  }
  void TearDown() override { std::filesystem::remove_all(ctx_.options.home); }

  // Runs the GET route for `path` with `params`; the handler's status and the reply.
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

TEST_F(ResultsRoutesTest, RecentFiltersAndCursor) {
  Json j;
  ASSERT_TRUE(Get("/v1/results", {}, &j).ok());
  ASSERT_EQ(j["results"].size(), 3u);
  EXPECT_EQ(j["results"][0]["n"], 3);  // newest first, the device's document
  EXPECT_EQ(j["last_seq"], j["results"][0]["seq"]);
  ASSERT_TRUE(Get("/v1/results", {{"thing", "cam-1"}, {"verdict", "fail"}}, &j).ok());
  ASSERT_EQ(j["results"].size(), 1u);
  EXPECT_EQ(j["results"][0]["id"], "cam-1:" + Id(3));
  ASSERT_TRUE(Get("/v1/results", {{"after", "1"}, {"limit", "1"}}, &j).ok());
  ASSERT_EQ(j["results"].size(), 1u);
  EXPECT_EQ(j["results"][0]["seq"], 2);  // oldest after the cursor
  ASSERT_TRUE(Get("/v1/results", {{"since", "2999-01-01T00:00:00Z"}}, &j).ok());
  EXPECT_EQ(j["results"].size(), 0u);
  for (auto bad : std::vector<std::multimap<std::string, std::string>>{{{"limit", "0"}},
                                                                       {{"limit", "x"}},
                                                                       {{"after", "-1"}},
                                                                       {{"since", "today"}},
                                                                       {{"verdict", "ok"}}})
    EXPECT_EQ(Get("/v1/results", bad, &j).code(), StatusCode::kInvalidArgument)
        << bad.begin()->first;
}

TEST_F(ResultsRoutesTest, Stats) {
  Json j;
  ASSERT_TRUE(Get("/v1/things/cam-1/results/stats", {}, &j).ok());
  EXPECT_EQ(j["images"], 2);
  EXPECT_EQ(j["fail"], 1);
  EXPECT_EQ(Get("/v1/things/nope/results/stats", {}, &j).code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace vqi::server
