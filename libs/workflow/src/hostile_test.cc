// Hostile executions (issue 16): each case is one that crashed, hung or misreported before.
// Every test runs on a durable store that already holds a finished "witness" execution and
// asserts the clear error AND that the witness, and the rest of the store, are unchanged.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "vqi/base/file.h"
#include "vqi/workflow/jsonpath.h"
#include "vqi/workflow/limits.h"
#include "vqi/workflow/resources.h"
#include "vqi/workflow/service.h"
#include "vqi/workflow/store.h"

namespace vqi::workflow {
namespace {

namespace fs = std::filesystem;

const char* kWitness =
    R"({"StartAt":"A","States":{"A":{"Type":"Pass","Result":{"ok":1},"End":true}}})";

Json Deep(int levels) {
  Json j = 1;
  for (int i = 0; i < levels; ++i) j = Json::array({std::move(j)});
  return j;
}

std::string Nested(const std::string& type, int levels) {
  std::string m = R"({"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}})";
  for (int i = 0; i < levels; ++i) {
    if (type == "Parallel")
      m = R"({"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[)" + m + "]}}}";
    else
      m = R"({"StartAt":"P","States":{"P":{"Type":"Map","End":true,"ItemsPath":"$.i","ItemProcessor":)" +
          m + "}}}";
  }
  return m;
}

std::string Jsonata(const std::string& expr) {
  Json d = {
      {"QueryLanguage", "JSONata"},
      {"StartAt", "P"},
      {"States", {{"P", {{"Type", "Pass"}, {"Output", "{% " + expr + " %}"}, {"End", true}}}}}};
  return d.dump();
}

class Hostile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("vqi_wf_hostile_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto s = ExecutionStore::Open((dir_ / "s.db").string(), Durability::kProcess);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    registry_.Register("test:echo", [this](const TaskRequest& r) {
      ++calls_;
      return TaskOutcome::Success(r.input);
    });
    registry_.Register("test:big", [this](const TaskRequest&) {
      ++calls_;
      return TaskOutcome::Success(std::string(300 * 1024, 'x'));
    });
    registry_.Register("test:deep", [this](const TaskRequest&) {
      ++calls_;
      return TaskOutcome::Success(Deep(300));
    });
    registry_.Register("test:throw", [this](const TaskRequest&) -> TaskOutcome {
      ++calls_;
      throw std::runtime_error("resource blew up");
    });
    options_.resources = &registry_;
    options_.clock = clock_.get();
    auto w = StartExecution(*store_, kWitness, Json::object(), "witness", options_);
    ASSERT_TRUE(w.ok() && w->status == ExecutionStatus::kSucceeded);
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  Result<ExecutionResult> Start(const std::string& def, const Json& input = Json::object(),
                                const std::string& name = "hostile") {
    return StartExecution(*store_, def, input, name, options_);
  }

  // The execution failed with `error` and a cause containing `cause`.
  void ExpectFailed(const Result<ExecutionResult>& r, const std::string& error,
                    const std::string& cause) {
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, ExecutionStatus::kFailed);
    EXPECT_EQ(r->error.value_or(""), error);
    EXPECT_NE(r->cause.value_or("").find(cause), std::string::npos) << r->cause.value_or("");
    auto rec = store_->Get("hostile");
    ASSERT_TRUE(rec.ok());
    EXPECT_EQ(rec->status, ExecutionStatus::kFailed);
    EXPECT_EQ(rec->error.value_or(""), error);
    EXPECT_TRUE(rec->owner.empty()) << "lease not released";
  }

  // The start was refused with `code`/`needle` and nothing was stored for it.
  void ExpectRefused(const Result<ExecutionResult>& r, StatusCode code, const std::string& needle) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), code) << r.status().ToString();
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().ToString();
    EXPECT_FALSE(store_->Get("hostile").ok()) << "a refused execution was stored";
  }

  // The witness and the count of executions are as before the hostile case.
  void ExpectWitnessIntact(size_t executions) {
    auto w = store_->Get("witness");
    ASSERT_TRUE(w.ok());
    EXPECT_EQ(w->status, ExecutionStatus::kSucceeded);
    EXPECT_EQ(w->output, Json({{"ok", 1}}));
    auto h = store_->History(w->id);
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->size(), 4u);
    auto all = store_->List();
    ASSERT_TRUE(all.ok());
    EXPECT_EQ(all->size(), executions);
  }

  fs::path dir_;
  std::unique_ptr<ExecutionStore> store_;
  std::unique_ptr<Clock> clock_ = NewSkippingClock(1'700'000'000'000);
  ResourceRegistry registry_;
  DurableOptions options_;
  std::atomic<int> calls_{0};
};

