// libFuzzer target for the JSONata parser (and, for short inputs, the evaluator).
// Build: cmake -S . -B build/fuzz -G Ninja -DVQI_FUZZ=ON -DCMAKE_C_COMPILER=clang
//          -DCMAKE_CXX_COMPILER=clang++ && cmake --build build/fuzz --target jsonata_parser_fuzz
// Run:   build/fuzz/libs/jsonata/jsonata_parser_fuzz -max_len=256 -max_total_time=600
//          fuzz/corpus/jsonata
#include <cstddef>
#include <cstdint>
#include <map>
#include <string_view>

#include "evaluator.h"
#include "parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto program = vqi::jsonata::Parse(text);
  if (!program.ok()) return 0;
  // Evaluate small programs too, against a fixed input; ranges and recursion are bounded by the
  // evaluator's limits, but loops over large ranges are slow, so skip those.
  if (size > 64 || text.find("..") != std::string_view::npos) return 0;
  static const vqi::Json input = vqi::Json::parse(
      R"({"a": {"b": [1, 2, {"c": "x"}]}, "s": "hello", "n": 3.5, "arr": [3, 1, 2], "t": true})");
  static const std::map<std::string, vqi::Json> bindings = {
      {"states", {{"input", input}, {"context", vqi::Json::object()}}}};
  vqi::jsonata::Evaluator evaluator(*program, bindings);
  auto result = evaluator.Run(input);
  if (result.ok()) (void)vqi::jsonata::ToJson(*result);
  return 0;
}
