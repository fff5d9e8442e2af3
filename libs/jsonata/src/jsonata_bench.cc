// Throughput of vqi::jsonata::Evaluate on typical Step Functions expressions.
// Run: build/<dir>/libs/jsonata/jsonata_bench
#include <chrono>
#include <cstdio>
#include <string>

#include "vqi/jsonata/jsonata.h"

namespace {

double Measure(const char* name, const std::string& expr, const vqi::Json& input,
               const std::map<std::string, vqi::Json>& bindings, int iterations) {
  auto start = std::chrono::steady_clock::now();
  size_t sink = 0;
  for (int i = 0; i < iterations; ++i) {
    auto r = vqi::jsonata::Evaluate(expr, input, bindings);
    if (!r.ok()) {
      std::printf("%s: error %s\n", name, r.status().message().c_str());
      return 0;
    }
    sink += r->has_value() ? 1 : 0;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double per_sec = iterations / secs;
  std::printf("%-28s %10.0f evals/s  %8.2f us/eval  (%zu)\n", name, per_sec, 1e6 / per_sec, sink);
  return per_sec;
}

}  // namespace

int main() {
  vqi::Json items = vqi::Json::array();
  for (int i = 0; i < 1000; ++i)
    items.push_back({{"id", i}, {"price", i * 0.5}, {"ok", i % 3 == 0}});
  vqi::Json input = {{"value", 25}, {"items", items}, {"name", "metal-tag"}};
  std::map<std::string, vqi::Json> bindings = {
      {"states", {{"input", input}, {"context", {{"Execution", {{"Id", "x"}}}}}}},
      {"threshold", 10}};
  Measure("field access", "$states.input.value", nullptr, bindings, 200000);
  Measure("condition", "$states.input.value >= 20 and $states.input.value < 30", nullptr, bindings,
          200000);
  Measure("object template", "{'name': $uppercase($states.input.name), 'n': $threshold + 1}",
          nullptr, bindings, 100000);
  Measure("filter 1000 items", "$count($states.input.items[ok and price > 100])", nullptr, bindings,
          2000);
  Measure("map lambda 1000 items", "$sum($map($states.input.items, function($v){ $v.price }))",
          nullptr, bindings, 2000);
  Measure("order-by 1000 items", "$states.input.items^(>price)[0].id", nullptr, bindings, 1000);
  // Parse cost: distinct expression texts miss the cache.
  auto start = std::chrono::steady_clock::now();
  const int kParses = 20000;
  for (int i = 0; i < kParses; ++i) {
    std::string e = "$states.input.items[price > " + std::to_string(i) + "].id ~> $count()";
    (void)vqi::jsonata::Check(e);
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%-28s %10.0f parses/s\n", "parse (cache miss)", kParses / secs);
  return 0;
}
