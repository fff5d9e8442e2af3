// bf16 execution (CompileOptions::bf16, OnednnOptions::precision = kBf16): each bf16 conv
// variant against the f32 reference with a bound derived from bf16's 8-bit significand,
// value-preserving chains that stay bf16, whole YOLO-like graphs (float and QDQ = mixed
// int8/bf16) with a statistical bound, and the precision checks of the public API (refused
// without AVX512-BF16, simulated with OnednnOptions::pretend_no_bf16).
//
// Tolerance: bf16 keeps 8 significant bits, so rounding to bf16 (round to nearest even, in
// oneDNN's reorders and in the bf16 conv's result) has relative error <= u = 2^-8. A bf16 conv
// multiplies rounded inputs by rounded weights, |x~w~ - xw| <= (2u + u^2)|x||w|, and accumulates
// in f32 (error ~1e-7 relative, negligible), so one output differs from the f32 reference by at
// most 2.01 u max|x| ||W_c||_1 (before the activation; SiLU's slope is at most 1.1), plus u |y|
// for the rounding of the result, plus u |a| for a residual addend read as bf16.
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "test_util.h"
#include "testing/qdq.h"
#include "testing/yolo_like.h"
#include "vqi/infer/onednn.h"

namespace vqi::infer::onednn {
namespace {

using testing::Conv;
using testing::Model;
using testing::OnnxBuilder;
using testing::Silu;
using testing::ValuePreservingChain;

constexpr double kU = 1.0 / 256;  // unit roundoff of bf16 (8-bit significand)

#define SKIP_WITHOUT_BF16()                                                                    \
  if (!OnednnHasBf16())                                                                        \
  GTEST_SKIP() << "oneDNN reports no AVX512-BF16 on this CPU: bf16 execution cannot run here " \
                  "(the refusal itself is tested by Bf16Precision.*)"

struct Outcome {
  std::vector<float> in, ref, got;
  std::string details;
  Graph loaded;
};

// Reference on the graph as loaded (fake quantization for QDQ files), compiled program with
// bf16 on the optimized one.
Outcome RunBf16(const std::string& bytes, int threads, bool bf16 = true, uint32_t seed = 3) {
  Outcome r;
  auto g = LoadOnnxGraph(bytes, "bf16-model");
  EXPECT_TRUE(g.ok()) << g.status().ToString();
  if (!g.ok()) return r;
  r.loaded = *g;
  r.in = testing::RandomVector(NumElements(g->tensors[g->input].shape), seed);
  for (float& v : r.in) v = (v + 1.f) * 0.5f;  // an image: 0..1
  Status st = RefRun(*g, r.in.data(), &r.ref);
  EXPECT_TRUE(st.ok()) << st.ToString();
  Graph opt = *g;
  st = OptimizeGraph(&opt);
  EXPECT_TRUE(st.ok()) << st.ToString();
  if (!st.ok()) return r;
  auto m = Compile(std::move(opt), {.threads = threads, .bf16 = bf16});
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  if (!m.ok()) return r;
  r.got.assign(NumElements((*m)->OutputShape()), -12345.f);
  st = (*m)->Run(r.in.data(), r.got.data());
  EXPECT_TRUE(st.ok()) << st.ToString();
  r.details = (*m)->Details();
  return r;
}

// Steps of a kind in Details() ("kind=impl xN" entries) whose implementation contains `impl`
// (or does not, with `negate`).
int CountSteps(const std::string& details, const std::string& kind, const std::string& impl = "",
               bool negate = false) {
  int n = 0;
  for (size_t p = details.find(" " + kind + "="); p != std::string::npos;
       p = details.find(" " + kind + "=", p + 1)) {
    size_t end = details.find(' ', p + 1);
    if (end == std::string::npos) end = details.size();
    std::string entry = details.substr(p + 1, end - p - 1);
    if (!impl.empty() && (entry.find(impl) != std::string::npos) == negate) continue;
    n += std::atoi(entry.c_str() + entry.rfind('x') + 1);
  }
  return n;
}

// Largest ||W_c||_1 over the output channels of the weights `w` [O, I/g, kh, kw].
std::vector<double> RowL1(const Tensor& w) {
  int64_t oc = w.shape[0], per = NumElements(w.shape) / oc;
  std::vector<double> l1(oc, 0);
  for (int64_t c = 0; c < oc; ++c)
    for (int64_t k = 0; k < per; ++k) l1[c] += std::fabs(w.f[c * per + k]);
  return l1;
}

struct ConvCase {
  int64_t cin, cout, k, stride, group;
  bool silu, residual;
};

TEST(OneDnnBf16, ConvVariantsMatchReferenceWithinBf16Rounding) {
  SKIP_WITHOUT_BF16();
  const ConvCase cases[] = {
      {3, 5, 3, 1, 1, false, false},   {3, 16, 3, 2, 1, true, false},
      {5, 13, 1, 1, 1, true, false},   {13, 17, 3, 2, 1, true, false},
      {17, 33, 3, 1, 1, false, false}, {33, 33, 3, 1, 33, true, false},
      {16, 16, 3, 1, 4, true, false},  {17, 17, 3, 1, 1, true, true},
      {32, 32, 1, 1, 1, false, true},  {16, 32, 3, 1, 1, true, false},
  };
  for (const ConvCase& c : cases) {
    SCOPED_TRACE(std::to_string(c.cin) + "->" + std::to_string(c.cout) + " k" +
                 std::to_string(c.k) + " s" + std::to_string(c.stride) + " g" +
                 std::to_string(c.group) + (c.silu ? " silu" : "") + (c.residual ? " add" : ""));
    std::string m = Model(c.cin, 11, 9, [&](OnnxBuilder& b, const std::string& x) {
      std::string y = Conv(b, x, c.cin, c.cout, c.k, c.stride, c.group);
      if (c.silu) y = Silu(b, y);
      if (c.residual) y = b.Op1("Add", {x, y});
      return y;
    });
    // Grouped convs that are not depthwise stay fp32 (no bf16 kernel in oneDNN 2.6).
    const bool grouped = c.group > 1 && !(c.group == c.cin && c.cout == c.cin);
    for (int threads : {1, 2}) {
      Outcome r = RunBf16(m, threads);
      ASSERT_EQ(r.got.size(), r.ref.size());
      const Node* conv = nullptr;
      for (const Node& n : r.loaded.nodes)
        if (n.op == "Conv") conv = &n;
      ASSERT_NE(conv, nullptr);
      const std::vector<double> l1 = RowL1(r.loaded.tensors[conv->in[1]]);
      double max_x = 0;
      for (float v : r.in) max_x = std::max(max_x, std::fabs(double(v)));
      const int64_t per_channel = static_cast<int64_t>(r.got.size()) / c.cout;
      double worst = 0;  // largest |d| / bound
      for (size_t k = 0; k < r.got.size(); ++k) {
        const int64_t ch = static_cast<int64_t>(k) / per_channel;
        double bound = (c.silu ? 1.1 : 1.0) * 2.01 * kU * max_x * l1[ch] +
                       kU * std::fabs(double(r.ref[k])) + (c.residual ? kU * max_x : 0) + 1e-5;
        double d = std::fabs(double(r.got[k]) - r.ref[k]);
        ASSERT_LE(d, bound) << "at " << k << " ref " << r.ref[k] << " got " << r.got[k];
        worst = std::max(worst, d / bound);
      }
      // Not fp32 in disguise: some outputs differ, by a sizable share of the bound.
      if (!grouped) {
        EXPECT_GT(worst, 0.01) << r.details;
      }
      EXPECT_EQ(CountSteps(r.details, "conv", "bf16"), grouped ? 0 : 1) << r.details;
      if (!grouped) {  // (fp32 grouped convs on nChw16c are ref:any too)
        EXPECT_EQ(r.details.find("ref:"), std::string::npos) << r.details;
      }
    }
  }
}

TEST(OneDnnBf16, ValuePreservingChainsStayBf16) {
  SKIP_WITHOUT_BF16();
  // conv -> maxpool -> resize -> concat(with conv) -> split -> slice -> conv: bf16 throughout,
  // converted only at the input, before the Add (computed in f32) and at the output.
  std::string m = Model(5, 12, 10, ValuePreservingChain);
  for (int threads : {1, 2}) {
    Outcome r = RunBf16(m, threads);
    ASSERT_EQ(r.got.size(), r.ref.size());
    // Two conv stages: the second reads values already rounded (relative u) and adds its own
    // 2u; relative to the sum of |terms| the error stays a few u. Bound: 8u of the output
    // range, and the mean within 1u of it.
    double range = 0, sum = 0, worst = 0;
    for (float v : r.ref) range = std::max(range, std::fabs(double(v)));
    for (size_t k = 0; k < r.got.size(); ++k) {
      double d = std::fabs(double(r.got[k]) - r.ref[k]);
      sum += d;
      worst = std::max(worst, d);
    }
    EXPECT_LE(worst, 8 * kU * range) << r.details;
    EXPECT_LE(sum / r.got.size(), kU * range) << r.details;
    EXPECT_GT(worst, 0) << "bf16 must round somewhere";
    EXPECT_EQ(CountSteps(r.details, "conv", "bf16"), 3) << r.details;
    EXPECT_EQ(CountSteps(r.details, "pool", "bf16"), 2) << r.details;
    // f32 -> bf16 (input), bf16 -> f32 for the two Add operands; nothing between.
    EXPECT_LE(CountSteps(r.details, "reorder"), 3 + /*strided split copies*/ 2) << r.details;
  }
}

model::ModelConfig SmallT() {
  model::ModelConfig cfg;
  cfg.scale = "t";
  cfg.input_w = 96;
  cfg.input_h = 64;
  return cfg;
}

struct Stats {
  double range = 0, mean = 0, worst = 0;
};

Stats Compare(const Outcome& r) {
  Stats s;
  for (float v : r.ref) s.range = std::max(s.range, std::fabs(double(v)));
  double sum = 0;
  for (size_t k = 0; k < r.got.size(); ++k) {
    double d = std::fabs(double(r.got[k]) - r.ref[k]);
    sum += d;
    s.worst = std::max(s.worst, d);
  }
  s.mean = r.got.empty() ? 0 : sum / r.got.size();
  return s;
}

TEST(OneDnnBf16, YoloLikeGraphRunsBf16AndDeterministic) {
  SKIP_WITHOUT_BF16();
  auto fp32 = testing::BuildYoloLikeOnnx(SmallT(), 7, 13);
  ASSERT_TRUE(fp32.ok()) << fp32.status().ToString();
  Outcome r1 = RunBf16(*fp32, 1), r2 = RunBf16(*fp32, 2), r2b = RunBf16(*fp32, 2);
  ASSERT_EQ(r1.got.size(), r1.ref.size());
  EXPECT_EQ(r2.got, r2b.got);  // deterministic for a thread count
  // ~60 convs in a chain: relative rounding of u per stage compounds, so the bound is
  // statistical as for int8 (same bounds: mean within 0.5 % and worst within 5 % of the output
  // range; boxes in pixels, scores 0..1).
  Stats s = Compare(r1);
  EXPECT_LE(s.worst, 0.05 * s.range) << "mean " << s.mean << " range " << s.range;
  EXPECT_LE(s.mean, 0.005 * s.range) << "worst " << s.worst;
  EXPECT_GT(s.worst, 0) << "bf16 must round somewhere";
  for (size_t k = 0; k < r2.got.size(); ++k)
    ASSERT_LE(std::fabs(r2.got[k] - r1.got[k]), 0.05 * s.range);
  // Every conv runs bf16; the DFL decoder's conv is part of the fused f32 detect decode.
  EXPECT_EQ(CountSteps(r1.details, "conv", "bf16", /*negate=*/true), 0) << r1.details;
  EXPECT_NE(r1.details.find("decode=vqi:detect_decodex1"), std::string::npos) << r1.details;
  EXPECT_GT(CountSteps(r1.details, "conv", "bf16"), 50) << r1.details;
  EXPECT_EQ(r1.details.find("ref:"), std::string::npos) << r1.details;
  EXPECT_EQ(r1.details.find("reference"), std::string::npos) << r1.details;
  std::printf("bf16 yolo-like t@96x64: mean |d| %.4g worst %.4g range %.4g\n%s\n", s.mean, s.worst,
              s.range, r1.details.c_str());
}

TEST(OneDnnBf16, QdqModelRunsMixedInt8AndBf16) {
  SKIP_WITHOUT_BF16();
  auto fp32 = testing::BuildYoloLikeOnnx(SmallT(), 7, 13);
  ASSERT_TRUE(fp32.ok()) << fp32.status().ToString();
  // As vqi model quantize: the first conv (it reads the image) and the DFL conv stay float;
  // with bf16 the first one runs bf16, the DFL one is part of the fused f32 detect decode.
  auto q = testing::QuantizeToQdq(*fp32, {.first_conv_float = true});
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  Outcome ri = RunBf16(*q, 2, /*bf16=*/false), rm = RunBf16(*q, 2, /*bf16=*/true);
  ASSERT_EQ(rm.got.size(), rm.ref.size());
  Stats si = Compare(ri), sm = Compare(rm);
  // Same statistical bound as int8 alone (qdq_test), and not worse than int8 by more than the
  // bf16 rounding of the float layers could explain (mean at most twice int8's).
  EXPECT_LE(sm.worst, 0.05 * sm.range) << "mean " << sm.mean;
  EXPECT_LE(sm.mean, 0.005 * sm.range) << "worst " << sm.worst;
  EXPECT_LE(sm.mean, 2 * si.mean + 1e-6) << "int8 alone: mean " << si.mean;
  EXPECT_EQ(CountSteps(rm.details, "conv_s8"), CountSteps(ri.details, "conv_s8")) << rm.details;
  EXPECT_GT(CountSteps(rm.details, "conv_s8"), 50) << rm.details;
  EXPECT_EQ(CountSteps(rm.details, "conv", "bf16"), 1) << rm.details;  // the first conv
  EXPECT_EQ(CountSteps(ri.details, "conv", "bf16"), 0) << ri.details;
  std::printf("int8+bf16 yolo-like t@96x64: mean |d| %.4g (int8 alone %.4g) worst %.4g\n%s\n",
              sm.mean, si.mean, sm.worst, rm.details.c_str());
}

// ---- The public API: precision checks -----------------------------------------------------

Result<std::unique_ptr<InferenceBackend>> Open(const std::string& bytes, Precision p,
                                               bool pretend_no_bf16 = false) {
  ::onnx::ModelProto proto;
  EXPECT_TRUE(proto.ParseFromString(bytes));
  OnednnOptions o;
  o.threads = 1;
  o.precision = p;
  o.pretend_no_bf16 = pretend_no_bf16;
  return OpenOnednnBackend(proto, "m.onnx", o);
}

std::string SmallFloat() {
  return Model(3, 8, 8, [&](OnnxBuilder& b, const std::string& x) {
    return b.Op1("Reshape", {Silu(b, Conv(b, x, 3, 6, 3)), b.Ints({1, 6, 64})});
  });
}

TEST(Bf16Precision, RefusedWithoutAvx512Bf16) {
  auto b = Open(SmallFloat(), Precision::kBf16, /*pretend_no_bf16=*/true);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), StatusCode::kFailedPrecondition) << b.status().ToString();
  const std::string msg = b.status().ToString();
  EXPECT_NE(msg.find("m.onnx"), std::string::npos) << msg;
  EXPECT_NE(msg.find("AVX512-BF16"), std::string::npos) << msg;
  EXPECT_NE(msg.find("isa="), std::string::npos) << msg;
  EXPECT_NE(msg.find("fp32 or int8"), std::string::npos) << msg;
  // The other precisions do not need the ISA.
  EXPECT_TRUE(Open(SmallFloat(), Precision::kFp32, true).ok());
  EXPECT_TRUE(Open(SmallFloat(), Precision::kAuto, true).ok());
}

