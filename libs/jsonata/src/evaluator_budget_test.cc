// The build budget (kMaxBuiltValues, D1013): what one evaluation builds, all together.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "evaluator.h"
#include "test_util.h"

namespace vqi::jsonata {
namespace {

using testing::Ev;

const std::string kD1013 = "error: D1013: The expression builds more than " +
                           std::to_string(kMaxBuiltValues) + " values (limit: docs/limits.md)";
// Element counts relative to the budget, so the tests hold for any value of it.
const std::string kHalf = std::to_string(kMaxBuiltValues / 2);
const std::string kThreeQuarters = std::to_string(kMaxBuiltValues / 4 * 3);

TEST(JsonataBuildBudget, FuzzFindingIsRefused) {
  // fuzz/corpus/jsonata/eval_range_objects: each limit held, together ~9 M objects (1.4 GB).
  EXPECT_EQ(Ev(R"([1..8888888].{"l": $$})"), kD1013);
  EXPECT_EQ(Ev(R"([1..8888888].{"l": $})", Json::parse(R"({"x":1})")), kD1013);
  EXPECT_EQ(Ev("$range(1, 8888888)"), kD1013);
  // jsonata-js's own range limit still comes first.
  EXPECT_EQ(Ev("[0..100000000]").substr(0, 12), "error: D2014");
  // One oversized value still names its own limit (D1012 before the budget).
  EXPECT_EQ(Ev("$ & 'x'", Json(std::string(kMaxStringBytes, 'a'))).substr(0, 12), "error: D1012");
}

TEST(JsonataBuildBudget, PerElementBuildersAreRefused) {
  // An object per element.
  EXPECT_EQ(Ev("[1.." + kHalf + "].{'a': $, 'b': $ * 2}"), kD1013);
  // Nested arrays per element.
  EXPECT_EQ(Ev("[1.." + kHalf + "].[[$, $], [$]]"), kD1013);
  // A string concatenation per element.
  EXPECT_EQ(Ev("[1.." + kHalf + "].($string($) & '-suffix')"), kD1013);
  // $map and $filter building per element.
  EXPECT_EQ(Ev("$map([1.." + kHalf + "], function($v) { {'v': $v} })"), kD1013);
  EXPECT_EQ(Ev("$filter([1.." + kHalf + "], function($v) { true })"), kD1013);
  // A sort of a large array copies it.
  EXPECT_EQ(Ev("$sort([1.." + kThreeQuarters + "])"), kD1013);
}

TEST(JsonataBuildBudget, QuadraticBuildsAreRefused) {
  // Each step copies the growing accumulator: the copies count, not only the final value.
  EXPECT_EQ(Ev("$reduce([1..100000], function($a, $v) { $append($a, $v) }, [])"), kD1013);
  EXPECT_EQ(Ev("$reduce([1..100000], function($a, $v) { $a & '0123456789abcdef' }, '')"), kD1013);
  // $parse counts the values its text may hold, before parsing.
  EXPECT_EQ(Ev("[1.." + kHalf + "].$parse('[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]')"), kD1013);
}

TEST(JsonataBuildBudget, LargeButAllowedExpressionsWork) {
  // Half the budget as one range, then reduced to a number.
  const int64_t n = kMaxBuiltValues / 2;
  EXPECT_EQ(Ev("$sum([1.." + kHalf + "])"), std::to_string(n * (n + 1) / 2));
  EXPECT_EQ(Ev("$count($range(1, " + kHalf + "))"), kHalf);
  // A range just below the budget, returned whole.
  EXPECT_EQ(Ev("$count([1.." + std::to_string(kMaxBuiltValues - 10) + "])"),
            std::to_string(kMaxBuiltValues - 10));
  // The densest 256 KiB payload (131,072 numbers) transformed into objects, filtered and
  // sorted: ~5 values per item, well within the budget.
  Json payload = Json::array();
  int sum = 0, above4 = 0;
  for (int i = 0; i < 131072; ++i) {
    payload.push_back(i % 10);
    sum += i % 10;
    above4 += i % 10 > 4 ? 1 : 0;
  }
  EXPECT_EQ(Ev("$count($[$ > 4].{'v': $, 'w': $ * 2})", payload), std::to_string(above4));
  EXPECT_EQ(Ev("$count($sort($.($ * 2)))", payload), "131072");
  EXPECT_EQ(Ev("$sum($.($ * 2))", payload), std::to_string(2 * sum));
  // Small strings per payload item, joined once.
  EXPECT_EQ(Ev("$length($join($.$string($), ','))", payload), "262143");
}

}  // namespace
}  // namespace vqi::jsonata

namespace vqi::jsonata {
namespace {

// Found by jsonata_eval_fuzz: above 2^53 a double does not change when 1 is added, and the range
// loop stepped a double: a one-item range ran until memory ran out.
using testing::Ev;

TEST(JsonataRange, HugeEndpointsCountItems) {
  EXPECT_EQ(Ev("$count([33333333333333333..33333333333333333])"), "1");
  EXPECT_EQ(Ev("$count([9007199254740992..9007199254740993])"), "1");
  EXPECT_EQ(Ev("$count([9007199254740990..9007199254740991])"), "2");
}

}  // namespace
}  // namespace vqi::jsonata
