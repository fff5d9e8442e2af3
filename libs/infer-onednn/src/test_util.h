// Shared by the oneDNN backend tests: run a model through the reference interpreter and the
// compiled oneDNN program and compare.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "compiler.h"
#include "ops.h"
#include "passes.h"
#include "testing/onnx_builder.h"

namespace vqi::infer::onednn {

struct CompareResult {
  double max_err = 0;  // max |a - b| / max(1, |b|)
  size_t n = 0;
  std::string details;
};

// Loads `bytes`, computes the reference on the unoptimized graph, compiles with fusions and
// runs; reports the worst relative error. Fails the test on any error status.
inline CompareResult CompareWithReference(const std::string& bytes, int threads = 2,
                                          uint32_t seed = 3, bool fuse = true) {
  CompareResult r;
  auto g = LoadOnnxGraph(bytes, "test-model");
  EXPECT_TRUE(g.ok()) << g.status().ToString();
  if (!g.ok()) return r;
  const Shape in_shape = g->tensors[g->input].shape;
  std::vector<float> input = testing::RandomVector(NumElements(in_shape), seed);
  std::vector<float> expected;
  Status st = RefRun(*g, input.data(), &expected);
  EXPECT_TRUE(st.ok()) << st.ToString();
  Graph opt = *g;
  st = OptimizeGraph(&opt, {.fuse = fuse});
  EXPECT_TRUE(st.ok()) << st.ToString();
  if (!st.ok()) return r;
  auto m = Compile(std::move(opt), {.threads = threads});
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  if (!m.ok()) return r;
  std::vector<float> got(NumElements((*m)->OutputShape()), -12345.f);
  EXPECT_EQ(got.size(), expected.size());
  st = (*m)->Run(input.data(), got.data());
  EXPECT_TRUE(st.ok()) << st.ToString();
  for (size_t k = 0; k < got.size() && k < expected.size(); ++k) {
    double e =
        std::fabs(double(got[k]) - expected[k]) / std::max(1.0, std::fabs(double(expected[k])));
    if (!(e <= r.max_err)) r.max_err = std::isnan(e) ? 1e30 : e;
  }
  r.n = got.size();
  r.details = (*m)->Details();
  return r;
}

}  // namespace vqi::infer::onednn