// ---- unbounded recursion

TEST_F(Hostile, DeepInputIsRefusedBeforeAnythingIsStored) {
  ExpectRefused(Start(kWitness, Deep(200)), StatusCode::kResourceExhausted,
                "nested deeper than 128");
  ExpectWitnessIntact(1);
}

TEST_F(Hostile, DeepTaskResultFailsWithDataLimit) {
  auto r =
      Start(R"({"StartAt":"T","States":{"T":{"Type":"Task","Resource":"test:deep","End":true}}})");
  ExpectFailed(r, kDataLimitExceeded, "The task result is nested deeper than 128");
  ExpectWitnessIntact(2);
}

TEST_F(Hostile, DeeplyNestedParallelIsRefusedByValidate) {
  auto m = LoadDefinitionText(Nested("Parallel", 20), "d.json");
  ASSERT_FALSE(m.ok());
  ExpectRefused(Start(Nested("Parallel", 20)), StatusCode::kInvalidArgument,
                "nested deeper than 16 levels");
  ExpectWitnessIntact(1);
}

TEST_F(Hostile, DeeplyNestedMapIsRefusedByValidate) {
  ExpectRefused(Start(Nested("Map", 17)), StatusCode::kInvalidArgument,
                "nested deeper than 16 levels");
  ExpectWitnessIntact(1);
}

TEST_F(Hostile, NestingAtTheLimitRuns) {
  auto r = Start(Nested("Parallel", kMaxStateNesting));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(JsonDepth(r->output), kMaxStateNesting + 1);
  ExpectWitnessIntact(2);
}

TEST_F(Hostile, JsonataRecursiveDeepObjectFailsClearly) {
  auto r = Start(Jsonata("($f := function($n){$n = 0 ? {} : {'a': $f($n-1)}}; $f(300))"));
  ExpectFailed(r, kDataLimitExceeded, "The state output is nested deeper than 128");
  ExpectWitnessIntact(2);
}

TEST_F(Hostile, JsonataLoopBuildingDeepObjectStopsAtValueDepth) {
  auto r = Start(Jsonata("$reduce([1..100000], function($acc, $i){ {'a': $acc} }, {})"));
  ExpectFailed(r, "States.QueryEvaluationError", "D1011");
  ExpectWitnessIntact(2);
}

TEST_F(Hostile, JsonataInfiniteRecursionIsAnError) {
  auto r = Start(Jsonata("($f := function($n){ $f($n + 1) + 1 }; $f(0))"));
  ExpectFailed(r, "States.QueryEvaluationError", "U1001");
  ExpectWitnessIntact(2);
}

TEST_F(Hostile, JsonataExponentialRecursionEndsWithStepBudget) {
  auto t0 = std::chrono::steady_clock::now();
  auto r = Start(Jsonata("($f := function($n){$n = 0 ? 1 : $f($n-1) + $f($n-1)}; $f(60))"));
  ExpectFailed(r, "States.QueryEvaluationError", "U1002");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(30));
  ExpectWitnessIntact(2);
}

