// int8 execution of QDQ models: each int8 op and chain against the reference interpreter on
// the same QDQ graph (fake quantization in float), whole YOLO-like graphs, and load-time
// errors for every unsupported QDQ form.
//
// Tolerance (derived in docs/design/onednn.md, "int8"): int8 accumulation is exact, so an f32
// result read from s8 inputs differs from the reference only by float rounding
// (1e-4 * max(1, |ref|)). A tensor stored as s8 may differ from the reference's
// QuantizeLinear by one step (a value within float rounding of a .5 tie), so a conv reading it
// may differ by s_x * ||W_c||_1 (every input of its window one step off). A residual addend
// that the reference reads unquantized but we read as s8 adds s_x / 2.
#include "testing/qdq.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <oneapi/dnnl/dnnl.hpp>

#include "test_util.h"
#include "testing/yolo_like.h"

namespace vqi::infer::onednn {
namespace {

using testing::Conv;
using testing::Model;
using testing::OnnxBuilder;
using testing::Silu;
using testing::ValuePreservingChain;

struct Outcome {
  std::vector<float> ref, got;
  std::string details;
  Graph opt;
};

// Reference on the QDQ graph as loaded, compiled program on the optimized one.
Outcome RunBoth(const std::string& qdq, int threads, uint32_t seed = 3) {
  Outcome r;
  auto g = LoadOnnxGraph(qdq, "qdq-model");
  EXPECT_TRUE(g.ok()) << g.status().ToString();
  if (!g.ok()) return r;
  std::vector<float> in = testing::RandomVector(NumElements(g->tensors[g->input].shape), seed);
  for (float& v : in) v = (v + 1.f) * 0.5f;
  Status st = RefRun(*g, in.data(), &r.ref);
  EXPECT_TRUE(st.ok()) << st.ToString();
  r.opt = *g;
  st = OptimizeGraph(&r.opt);
  EXPECT_TRUE(st.ok()) << st.ToString();
  if (!st.ok()) return r;
  auto m = Compile(r.opt, {.threads = threads});
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  if (!m.ok()) return r;
  r.got.assign(NumElements((*m)->OutputShape()), -12345.f);
  st = (*m)->Run(in.data(), r.got.data());
  EXPECT_TRUE(st.ok()) << st.ToString();
  r.details = (*m)->Details();
  return r;
}

std::string Quantized(const std::string& fp32) {
  auto q = testing::QuantizeToQdq(fp32);
  EXPECT_TRUE(q.ok()) << q.status().ToString();
  return q.ok() ? *q : std::string();
}

// Largest s_x * ||W_c||_1 over the int8 convs reading s8 tensors produced by int8 convs.
double FlipBound(const Graph& g) {
  double bound = 0;
  for (const Node& n : g.nodes) {
    if (n.dead || n.op != "Conv" || n.wq < 0) continue;
    const Tensor& x = g.tensors[n.in[0]];
    if (x.qscale <= 0 || x.producer < 0) continue;
    const Tensor& w = g.tensors[n.in[1]];
    int64_t oc = w.shape[0], per = NumElements(w.shape) / oc;
    for (int64_t c = 0; c < oc; ++c) {
      double l1 = 0;
      for (int64_t k = 0; k < per; ++k) l1 += std::fabs(w.f[c * per + k]);
      bound = std::max(bound, x.qscale * l1);
    }
  }
  return bound;
}

// Steps of a kind in Details() ("kind=impl xN" entries).
int CountSteps(const std::string& details, const std::string& kind) {
  int n = 0;
  for (size_t p = details.find(" " + kind); p != std::string::npos;
       p = details.find(" " + kind, p + 1)) {
    size_t end = details.find(' ', p + 1);
    size_t x = details.rfind('x', end);
    n += std::atoi(details.c_str() + x + 1);
  }
  return n;
}

// Checks |got - ref| <= abs_tol + 1e-4 * max(1, |ref|) and that the convs ran as int8.
void ExpectClose(const Outcome& r, double abs_tol, int int8_convs) {
  ASSERT_EQ(r.got.size(), r.ref.size());
  ASSERT_FALSE(r.got.empty());
  double worst = 0;
  for (size_t k = 0; k < r.got.size(); ++k) {
    double d = std::fabs(double(r.got[k]) - r.ref[k]);
    double tol = abs_tol + 1e-4 * std::max(1.0, std::fabs(double(r.ref[k])));
    EXPECT_LE(d, tol) << "at " << k << " ref " << r.ref[k] << " got " << r.got[k];
    if (!(d <= tol)) break;
    worst = std::max(worst, d);
  }
  EXPECT_EQ(CountSteps(r.details, "conv_s8="), int8_convs) << r.details;
  EXPECT_EQ(r.details.find("ref_int8"), std::string::npos) << r.details;
}

struct ConvCase {
  int64_t cin, cout, k, stride, group;
  bool silu, residual;
};

TEST(OneDnnQdq, ConvVariantsMatchReference) {
  const ConvCase cases[] = {
      {3, 5, 3, 1, 1, false, false},   {5, 13, 1, 1, 1, true, false},
      {13, 17, 3, 2, 1, true, false},  {17, 33, 3, 1, 1, false, false},
      {33, 33, 3, 1, 33, true, false}, {16, 16, 3, 1, 4, true, false},
      {17, 17, 3, 1, 1, true, true},   {13, 13, 1, 1, 1, false, true},
  };
  for (const ConvCase& c : cases) {
    SCOPED_TRACE(std::to_string(c.cin) + "->" + std::to_string(c.cout) + " k" +
                 std::to_string(c.k) + " s" + std::to_string(c.stride) + " g" +
                 std::to_string(c.group) + (c.silu ? " silu" : "") + (c.residual ? " add" : ""));
    std::string q = Quantized(Model(c.cin, 11, 9, [&](OnnxBuilder& b, const std::string& x) {
      std::string y = Conv(b, x, c.cin, c.cout, c.k, c.stride, c.group);
      if (c.silu) y = Silu(b, y);
      if (c.residual) y = b.Op1("Add", {x, y});
      return y;
    }));
    for (int threads : {1, 2}) {
      Outcome r = RunBoth(q, threads);
      // The residual addend is read as s8 (the reference reads it unquantized): s_x / 2.
      double tol = c.residual ? 0.5 * r.opt.tensors[r.opt.input].qscale + 1e-6 : 0;
      ExpectClose(r, tol, 1);
    }
  }
}

TEST(OneDnnQdq, BiasIsAddedBeforeOutputScales) {
  // oneDNN 2.6 int8: dst = oscale * (acc + bias). A large bias relative to the scales shows
  // the difference between the two possible semantics immediately.
  std::string q = Quantized(Model(5, 7, 7, [&](OnnxBuilder& b, const std::string& x) {
    return b.Op1("Conv", {x, b.Rand({7, 5, 1, 1}, 0.01f), b.Init({7}, {3, -2, 1, 5, -4, 2, 7})});
  }));
  ExpectClose(RunBoth(q, 1), 0, 1);
}

TEST(OneDnnQdq, S8ChainsStayInt8) {
  // conv -> maxpool -> resize -> concat(with conv) -> split -> conv: one shared scale.
  std::string q = Quantized(Model(5, 12, 10, ValuePreservingChain));
  for (int threads : {1, 2}) {
    Outcome r = RunBoth(q, threads);
    ExpectClose(r, 2 * FlipBound(r.opt), 3);
    // Types convert only at the input (quantize) and the final f32 conv; no dequantize.
    EXPECT_EQ(CountSteps(r.details, "quant_reorder="), 1) << r.details;
  }
}

TEST(OneDnnQdq, FloatFirstConvReadsTheImageDirectly) {
  // What `vqi model quantize` writes: the first conv (image -> 8 channels) stays float, the
  // convs after it are int8. Its output is quantized for them by one reorder; on AVX-512 the
  // conv reads the plain image itself (no nhwc copy of the image).
  std::string fp32 = Model(3, 33, 47, [&](OnnxBuilder& b, const std::string& x) {
    std::string a = Silu(b, Conv(b, x, 3, 8, 3, 2));
    std::string c = Silu(b, Conv(b, a, 8, 16, 3));
    return Conv(b, c, 16, 16, 1);
  });
  auto q = testing::QuantizeToQdq(fp32, {.min_conv_channels = 9});
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  for (int threads : {1, 2}) {
    Outcome r = RunBoth(*q, threads);
    ExpectClose(r, 2 * FlipBound(r.opt), 2);
    EXPECT_EQ(CountSteps(r.details, "quant_reorder="), 1) << r.details;
    EXPECT_EQ(r.details.find("ref:"), std::string::npos) << r.details;
    const auto isa = dnnl::get_effective_cpu_isa();
    if (isa == dnnl::cpu_isa::avx512_core || isa == dnnl::cpu_isa::avx512_core_vnni ||
        isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx) {
      // Only the output's reorder to plain remains.
      EXPECT_EQ(CountSteps(r.details, "reorder="), 1) << r.details;
    }
  }
}

TEST(OneDnnQdq, YoloLikeGraphRunsInt8AndDeterministic) {
  model::ModelConfig cfg;
  cfg.scale = "t";
  cfg.input_w = 96;
  cfg.input_h = 64;
  auto fp32 = testing::BuildYoloLikeOnnx(cfg, 7, 13);
  ASSERT_TRUE(fp32.ok()) << fp32.status().ToString();
  std::string q = Quantized(*fp32);
  Outcome r1 = RunBoth(q, 1), r2 = RunBoth(q, 2), r2b = RunBoth(q, 2);
  ASSERT_EQ(r1.got.size(), r1.ref.size());
  EXPECT_EQ(r2.got, r2b.got);  // deterministic for a thread count
  // Whole graph: rounding flips propagate through ~60 convs, so the bound is statistical: the
  // mean error stays within a fraction of one output quantization step of the detect inputs
  // and the largest within 5 % of the output range (boxes are in pixels, scores in 0..1).
  double range = 0, sum = 0, worst = 0;
  for (float v : r1.ref) range = std::max(range, std::fabs(double(v)));
  for (size_t k = 0; k < r1.got.size(); ++k) {
    double d = std::fabs(double(r1.got[k]) - r1.ref[k]);
    sum += d;
    worst = std::max(worst, d);
  }
  double mean = sum / r1.got.size();
  EXPECT_LE(worst, 0.05 * range) << "mean " << mean << " range " << range;
  EXPECT_LE(mean, 0.005 * range) << "worst " << worst;
  for (size_t k = 0; k < r2.got.size(); ++k)
    ASSERT_LE(std::fabs(r2.got[k] - r1.got[k]), 0.05 * range);
  EXPECT_NE(r1.details.find("conv_s8="), std::string::npos) << r1.details;
  EXPECT_EQ(r1.details.find("ref_int8"), std::string::npos) << r1.details;
  EXPECT_EQ(r1.details.find("reference"), std::string::npos) << r1.details;
  ::testing::Test::RecordProperty("details", r1.details);
  std::printf("int8 yolo-like t@96x64: mean |d| %.4g worst %.4g range %.4g\n%s\n", mean, worst,
              range, r1.details.c_str());
}

TEST(OneDnnQdq, Fp32ModelsAreUnchanged) {
  std::string f = Model(
      5, 9, 7, [&](OnnxBuilder& b, const std::string& x) { return Silu(b, Conv(b, x, 5, 13, 3)); });
  CompareResult r = CompareWithReference(f, 2);
  EXPECT_LE(r.max_err, 1e-4);
  EXPECT_EQ(r.details.find("conv_s8"), std::string::npos) << r.details;
}

// ---- Load-time errors -------------------------------------------------------------------

// images -> Q -> DQ -> Conv(DQ(Wq)) -> output; `mutate` edits the proto before loading.
std::string BadModel(const std::function<void(onnx::GraphProto&)>& mutate) {
  std::string q = Quantized(
      Model(3, 5, 5, [&](OnnxBuilder& b, const std::string& x) { return Conv(b, x, 3, 4, 3); }));
  onnx::ModelProto m;
  m.ParseFromString(q);
  mutate(*m.mutable_graph());
  return m.SerializeAsString();
}

onnx::NodeProto& NodeOp(onnx::GraphProto& g, const std::string& op, int nth = 0) {
  for (auto& n : *g.mutable_node())
    if (n.op_type() == op && nth-- == 0) return n;
  return *g.mutable_node(0);
}

onnx::TensorProto& InitNamed(onnx::GraphProto& g, const std::string& name) {
  for (auto& t : *g.mutable_initializer())
    if (t.name() == name) return t;
  return *g.mutable_initializer(0);
}

Status LoadAndOptimize(const std::string& bytes) {
  auto g = LoadOnnxGraph(bytes, "bad.onnx");
  if (!g.ok()) return g.status();
  return OptimizeGraph(&*g);
}

void ExpectError(const std::string& bytes, const std::string& node, const std::string& what) {
  Status st = LoadAndOptimize(bytes);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.ToString().find("node '" + node), std::string::npos) << st.ToString();
  EXPECT_NE(st.ToString().find(what), std::string::npos) << st.ToString();
}

TEST(OneDnnQdqErrors, ValidModelLoads) {
  EXPECT_TRUE(LoadAndOptimize(BadModel([](onnx::GraphProto&) {})).ok());
}

TEST(OneDnnQdqErrors, MissingScale) {
  ExpectError(BadModel([](onnx::GraphProto& g) {
                auto& q = NodeOp(g, "QuantizeLinear");
                q.mutable_input()->DeleteSubrange(1, 2);
              }),
              "images_", "missing scale");
}

TEST(OneDnnQdqErrors, NonConstantScale) {
  ExpectError(BadModel([](onnx::GraphProto& g) {
                // The scale computed at run time: one element of the input, as shape [1].
                auto ints = [&](const std::string& name, std::vector<int64_t> v) {
                  auto* s = g.add_initializer();
                  s->set_name(name);
                  s->set_data_type(onnx::TensorProto::INT64);
                  s->add_dims(static_cast<int64_t>(v.size()));
                  s->set_raw_data(std::string(reinterpret_cast<char*>(v.data()), 8 * v.size()));
                };
                ints("st", {0, 0, 0, 0});
                ints("en", {1, 1, 1, 1});
                ints("scalar", {});
                auto* sl = g.add_node();
                sl->set_op_type("Slice");
                sl->set_name("dyn_slice");
                *sl->add_input() = "images";
                *sl->add_input() = "st";
                *sl->add_input() = "en";
                *sl->add_output() = "dyn_1111";
                auto* r = g.add_node();
                r->set_op_type("Reshape");
                r->set_name("dyn");
                *r->add_input() = "dyn_1111";
                *r->add_input() = "scalar";
                *r->add_output() = "dyn_scale";
                NodeOp(g, "DequantizeLinear", 1).set_input(1, "dyn_scale");
              }),
              "images_DQ", "not a constant");
}

TEST(OneDnnQdqErrors, NonPositiveOrNanScale) {
  for (float bad : {0.f, -1.f, std::nanf("")}) {
    ExpectError(BadModel([&](onnx::GraphProto& g) {
                  InitNamed(g, "images_scale")
                      .set_raw_data(std::string(reinterpret_cast<const char*>(&bad), sizeof(bad)));
                }),
                "images_", "positive and finite");
  }
}

TEST(OneDnnQdqErrors, ScaleLengthNotChannels) {
  ExpectError(BadModel([](onnx::GraphProto& g) {
                auto& d = NodeOp(g, "DequantizeLinear");  // the weight's
                const std::string sc = d.input(1), zp = d.input(2);
                std::vector<float> three(3, 0.01f);
                auto& t = InitNamed(g, sc);
                t.set_dims(0, 3);
                t.set_raw_data(std::string(reinterpret_cast<const char*>(three.data()), 12));
                InitNamed(g, zp).set_dims(0, 3);
                InitNamed(g, zp).set_raw_data(std::string(3, '\0'));
              }),
              "w_", "scale has 3 values");
}

TEST(OneDnnQdqErrors, NonZeroActivationZeroPoint) {
  ExpectError(BadModel([](onnx::GraphProto& g) {
                InitNamed(g, "images_zp").set_raw_data(std::string(1, '\x05'));
              }),
              "images_", "zero point");
}

TEST(OneDnnQdqErrors, Uint8QuantizationIsRejected) {
  ExpectError(BadModel([](onnx::GraphProto& g) {
                InitNamed(g, "images_zp").set_data_type(onnx::TensorProto::UINT8);
              }),
              "images_", "re-quantize with vqi model quantize");
  ExpectError(BadModel([](onnx::GraphProto& g) {
                auto& q = NodeOp(g, "QuantizeLinear");
                q.mutable_input()->DeleteSubrange(2, 1);
              }),
              "images_", "uint8");
}

TEST(OneDnnQdqErrors, DequantizeOfNonInt8) {
  ExpectError(BadModel([](onnx::GraphProto& g) {
                auto& d = NodeOp(g, "DequantizeLinear");  // weights: int8 -> int32
                auto& t = InitNamed(g, d.input(0));
                std::string raw = t.raw_data();
                std::string wide;
                for (char c : raw) {
                  int32_t v = static_cast<int8_t>(c);
                  wide.append(reinterpret_cast<const char*>(&v), 4);
                }
                t.set_data_type(onnx::TensorProto::INT32);
                t.set_raw_data(wide);
              }),
              "w_", "not int8");
  ExpectError(BadModel([](onnx::GraphProto& g) {
                NodeOp(g, "DequantizeLinear", 1).set_input(0, "images");  // float input
              }),
              "images_DQ", "not int8");
}

TEST(OneDnnQdqErrors, QuantizeWithoutDequantize) {
  ExpectError(BadModel([](onnx::GraphProto& g) {
                NodeOp(g, "Conv").set_input(0, "images_q");  // conv reads the int8 values
              }),
              "images_Q", "DequantizeLinear");
}

}  // namespace
}  // namespace vqi::infer::onednn
