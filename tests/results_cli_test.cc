// `vqi results tail|stats` (the real binary) on a store written by the library, as the server
// does: tail prints what is stored, --follow prints results added by another process while it
// runs, stats prints the counters; bad flags exit 2.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "run_vqi.h"
#include "vqi/base/json.h"
#include "vqi/results/store.h"

namespace vqi::results {
namespace {

using vqi::testing::RunVqi;

std::string Id(int n) {
  char b[17];
  std::snprintf(b, sizeof b, "%016x", n);
  return std::string(48, 'c') + b;
}

ParsedResult Make(const std::string& thing, int n, const std::string& verdict) {
  Json j{{"schema", "vqi.inspect.result/1"},
         {"id", thing + ":" + Id(n)},
         {"thing", thing},
         {"component", "vqi.inspect"},
         {"verdict", verdict},
         {"model", {{"name", "tags"}, {"version", "3"}}},
         {"image", {{"name", "i" + std::to_string(n) + ".jpg"}}},
         {"timings_ms", {{"model", 10.0 + n}, {"total", 12.0 + n}}}};
  auto r = ParseResultMessage("vqi/v1/results/" + thing + "/vqi.inspect", j.dump());
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return *r;
}

std::vector<Json> JsonLines(const std::string& out) {
  std::vector<Json> v;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    auto j = ParseJson(line, "tail output");
    if (j.ok()) v.push_back(*j);
  }
  return v;
}

TEST(ResultsCli, TailFollowAndStats) {
  std::string t = (std::filesystem::temp_directory_path() / "vqi-results-cli-XXXXXX").string();
  ASSERT_NE(::mkdtemp(t.data()), nullptr);
  const std::string home = t;
  EXPECT_EQ(RunVqi("--home " + home + " results stats").code, 1);  // nothing received yet
  auto store = OpenSqliteResultStore(ResultsDbPath(home));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)
                  ->AddBatch({Make("cam-1", 1, "pass"), Make("cam-2", 2, "fail"),
                              Make("cam-1", 3, "error")})
                  .ok());

  auto r = RunVqi("--home " + home + " results tail --json");
  ASSERT_EQ(r.code, 0) << r.out;
  auto lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_EQ(lines[0]["id"], "cam-1:" + Id(1));  // oldest first
  EXPECT_EQ(lines[2]["id"], "cam-1:" + Id(3));
  r = RunVqi("--home " + home + " results tail --thing cam-2");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("cam-2"), std::string::npos);
  EXPECT_EQ(r.out.find("cam-1"), std::string::npos) << r.out;

  // --follow in another process sees results written after it started (its output file is
  // polled: first the last stored line, then the new one).
  const std::string out = home + "/follow.out", pid = home + "/follow.pid";
  ASSERT_EQ(
      std::system((std::string(std::getenv("VQI_BIN")) + " --home " + home +
                   " results tail --follow --json --thing cam-1 --limit 1 --interval-ms 50 > " +
                   out + " 2>&1 & echo $! > " + pid)
                      .c_str()),
      0);
  auto read_lines = [&] {
    std::ifstream f(out);
    std::stringstream b;
    b << f.rdbuf();
    return JsonLines(b.str());
  };
  auto wait_lines = [&](size_t n) {
    for (int i = 0; i < 200 && read_lines().size() < n; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return read_lines();
  };
  ASSERT_EQ(wait_lines(1).size(), 1u);
  ASSERT_TRUE((*store)->AddBatch({Make("cam-1", 4, "pass"), Make("cam-2", 5, "pass")}).ok());
  auto followed = wait_lines(2);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // nothing else may come
  followed = read_lines();
  EXPECT_EQ(std::system(("kill $(cat " + pid + ")").c_str()), 0);
  ASSERT_EQ(followed.size(), 2u);  // the last one before, then the new one (not cam-2's)
  EXPECT_EQ(followed[0]["id"], "cam-1:" + Id(3));
  EXPECT_EQ(followed[1]["id"], "cam-1:" + Id(4));

  r = RunVqi("--home " + home + " results stats --json --thing cam-1");
  ASSERT_EQ(r.code, 0) << r.out;
  auto stats = ParseJson(r.out, "stats");
  ASSERT_TRUE(stats.ok()) << r.out;
  EXPECT_EQ((*stats)[0]["images"], 3);
  EXPECT_EQ((*stats)[0]["error"], 1);
  EXPECT_EQ((*stats)[0]["lastModel"]["version"], "3");
  r = RunVqi("--home " + home + " results stats");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("cam-2"), std::string::npos) << r.out;

  EXPECT_EQ(RunVqi("--home " + home + " results tail --verdict ok").code, 2);
  EXPECT_EQ(RunVqi("--home " + home + " results tail --since yesterday").code, 2);
  EXPECT_EQ(RunVqi("--home " + home + " results stats --thing nope").code, 1);
  std::error_code ec;
  std::filesystem::remove_all(home, ec);
}

}  // namespace
}  // namespace vqi::results