TEST(Bf16Precision, NamesWhatRuns) {
  auto f = Open(SmallFloat(), Precision::kAuto);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ((*f)->Details().rfind("precision=fp32 ", 0), 0u) << (*f)->Details();
  auto q = testing::QuantizeToQdq(SmallFloat());
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  auto i = Open(*q, Precision::kInt8);
  ASSERT_TRUE(i.ok()) << i.status().ToString();
  EXPECT_EQ((*i)->Details().rfind("precision=int8 ", 0), 0u) << (*i)->Details();
  if (!OnednnHasBf16()) GTEST_SKIP() << "no AVX512-BF16: bf16 not opened here";
  auto h = Open(SmallFloat(), Precision::kBf16);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ((*h)->Details().rfind("precision=bf16 ", 0), 0u) << (*h)->Details();
  auto m = Open(*q, Precision::kBf16);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ((*m)->Details().rfind("precision=int8+bf16 ", 0), 0u) << (*m)->Details();
}

TEST(Bf16Precision, FileMustMatchFp32OrInt8) {
  auto q = testing::QuantizeToQdq(SmallFloat());
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  auto a = Open(*q, Precision::kFp32);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(a.status().ToString().find("int8 (QDQ) model"), std::string::npos)
      << a.status().ToString();
  auto b = Open(SmallFloat(), Precision::kInt8);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(b.status().ToString().find("vqi model quantize"), std::string::npos)
      << b.status().ToString();
}

TEST(Bf16Precision, ParsesTheNames) {
  for (const char* n : {"auto", "fp32", "bf16", "int8"}) {
    auto p = ParsePrecision(n);
    ASSERT_TRUE(p.ok()) << n;
    EXPECT_STREQ(PrecisionName(*p), n);
  }
  auto bad = ParsePrecision("fp16");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().ToString().find("auto, fp32, bf16, int8"), std::string::npos);
}

}  // namespace
}  // namespace vqi::infer::onednn