TEST_F(Hostile, IntrinsicStringToJsonOfDeepTextFailsClearly) {
  Json d = {{"StartAt", "P"},
            {"States",
             {{"P",
               {{"Type", "Pass"},
                {"Parameters", {{"v.$", "States.StringToJson($.s)"}}},
                {"End", true}}}}}};
  auto r = Start(d.dump(), {{"s", std::string(100000, '[') + std::string(100000, ']')}});
  ExpectFailed(r, "States.IntrinsicFailure", "nested deeper than 128");
  ExpectWitnessIntact(2);
}

TEST_F(Hostile, JsonataParseOfDeepTextFailsClearly) {
  auto r = Start(Jsonata("$parse($pad('', 5000, '[') & $pad('', 5000, ']'))"));
  ExpectFailed(r, "States.QueryEvaluationError", "D3153");
  ExpectWitnessIntact(2);
}

// ---- resource limits inside JSONata

TEST_F(Hostile, CatastrophicRegexIsLinear) {
  auto t0 = std::chrono::steady_clock::now();
  auto r = Start(Jsonata("$contains($pad('', 100000, 'a'), /(a+)+b/)"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(r->output, Json(false));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  ExpectWitnessIntact(2);
}

TEST_F(Hostile, RegexLookAroundIsRefusedByValidate) {
  ExpectRefused(Start(Jsonata("$match('ab', /a(?=b)/)")), StatusCode::kInvalidArgument,
                "look-around assertions are not supported");
  ExpectWitnessIntact(1);
}

TEST_F(Hostile, RegexBackReferenceIsRefusedByValidate) {
  ExpectRefused(Start(Jsonata("$match('aa', /(a)\\1/)")), StatusCode::kInvalidArgument,
                "back-references are not supported");
  ExpectWitnessIntact(1);
}

TEST_F(Hostile, JsonataStringDoublingEndsWithLimit) {
  auto r = Start(Jsonata("$reduce([1..40], function($acc, $i){ $acc & $acc }, 'x')"));
  ExpectFailed(r, "States.QueryEvaluationError", "D1013");  // the build budget ends it first
  ExpectWitnessIntact(2);
}

TEST_F(Hostile, JsonataArrayDoublingEndsWithLimit) {
  auto r = Start(Jsonata("$reduce([1..40], function($acc, $i){ $append($acc, $acc) }, [1])"));
  ExpectFailed(r, "States.QueryEvaluationError", "D1013");  // the build budget ends it first
  ExpectWitnessIntact(2);
}

// ---- payload size (AWS: 256 KiB, States.DataLimitExceeded)

TEST_F(Hostile, OversizedInputIsRefused) {
  ExpectRefused(Start(kWitness, {{"blob", std::string(300 * 1024, 'x')}}),
                StatusCode::kResourceExhausted, "States.DataLimitExceeded");
  ExpectWitnessIntact(1);
}

TEST_F(Hostile, OversizedPassResultFails) {
  Json d = {{"StartAt", "A"},
            {"States",
             {{"A", {{"Type", "Pass"}, {"Result", std::string(300 * 1024, 'x')}, {"End", true}}}}}};
  ExpectFailed(Start(d.dump()), kDataLimitExceeded, "exceeds the maximum of 262144 bytes");
  ExpectWitnessIntact(2);
}

TEST_F(Hostile, PayloadDoublingLoopEndsWithDataLimitNotBadAlloc) {
  auto r = Start(R"({"StartAt":"A","States":{"A":{"Type":"Pass",
      "Parameters":{"a.$":"$","b.$":"$"},"Next":"A"}}})",
                 {{"s", std::string(1000, 'x')}});
  ExpectFailed(r, kDataLimitExceeded, "The state output has a size of");
  ExpectWitnessIntact(2);
}

