// libFuzzer target: the oneDNN backend's model loader (ONNX parse, shape inference and
// constant folding, fusions, lowering, compile, one run on small graphs). Any input must yield
// a value or a Status, never a crash, hang or leak.
//   cmake -DVQI_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ ... && onednn_load_fuzz fuzz/corpus/onednn
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "compiler.h"
#include "graph.h"
#include "passes.h"

using namespace vqi::infer::onednn;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  auto g = LoadOnnxGraph(bytes, "fuzz.onnx");
  if (!g.ok()) return 0;
  // Keep each input cheap: small graphs with small tensors only.
  if (g->nodes.size() > 64) return 0;
  for (const Tensor& t : g->tensors)
    if (t.shape_known && NumElements(t.shape) > (1 << 16)) return 0;
  if (!OptimizeGraph(&*g).ok()) return 0;
  for (const Tensor& t : g->tensors)
    if (t.shape_known && NumElements(t.shape) > (1 << 16)) return 0;
  auto m = Compile(std::move(*g), {.threads = 1});
  if (!m.ok()) return 0;
  std::vector<float> in(NumElements((*m)->InputShape()), 0.25f);
  std::vector<float> out(NumElements((*m)->OutputShape()));
  (void)(*m)->Run(in.data(), out.data());
  return 0;
}
