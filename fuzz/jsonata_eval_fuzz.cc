// libFuzzer target for JSONata evaluation: every program that parses is evaluated (no size or
// range filter, unlike jsonata_parser_fuzz), so the evaluator's own limits (recursion depth,
// the step budget, value depth, string/array sizes; docs/limits.md) are what keep each run
// bounded. The result is converted to JSON and serialized, as the workflow engine does.
// Build: cmake -S . -B build/fuzz -G Ninja -DVQI_FUZZ=ON -DCMAKE_C_COMPILER=clang
//          -DCMAKE_CXX_COMPILER=clang++ && cmake --build build/fuzz --target jsonata_eval_fuzz
// Run:   build/fuzz/libs/jsonata/jsonata_eval_fuzz -max_len=512 -max_total_time=600
//          fuzz/corpus/jsonata
#include <cstddef>
#include <cstdint>
#include <map>
#include <string_view>

#include "vqi/jsonata/jsonata.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  static const vqi::Json input = vqi::Json::parse(
      R"({"a": {"b": [1, 2, {"c": "x"}]}, "s": "hello", "n": 3.5, "arr": [3, 1, 2], "t": true,
          "deep": [[[[[[[[1]]]]]]]], "txt": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"})");
  static const std::map<std::string, vqi::Json> bindings = {
      {"states", {{"input", input}, {"context", vqi::Json::object()}}}, {"v", 42}};
  auto result = vqi::jsonata::Evaluate(text, input, bindings);
  if (result.ok() && result->has_value())
    (void)(*result)->dump(-1, ' ', false, vqi::Json::error_handler_t::replace);
  return 0;
}