TEST_F(Hostile, OversizedTaskInputNeverReachesTheResource) {
  auto r = Start(R"({"QueryLanguage":"JSONata","StartAt":"T","States":{"T":{"Type":"Task",
      "Resource":"test:echo","Arguments":"{% $pad('', 300000, 'y') %}","End":true}}})");
  ExpectFailed(r, kDataLimitExceeded, "The task input has a size of");
  EXPECT_EQ(calls_.load(), 0);
  ExpectWitnessIntact(2);
}

TEST_F(Hostile, OversizedTaskResultIsNotStored) {
  auto r =
      Start(R"({"StartAt":"T","States":{"T":{"Type":"Task","Resource":"test:big","End":true}}})");
  ExpectFailed(r, kDataLimitExceeded, "The task result has a size of");
  EXPECT_EQ(calls_.load(), 1);
  auto rec = store_->Get("hostile");
  auto h = store_->History(rec->id);
  ASSERT_TRUE(h.ok());
  for (const HistoryEvent& e : *h) EXPECT_LT(e.details.dump().size(), 10000u) << e.type;
  ExpectWitnessIntact(2);
}

TEST_F(Hostile, OversizedMapItemFails) {
  auto r = Start(R"({"QueryLanguage":"JSONata","StartAt":"M","States":{"M":{"Type":"Map",
      "Items":"{% [1,2] %}","ItemSelector":"{% $pad('', 300000, 'z') %}",
      "ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}})");
  ExpectFailed(r, kDataLimitExceeded, "exceeds the maximum");
  ExpectWitnessIntact(2);
}

TEST_F(Hostile, OversizedAssignFails) {
  auto r = Start(R"({"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass",
      "Assign":{"v":"{% $pad('', 300000, 'v') %}"},"End":true}}})");
  ExpectFailed(r, kDataLimitExceeded, "The assigned variables has a size of");
  ExpectWitnessIntact(2);
}

TEST_F(Hostile, DataLimitIsNotCaughtByStatesAll) {
  // Pass has no Catch: the oversized Pass runs inside a Parallel that catches States.ALL.
  Json p = {{"StartAt", "W"},
            {"States",
             {{"W",
               {{"Type", "Parallel"},
                {"Branches", Json::array({{{"StartAt", "A"},
                                           {"States",
                                            {{"A",
                                              {{"Type", "Pass"},
                                               {"Result", std::string(300 * 1024, 'x')},
                                               {"End", true}}}}}}})},
                {"Catch", Json::array({{{"ErrorEquals", {"States.ALL"}}, {"Next", "C"}}})},
                {"End", true}}},
              {"C", {{"Type", "Pass"}, {"Result", "caught"}, {"End", true}}}}}};
  ExpectFailed(Start(p.dump()), kDataLimitExceeded, "exceeds the maximum");
  ExpectWitnessIntact(2);
}

// ---- history (AWS: 25,000 events)

TEST_F(Hostile, PassLoopForeverEndsAtTheHistoryLimit) {
  auto r = Start(R"({"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},
                                          "B":{"Type":"Pass","Next":"A"}}})");
  ExpectFailed(r, "States.Runtime", "maximum number of history events (25000)");
  auto rec = store_->Get("hostile");
  auto h = store_->History(rec->id);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->size(), static_cast<size_t>(kMaxHistoryEvents));
  EXPECT_EQ(h->back().type, "ExecutionFailed");
  EXPECT_EQ(h->back().id, kMaxHistoryEvents);
  ExpectWitnessIntact(2);
}

// ---- Wait and timeouts

TEST_F(Hostile, HugeWaitSecondsIsRefusedByValidate) {
  ExpectRefused(Start(R"({"StartAt":"W","States":{"W":{"Type":"Wait",
      "Seconds":9223372036854775807,"End":true}}})"),
                StatusCode::kInvalidArgument, "Seconds: must be at most 99999999");
  ExpectWitnessIntact(1);
}

