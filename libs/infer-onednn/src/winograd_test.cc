// fp32 3x3 stride-1 convolutions as Winograd (conv_winograd.cc): which convolutions take it,
// their post-ops as separate in-place steps (SiLU, residual add, an activation after the add,
// an output that is a slot of an in-place concat), and the values against the reference.
#include <cmath>
#include <oneapi/dnnl/dnnl.hpp>

#include "test_util.h"
#include "testing/yolo_like.h"

namespace vqi::infer::onednn {
namespace {

using testing::OnnxBuilder;

using testing::Silu;

std::string Conv3(OnnxBuilder& b, const std::string& x, int64_t cin, int64_t cout,
                  int64_t stride = 1) {
  // Weights of a trained (BatchNorm-folded) layer's size, ~1/sqrt(fan-in): values stay O(1)
  // through the chain instead of growing by ~10x per convolution.
  const float scale = 2.f / std::sqrt(9.f * static_cast<float>(cin));
  std::string y = b.Op1("Conv", {x, b.Rand({cout, cin, 3, 3}, scale), b.Rand({cout}, 0.2f)});
  b.AttrInts({1, 1, 1, 1}, "pads");
  b.AttrInts({stride, stride}, "strides");
  return y;
}

// A C2f-like block at 40x44 (above the rule's 40x40 pixels): cv1 32->64 + SiLU, split halves
// (32 each), a bottleneck with shortcut (two 32->32 + SiLU, the second with the residual add
// and a Relu after it: three post-ops), concat [y0, y1, m] written in place, a 96->48 + SiLU,
// a 48->16 + SiLU, then a strided conv that stays direct.
std::string C2fLike() {
  OnnxBuilder b(13, 7);
  std::string x = b.Input("images", {1, 32, 40, 44});
  std::string y = Silu(b, Conv3(b, x, 32, 64));
  auto p = b.Op("Split", {y, b.Ints({32, 32})}, 2);
  b.AttrInt("axis", 1);
  std::string m = Silu(b, Conv3(b, p[1], 32, 32));
  m = Silu(b, Conv3(b, m, 32, 32));
  m = b.Op1("Relu", {b.Op1("Add", {p[1], m})});
  std::string c = b.Op1("Concat", {p[0], p[1], m});
  b.AttrInt("axis", 1);
  std::string z = Silu(b, Conv3(b, c, 96, 48));
  z = Silu(b, Conv3(b, z, 48, 16));
  z = Silu(b, Conv3(b, z, 16, 32, 2));  // stride 2: direct
  b.Output(z);
  return b.Serialize();
}

struct Outcome {
  std::vector<float> out;
  std::string details;
};

Outcome Compiled(const Graph& g, const std::vector<float>& in, CompileOptions o) {
  Graph opt = g;
  Status st = OptimizeGraph(&opt);
  EXPECT_TRUE(st.ok()) << st.ToString();
  auto m = Compile(std::move(opt), o);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  if (!m.ok()) return {};
  Outcome r;
  r.out.assign(NumElements((*m)->OutputShape()), -12345.f);
  st = (*m)->Run(in.data(), r.out.data());
  EXPECT_TRUE(st.ok()) << st.ToString();
  r.details = (*m)->Details();
  return r;
}

bool HasAvx512() {
  const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  const auto avx512 = static_cast<unsigned>(dnnl::cpu_isa::avx512_core);
  return (isa & avx512) == avx512;
}

int Count(const std::string& s, const std::string& what) {
  int n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

TEST(OneDnnWinograd, EligibleConvsMatchReferenceWithPostOpsAsSteps) {
  auto g = LoadOnnxGraph(C2fLike(), "c2f");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  std::vector<float> in = testing::RandomVector(NumElements(g->tensors[g->input].shape), 5);
  std::vector<float> ref;
  ASSERT_TRUE(RefRun(*g, in.data(), &ref).ok());
  for (int threads : {1, 2}) {
    SCOPED_TRACE(threads);
    Outcome wino = Compiled(*g, in, {.threads = threads});
    Outcome direct = Compiled(*g, in, {.threads = threads, .winograd = false});
    ASSERT_EQ(wino.out.size(), ref.size());
    ASSERT_EQ(direct.out.size(), ref.size());
    // Five convolutions qualify (64, 32, 32, 48, 16 output channels at 40x44, stride 1):
    // Winograd F(4x4, 3x3), and their post-ops become steps (4x SiLU, SiLU + add + Relu).
    if (!HasAvx512()) GTEST_SKIP() << "oneDNN 2.6's Winograd kernels need AVX-512";
    EXPECT_NE(wino.details.find("conv=jit_wino_4x3:avx512_corex5"), std::string::npos)
        << wino.details;
    EXPECT_EQ(Count(wino.details, "wino"), 1) << wino.details;  // one impl entry, x5
    EXPECT_NE(wino.details.find("conv_post=jit:avx512_corex6"), std::string::npos)
        << wino.details;  // the six SiLU/Relu eltwise steps
    EXPECT_NE(wino.details.find("conv_post=jit:unix1"), std::string::npos)
        << wino.details;  // the residual add
    EXPECT_EQ(direct.details.find("wino"), std::string::npos) << direct.details;
    EXPECT_EQ(direct.details.find("conv_post="), std::string::npos) << direct.details;
    // Still zero copies for the concat (the Winograd output and its post-ops are its slot).
    EXPECT_EQ(wino.details.find("concat="), std::string::npos) << wino.details;
    double max_err = 0, max_diff = 0, dmax_err = 0, range = 0, max_abs = 0;
    for (size_t k = 0; k < ref.size(); ++k) {
      range = std::max(range, std::fabs(double(ref[k])));
      max_abs = std::max(max_abs, std::fabs(double(wino.out[k]) - ref[k]));
      dmax_err = std::max(dmax_err, std::fabs(double(direct.out[k]) - ref[k]) /
                                        std::max(1.0, std::fabs(double(ref[k]))));
      const double scale = std::max(1.0, std::fabs(double(ref[k])));
      max_err = std::max(max_err, std::fabs(double(wino.out[k]) - ref[k]) / scale);
      max_diff = std::max(max_diff, std::fabs(double(wino.out[k]) - direct.out[k]));
    }
    // The fp32 tolerance of every op test; measured ~1e-6 here.
    EXPECT_LE(max_err, 1e-4) << "direct " << dmax_err << " range " << range << " abs " << max_abs;
    // A different algorithm really ran: Winograd rounds differently from direct.
    EXPECT_GT(max_diff, 0.0);
    // Bitwise identical from one compilation to the next for a thread count.
    EXPECT_EQ(Compiled(*g, in, {.threads = threads}).out, wino.out);
  }
}

TEST(OneDnnWinograd, TheRulePicksTheKernel) {
  // One 3x3 conv + SiLU: F(4x4, 3x3) from 16 channels; F(2x2, 3x3) for <= 64 channels below
  // 40x40 pixels; direct below 20x20 pixels, on nhwc (8 channels) and with the option off.
  auto one = [](int64_t c, int64_t h) {
    OnnxBuilder b(13, 3);
    std::string x = b.Input("images", {1, c, h, h});
    b.Output(Silu(b, Conv3(b, x, c, c)));
    return b.Serialize();
  };
  struct Case {
    int64_t c, h;
    bool winograd;
    const char* expect;  // the conv implementation, or "" for direct
  };
  for (const Case& k :
       {Case{16, 48, true, "conv=jit_wino_4x3"}, Case{64, 20, true, "conv=jit_fp32_wino_2x3"},
        Case{128, 20, true, "conv=jit_wino_4x3"}, Case{32, 16, true, ""}, Case{8, 48, true, ""},
        Case{32, 48, false, ""}}) {
    SCOPED_TRACE(::testing::Message() << k.c << "ch " << k.h << "px " << k.winograd);
    auto g = LoadOnnxGraph(one(k.c, k.h), "one");
    ASSERT_TRUE(g.ok());
    std::vector<float> in = testing::RandomVector(NumElements(g->tensors[g->input].shape), 2);
    std::vector<float> ref;
    ASSERT_TRUE(RefRun(*g, in.data(), &ref).ok());
    Outcome r = Compiled(*g, in, {.threads = 2, .winograd = k.winograd});
    if (*k.expect && HasAvx512()) {
      EXPECT_NE(r.details.find(k.expect), std::string::npos) << r.details;
    } else {
      EXPECT_EQ(r.details.find("wino"), std::string::npos) << r.details;
    }
    ASSERT_EQ(r.out.size(), ref.size());
    for (size_t e = 0; e < ref.size(); ++e)
      ASSERT_LE(std::fabs(r.out[e] - ref[e]), 1e-4 * std::max(1.f, std::fabs(ref[e]))) << e;
  }
}

TEST(OneDnnWinograd, NanoModelAt256x192MatchesReference) {
  // The YOLOv8n graph at 256x192: its stride-4 and stride-8 stride-1 3x3 convolutions (C2f
  // bottlenecks 16->16 at 64x48 and 32->32 at 32x24, the head's 64->64 at 32x24) take Winograd;
  // boxes and scores vs the reference, the whole-model tolerance of model_test.
  model::ModelConfig cfg;
  cfg.scale = "n";
  cfg.input_w = 256;
  cfg.input_h = 192;
  cfg.class_names = {"a", "b"};
  auto bytes = testing::BuildYoloLikeOnnx(cfg, 7, 13);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  CompareResult r = CompareWithReference(*bytes, 2);
  EXPECT_EQ(r.n, static_cast<size_t>(6 * model::NumAnchors(cfg)));
  EXPECT_LE(r.max_err, 1e-4) << r.details;
  if (HasAvx512()) {
    EXPECT_NE(r.details.find("conv=jit_wino_4x3"), std::string::npos) << r.details;
    EXPECT_NE(r.details.find("conv=jit_fp32_wino_2x3"), std::string::npos) << r.details;
  }
}

}  // namespace
}  // namespace vqi::infer::onednn
