// Each fusion: the rewrite happens (checked on the optimized graph) and the fused program
// matches the unfused reference.
#include <functional>

#include "test_util.h"
#include "testing/yolo_like.h"

namespace vqi::infer::onednn {
namespace {

using testing::OnnxBuilder;

std::string Build(const std::function<std::string(OnnxBuilder&, const std::string&)>& body,
                  int64_t channels = 5) {
  OnnxBuilder b(13, 5);
  std::string x = b.Input("images", {1, channels, 9, 7});
  b.Output(body(b, x));
  return b.Serialize();
}

std::string Conv(OnnxBuilder& b, const std::string& x, int64_t cin, int64_t cout) {
  std::string y = b.Op1("Conv", {x, b.Rand({cout, cin, 3, 3}, 0.4f), b.Rand({cout}, 0.2f)});
  b.AttrInts({1, 1, 1, 1}, "pads");
  return y;
}

Graph Optimized(const std::string& bytes) {
  auto g = LoadOnnxGraph(bytes, "t");
  EXPECT_TRUE(g.ok()) << g.status().ToString();
  Status st = OptimizeGraph(&*g);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return *g;
}

int Live(const Graph& g, const std::string& op) {
  int n = 0;
  for (const Node& x : g.nodes) n += !x.dead && x.op == op;
  return n;
}

const Node* FirstConv(const Graph& g) {
  for (const Node& x : g.nodes)
    if (!x.dead && x.op == "Conv") return &x;
  return nullptr;
}

// The C2f concat after a fold: one live Concat whose first input is the whole (34-channel)
// tensor the split or slices cut, plus the bottleneck's output.
void ExpectConcatReadsWholeInput(const Graph& g) {
  const Node* cat = nullptr;
  for (const Node& n : g.nodes)
    if (!n.dead && n.op == "Concat") cat = &n;
  ASSERT_NE(cat, nullptr);
  ASSERT_EQ(cat->in.size(), 2u);
  EXPECT_EQ(g.tensors[cat->in[0]].shape[1], 34);
}

void ExpectNumericallyEqual(const std::string& bytes) {
  for (int threads : {1, 2}) {
    CompareResult r = CompareWithReference(bytes, threads);
    EXPECT_GT(r.n, 0u);
    EXPECT_LE(r.max_err, 1e-4) << r.details;
  }
}

TEST(OneDnnFusion, ConvActivationsBecomePostOps) {
  for (const char* act : {"Relu", "LeakyRelu", "Sigmoid", "HardSwish", "Clip"}) {
    SCOPED_TRACE(act);
    std::string bytes = Build([&](OnnxBuilder& b, const std::string& x) {
      std::string y = Conv(b, x, 5, 19);
      if (std::string(act) == "Clip") return b.Op1(act, {y, b.Init({}, {0.f}), b.Init({}, {6.f})});
      std::string z = b.Op1(act, {y});
      if (std::string(act) == "LeakyRelu") b.AttrFloat("alpha", 0.1f);
      return z;
    });
    Graph g = Optimized(bytes);
    EXPECT_EQ(Live(g, act), 0);
    ASSERT_NE(FirstConv(g), nullptr);
    ASSERT_EQ(FirstConv(g)->post.size(), 1u);
    EXPECT_EQ(FirstConv(g)->post[0].act, act);
    ExpectNumericallyEqual(bytes);
  }
}

TEST(OneDnnFusion, SiluPatternBecomesSwish) {
  std::string bytes = Build([](OnnxBuilder& b, const std::string& x) {
    std::string y = Conv(b, x, 5, 21);
    std::string s = b.Op1("Sigmoid", {y});
    std::string z = b.Op1("Mul", {s, y});  // operand order of some exporters
    std::string w = Conv(b, z, 21, 7);
    return b.Op1("Mul", {w, b.Op1("Sigmoid", {w})});
  });
  Graph g = Optimized(bytes);
  EXPECT_EQ(Live(g, "Sigmoid"), 0);
  EXPECT_EQ(Live(g, "Mul"), 0);
  EXPECT_EQ(FirstConv(g)->post.at(0).act, "Swish");
  ExpectNumericallyEqual(bytes);
}

TEST(OneDnnFusion, SigmoidUsedElsewhereIsNotFused) {
  std::string bytes = Build([](OnnxBuilder& b, const std::string& x) {
    std::string y = Conv(b, x, 5, 6);
    std::string s = b.Op1("Sigmoid", {y});
    std::string z = b.Op1("Mul", {y, s});
    return b.Op1("Add", {z, s});
  });
  Graph g = Optimized(bytes);
  EXPECT_EQ(Live(g, "Sigmoid"), 1);
  ExpectNumericallyEqual(bytes);
}

TEST(OneDnnFusion, ResidualAddBecomesBinaryPostOp) {
  std::string bytes = Build([](OnnxBuilder& b, const std::string& x) {
    std::string a = Conv(b, x, 5, 17);
    a = b.Op1("Mul", {a, b.Op1("Sigmoid", {a})});
    std::string c = Conv(b, a, 17, 17);
    c = b.Op1("Mul", {c, b.Op1("Sigmoid", {c})});
    std::string r = b.Op1("Add", {a, c});  // residual on the left, as in C2f
    return b.Op1("Relu", {r});
  });
  Graph g = Optimized(bytes);
  EXPECT_EQ(Live(g, "Add"), 0);
  EXPECT_EQ(Live(g, "Relu"), 0);
  int with_add = 0;
  for (const Node& n : g.nodes)
    if (!n.dead && n.op == "Conv" && n.post.size() == 3) {
      EXPECT_EQ(n.post[0].act, "Swish");
      EXPECT_EQ(n.post[1].kind, PostOp::kAdd);
      EXPECT_EQ(n.post[2].act, "Relu");
      ++with_add;
    }
  EXPECT_EQ(with_add, 1);
  ExpectNumericallyEqual(bytes);
}

TEST(OneDnnFusion, BatchNormFoldsIntoConv) {
  std::string bytes = Build([](OnnxBuilder& b, const std::string& x) {
    std::string y = b.Op1("Conv", {x, b.Rand({7, 5, 3, 3}, 0.4f)});
    std::string bn =
        b.Op1("BatchNormalization", {y, b.Rand({7}, 1.f), b.Rand({7}, 0.5f), b.Rand({7}, 0.5f),
                                     b.Init({7}, {0.5f, 1, 2, 0.25f, 1.5f, 1, 3})});
    b.AttrFloat("epsilon", 1e-3f);
    return b.Op1("Relu", {bn});
  });
  Graph g = Optimized(bytes);
  EXPECT_EQ(Live(g, "BatchNormalization"), 0);
  EXPECT_EQ(FirstConv(g)->post.size(), 1u);
  ExpectNumericallyEqual(bytes);
}

TEST(OneDnnFusion, InPlaceConcatOfSplitHalvesAsInC2f) {
  // cv1 -> Split -> bottleneck -> Concat [y0, y1, m] -> cv2: the concat needs no copies.
  std::string bytes = Build(
      [](OnnxBuilder& b, const std::string& x) {
        std::string y = Conv(b, x, 3, 32);
        auto p = b.Op("Split", {y, b.Ints({16, 16})}, 2);
        b.AttrInt("axis", 1);
        std::string m = b.Op1("Add", {p[1], Conv(b, p[1], 16, 16)});
        std::string c = b.Op1("Concat", {p[0], p[1], m});
        b.AttrInt("axis", 1);
        return Conv(b, c, 48, 3);
      },
      3);
  CompareResult r = CompareWithReference(bytes, 2);
  EXPECT_LE(r.max_err, 1e-4);
  // Three convolutions and the final reorder to the plain output; no concat, no copies.
  EXPECT_NE(r.details.find("steps=4"), std::string::npos) << r.details;
  EXPECT_EQ(r.details.find("concat="), std::string::npos) << r.details;
}

TEST(OneDnnFusion, ConcatOfAllSplitPartsReadsTheSplitInput) {
  // nhwc (17 channels): Concat [y0, y1, m] reads y whole and y0 is never copied out.
  std::string bytes = Build(
      [](OnnxBuilder& b, const std::string& x) {
        std::string y = Conv(b, x, 5, 34);
        auto p = b.Op("Split", {y, b.Ints({17, 17})}, 2);
        b.AttrInt("axis", 1);
        std::string m = b.Op1("Add", {p[1], Conv(b, p[1], 17, 17)});
        std::string c = b.Op1("Concat", {p[0], p[1], m});
        b.AttrInt("axis", 1);
        return Conv(b, c, 51, 3);
      },
      5);
  Graph g = Optimized(bytes);
  ExpectConcatReadsWholeInput(g);
  if (HasFatalFailure()) return;
  ExpectNumericallyEqual(bytes);
  CompareResult r = CompareWithReference(bytes, 2);
  // The split: one strided copy (the part the bottleneck reads), not two.
  EXPECT_NE(r.details.find("layout=nhwc"), std::string::npos) << r.details;
  EXPECT_NE(r.details.find("steps=7 "), std::string::npos) << r.details;
}

TEST(OneDnnFusion, ConcatOfSlicesCoveringTheInputReadsIt) {
  // Our exporter's C2f cuts cv1's output with two Slices (not a Split): the same fold applies.
  std::string bytes = Build(
      [](OnnxBuilder& b, const std::string& x) {
        std::string y = Conv(b, x, 5, 34);
        std::string a = b.Op1("Slice", {y, b.Ints({0}), b.Ints({17}), b.Ints({1})});
        std::string c = b.Op1("Slice", {y, b.Ints({17}), b.Ints({34}), b.Ints({1})});
        std::string m = b.Op1("Add", {c, Conv(b, c, 17, 17)});
        std::string cat = b.Op1("Concat", {a, c, m});
        b.AttrInt("axis", 1);
        return Conv(b, cat, 51, 3);
      },
      5);
  Graph g = Optimized(bytes);
  EXPECT_EQ(Live(g, "Slice"), 1);  // the first half is read by nobody now
  ExpectConcatReadsWholeInput(g);
  if (HasFatalFailure()) return;
  ExpectNumericallyEqual(bytes);
  CompareResult r = CompareWithReference(bytes, 2);
  EXPECT_LE(r.max_err, 1e-4);
  EXPECT_NE(r.details.find("steps=7 "), std::string::npos) << r.details;
}

TEST(OneDnnFusion, SlicesThatDoNotCoverTheInputStay) {
  // A gap (channels 16..17 missing), out of order, or a step of 2: the concat keeps its parts.
  for (int variant = 0; variant < 3; ++variant) {
    std::string bytes = Build(
        [variant](OnnxBuilder& b, const std::string& x) {
          std::string y = Conv(b, x, 5, 34);
          std::string a =
              variant == 2
                  ? b.Op1("Slice", {y, b.Ints({0}), b.Ints({34}), b.Ints({1}), b.Ints({2})})
                  : b.Op1("Slice", {y, b.Ints({0}), b.Ints({variant == 0 ? 16 : 17}), b.Ints({1})});
          std::string c = b.Op1("Slice", {y, b.Ints({17}), b.Ints({34}), b.Ints({1})});
          std::string cat = variant == 1 ? b.Op1("Concat", {c, a}) : b.Op1("Concat", {a, c});
          b.AttrInt("axis", 1);
          return cat;
        },
        5);
    Graph g = Optimized(bytes);
    EXPECT_EQ(Live(g, "Slice"), 2) << variant;
    CompareResult r = CompareWithReference(bytes, 2);
    EXPECT_LE(r.max_err, 1e-4) << variant;
  }
}

model::ModelConfig TinyYolo(int nc) {
  model::ModelConfig cfg;
  cfg.scale = "t";
  cfg.input_w = 96;
  cfg.input_h = 64;
  cfg.class_names.clear();
  for (int k = 0; k < nc; ++k) cfg.class_names.push_back("c" + std::to_string(k));
  return cfg;
}

TEST(OneDnnFusion, DetectHeadBecomesOneDecodeStep) {
  // Ultralytics' form (testing::BuildYoloLikeOnnx: 3-D, Split, Div by 2), 1 and 3 classes,
  // nhwc (t) and nChw16c (n, block 16) branch layouts, 1 and 2 threads.
  for (const char* scale : {"t", "n"}) {
    for (int nc : {1, 3}) {
      model::ModelConfig cfg = TinyYolo(nc);
      cfg.scale = scale;
      auto bytes = testing::BuildYoloLikeOnnx(cfg, 7, 13);
      ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
      Graph g = Optimized(*bytes);
      EXPECT_EQ(Live(g, "VqiDetectDecode"), 1);
      for (const char* op : {"Softmax", "Transpose", "Sigmoid", "Sub", "Div"})
        EXPECT_EQ(Live(g, op), 0) << op;
      EXPECT_EQ(Live(g, "Concat"), 13);  // the C2f/SPPF/neck concats only
      EXPECT_EQ(Live(g, "Split"), 8);    // the C2f splits only
      for (int threads : {1, 2}) {
        CompareResult r = CompareWithReference(*bytes, threads);
        EXPECT_EQ(r.n, static_cast<size_t>((4 + nc) * model::NumAnchors(cfg)));
        EXPECT_LE(r.max_err, 1e-4) << scale << " nc=" << nc << " " << r.details;
        EXPECT_NE(r.details.find("decode=vqi:detect_decodex1"), std::string::npos) << r.details;
      }
    }
  }
}

TEST(OneDnnFusion, DetectDecodeHandlesExtremeLogits) {
  // Large inputs saturate the class sigmoid and make the DFL softmax one-hot: still within
  // the reference's rounding (the fused sigmoid goes through e^-|x|, never overflows).
  auto bytes = testing::BuildYoloLikeOnnx(TinyYolo(2), 11, 13);
  ASSERT_TRUE(bytes.ok());
  auto g = LoadOnnxGraph(*bytes, "t");
  ASSERT_TRUE(g.ok());
  std::vector<float> input = testing::RandomVector(NumElements(g->tensors[g->input].shape), 5);
  for (float& v : input) v *= 60.f;
  std::vector<float> expected;
  ASSERT_TRUE(RefRun(*g, input.data(), &expected).ok());
  Graph opt = *g;
  ASSERT_TRUE(OptimizeGraph(&opt).ok());
  ASSERT_EQ(Live(opt, "VqiDetectDecode"), 1);
  auto m = Compile(std::move(opt), {.threads = 2});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  std::vector<float> got(expected.size());
  ASSERT_TRUE((*m)->Run(input.data(), got.data()).ok());
  for (size_t k = 0; k < got.size(); ++k)
    ASSERT_NEAR(got[k], expected[k], 1e-4 * std::max(1.f, std::fabs(expected[k]))) << k;
}

TEST(OneDnnFusion, DetectHeadStaysUnfusedWhenSemanticsDiffer) {
  // Opset 11: Softmax(axis=1) flattens the axes after it, not what the fused kernel computes.
  auto bytes = testing::BuildYoloLikeOnnx(TinyYolo(1), 7, 11);
  ASSERT_TRUE(bytes.ok());
  Graph g = Optimized(*bytes);
  EXPECT_EQ(Live(g, "VqiDetectDecode"), 0);
  EXPECT_EQ(Live(g, "Softmax"), 1);
  CompareResult r = CompareWithReference(*bytes, 2);
  EXPECT_LE(r.max_err, 1e-4) << r.details;
  // An intermediate tensor that is also read elsewhere (here a second output path would need
  // it): the graph keeps the unfused head. Built by reading the DFL softmax from a Concat
  // with the final output.
  auto base = LoadOnnxGraph(*testing::BuildYoloLikeOnnx(TinyYolo(1), 7, 13), "t");
  ASSERT_TRUE(base.ok());
  Graph h = *base;
  ASSERT_TRUE(InferAndFold(&h).ok());
  int sm = -1;
  for (const Node& n : h.nodes)
    if (n.op == "Softmax") sm = n.out[0];
  ASSERT_GE(sm, 0);
  Node extra;
  extra.name = "extra_reader";
  extra.op = "Relu";
  extra.in = {sm};
  Tensor t;
  t.name = "extra_out";
  t.shape = h.tensors[sm].shape;
  t.shape_known = true;
  extra.out = {h.AddTensor(t)};
  h.nodes.push_back(extra);
  h.tensors[extra.out[0]].producer = static_cast<int>(h.nodes.size()) - 1;
  Graph before = h;
  FuseDetectDecode(&h);
  EXPECT_EQ(Live(h, "VqiDetectDecode"), 0);
  EXPECT_EQ(Live(h, "Softmax"), 1);
  // Without the extra reader the same graph fuses (the check above is what stopped it).
  before.nodes.back().dead = true;
  FuseDetectDecode(&before);
  EXPECT_EQ(Live(before, "VqiDetectDecode"), 1);
}

}  // namespace
}  // namespace vqi::infer::onednn