TEST_F(Hostile, HugeSecondsPathFailsInsteadOfSucceeding) {
  auto r = Start(R"({"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s","End":true}}})",
                 {{"s", 1e30}});
  ExpectFailed(r, "States.Runtime", "above the maximum of 99999999 seconds");
  ExpectWitnessIntact(2);
}

TEST_F(Hostile, HugeJsonataSecondsFails) {
  auto r = Start(R"({"QueryLanguage":"JSONata","StartAt":"W","States":{"W":{"Type":"Wait",
      "Seconds":"{% 1e20 %}","End":true}}})");
  ExpectFailed(r, "States.QueryEvaluationError", "must be at most 99999999");
  ExpectWitnessIntact(2);
}

TEST_F(Hostile, TimestampOutOfRangeFails) {
  auto r =
      Start(R"({"StartAt":"W","States":{"W":{"Type":"Wait","TimestampPath":"$.t","End":true}}})",
            {{"t", "99999999999-01-01T00:00:00Z"}});
  ExpectFailed(r, "States.Runtime", "does not reference a valid ISO-8601");
  ExpectWitnessIntact(2);
}

TEST_F(Hostile, HugeMachineTimeoutIsRefused) {
  ExpectRefused(Start(R"({"StartAt":"A","TimeoutSeconds":100000000000,
      "States":{"A":{"Type":"Pass","End":true}}})"),
                StatusCode::kInvalidArgument,
                "TimeoutSeconds: must be an integer from 0 to 99999999");
  ExpectWitnessIntact(1);
}

TEST_F(Hostile, RetryBackoffOverflowStaysBounded) {
  auto r = Start(R"({"StartAt":"T","States":{"T":{"Type":"Task","Resource":"test:throw",
      "Retry":[{"ErrorEquals":["States.TaskFailed"],"IntervalSeconds":99999999,"BackoffRate":1000000,
                "MaxAttempts":3}],"End":true}}})");
  ExpectFailed(r, "States.TaskFailed", "resource blew up");
  EXPECT_EQ(calls_.load(), 4);
  ExpectWitnessIntact(2);
}

TEST_F(Hostile, OversizedDefinitionIsRefused) {
  std::string big = R"({"StartAt":"A","Comment":")" + std::string(1100 * 1024, 'c') +
                    R"(","States":{"A":{"Type":"Pass","End":true}}})";
  ExpectRefused(Start(big), StatusCode::kResourceExhausted, "maximum of 1048576");
  ExpectWitnessIntact(1);
}

// ---- engine failures

TEST_F(Hostile, ThrowingResourceInMapFailsTheExecutionNotTheProcess) {
  auto r = Start(R"({"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.i",
      "ItemProcessor":{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"test:throw",
      "End":true}}},"End":true}}})",
                 {{"i", {1, 2, 3}}});
  ExpectFailed(r, "States.TaskFailed", "the task resource threw: resource blew up");
  ExpectWitnessIntact(2);
}

}  // namespace
}  // namespace vqi::workflow

namespace vqi::workflow {
namespace {

// Found by workflow_jsonpath_fuzz: filters nest by recursion, and a long path of nested filters
// overflowed the stack. Refused past 32 levels with the limit named; 32 levels still parse.
TEST(HostileJsonPath, DeeplyNestedFiltersAreRefused) {
  auto nest = [](int n) {
    std::string p = "$";
    for (int i = 0; i < n; ++i) p += "[?(@.k";
    for (int i = 0; i < n; ++i) p += " == 1)]";
    return p;
  };
  EXPECT_TRUE(JsonPath::Parse(nest(32)).ok());
  auto deep = JsonPath::Parse(nest(33));
  ASSERT_FALSE(deep.ok());
  EXPECT_NE(deep.status().message().find("filters are nested deeper than 32 levels"),
            std::string::npos)
      << deep.status().ToString();
  auto huge = JsonPath::Parse(nest(100000));  // overflowed the stack before
  EXPECT_FALSE(huge.ok());
}

}  // namespace
}  // namespace vqi::workflow
