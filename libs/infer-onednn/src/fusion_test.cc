// Each fusion: the rewrite happens (checked on the optimized graph) and the fused program
// matches the unfused reference.
#include <functional>

#include "test_util.h"

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
  const Node* cat = nullptr;
  for (const Node& n : g.nodes)
    if (!n.dead && n.op == "Concat") cat = &n;
  ASSERT_NE(cat, nullptr);
  ASSERT_EQ(cat->in.size(), 2u);
  EXPECT_EQ(g.tensors[cat->in[0]].shape[1], 34);
  ExpectNumericallyEqual(bytes);
  CompareResult r = CompareWithReference(bytes, 2);
  // The split: one strided copy (the part the bottleneck reads), not two.
  EXPECT_NE(r.details.find("layout=nhwc"), std::string::npos) << r.details;
  EXPECT_NE(r.details.find("steps=7 "), std::string::npos) << r.details;
}

}  // namespace
}  // namespace vqi::infer::onednn
