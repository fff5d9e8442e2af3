// Each operator against the naive reference, on small seeded shapes with odd sizes and
// channel counts that are not multiples of 8 or 16 (ggml test-backend-ops style).
#include <omp.h>

#include <functional>
#include <limits>

#include "softmax_strided.h"
#include "test_util.h"

namespace vqi::infer::onednn {
namespace {

using testing::OnnxBuilder;
constexpr double kTol = 1e-4;

// Builds input [1,c,h,w]; when `blocked`, first a 1x1 conv so the op sees oneDNN's blocked
// layout; `body` adds the op(s) and returns the output name.
std::string Model(int64_t c, int64_t h, int64_t w, bool blocked,
                  const std::function<std::string(OnnxBuilder&, const std::string&)>& body,
                  int64_t opset = 13) {
  OnnxBuilder b(opset, 11);
  std::string x = b.Input("images", {1, c, h, w});
  if (blocked) {
    x = b.Op1("Conv", {x, b.Rand({c, c, 1, 1}, 0.5f), b.Rand({c}, 0.1f)});
  }
  b.Output(body(b, x));
  return b.Serialize();
}

void Check(const std::string& bytes, double tol = kTol) {
  for (int threads : {1, 2}) {
    CompareResult r = CompareWithReference(bytes, threads);
    EXPECT_GT(r.n, 0u);
    EXPECT_LE(r.max_err, tol) << "threads=" << threads << " " << r.details;
  }
}

struct ConvCase {
  int64_t cin, cout, h, w, k, s, pad, group, dil;
  bool bias;
};

TEST(OneDnnOps, ConvOddShapes) {
  const ConvCase cases[] = {
      {3, 5, 13, 11, 3, 2, 1, 1, 1, true},  {5, 19, 9, 7, 3, 1, 1, 1, 1, false},
      {17, 7, 8, 9, 1, 1, 0, 1, 1, true},   {33, 18, 7, 5, 5, 1, 2, 1, 1, true},
      {24, 24, 9, 9, 3, 2, 1, 24, 1, true}, {12, 6, 11, 10, 3, 1, 2, 3, 2, true},
      {20, 13, 6, 6, 2, 2, 0, 1, 1, true},
  };
  for (bool blocked : {false, true})
    for (const ConvCase& c : cases) {
      SCOPED_TRACE("cin=" + std::to_string(c.cin) + " cout=" + std::to_string(c.cout) +
                   " k=" + std::to_string(c.k) + " g=" + std::to_string(c.group) +
                   " blocked=" + std::to_string(blocked));
      Check(Model(c.cin, c.h, c.w, blocked, [&](OnnxBuilder& b, const std::string& x) {
        std::vector<std::string> in = {x, b.Rand({c.cout, c.cin / c.group, c.k, c.k}, 0.3f)};
        if (c.bias) in.push_back(b.Rand({c.cout}, 0.2f));
        std::string y = b.Op1("Conv", in);
        b.AttrInts({c.s, c.s}, "strides").AttrInts({c.pad, c.pad, c.pad, c.pad}, "pads");
        b.AttrInt("group", c.group).AttrInts({c.dil, c.dil}, "dilations");
        return y;
      }));
    }
}

TEST(OneDnnOps, ConvAsymmetricPadsAndAutoPad) {
  Check(Model(6, 10, 9, true, [](OnnxBuilder& b, const std::string& x) {
    std::string y = b.Op1("Conv", {x, b.Rand({7, 6, 3, 3}, 0.3f)});
    b.AttrInts({0, 1, 2, 1}, "pads").AttrInts({2, 2}, "strides");
    std::string z = b.Op1("Conv", {y, b.Rand({5, 7, 3, 3}, 0.3f)});
    b.AttrStr("auto_pad", "SAME_UPPER").AttrInts({2, 2}, "strides");
    return z;
  }));
}

TEST(OneDnnOps, MaxPool) {
  for (bool blocked : {false, true}) {
    Check(Model(7, 13, 12, blocked, [](OnnxBuilder& b, const std::string& x) {
      std::string y = b.Op1("MaxPool", {x});
      b.AttrInts({3, 3}, "kernel_shape").AttrInts({2, 2}, "strides").AttrInts({1, 1, 1, 1}, "pads");
      return y;
    }));
    Check(Model(5, 11, 9, blocked, [](OnnxBuilder& b, const std::string& x) {
      std::string y = b.Op1("MaxPool", {x});
      b.AttrInts({5, 5}, "kernel_shape").AttrInts({1, 1}, "strides").AttrInts({2, 2, 2, 2}, "pads");
      return y;
    }));
    Check(Model(3, 10, 7, blocked, [](OnnxBuilder& b, const std::string& x) {
      std::string y = b.Op1("MaxPool", {x});
      b.AttrInts({2, 2}, "kernel_shape").AttrInts({2, 2}, "strides").AttrInt("ceil_mode", 1);
      return y;
    }));
  }
}

TEST(OneDnnOps, ResizeNearest) {
  for (bool blocked : {false, true})
    for (const char* mode : {"asymmetric", "half_pixel"}) {
      Check(Model(6, 5, 7, blocked, [&](OnnxBuilder& b, const std::string& x) {
        std::string y = b.Op1("Resize", {x, b.Init({0}, {}), b.Init({4}, {1.f, 1.f, 2.f, 2.f})});
        b.AttrStr("mode", "nearest").AttrStr("coordinate_transformation_mode", mode);
        if (std::string(mode) == "asymmetric") b.AttrStr("nearest_mode", "floor");
        return y;
      }));
    }
  // Non-integer factor via `sizes` (runs on the reference fallback).
  Check(Model(3, 4, 6, true, [](OnnxBuilder& b, const std::string& x) {
    std::string sizes = b.Ints({1, 3, 6, 9});
    return b.Op1("Resize", {x, b.Init({0}, {}), b.Init({0}, {}), sizes});
  }));
}

TEST(OneDnnOps, ConcatAxes) {
  // Channel concat of blocked tensors: aligned (in place) and unaligned (copy).
  for (int64_t c0 : {16, 5}) {
    Check(Model(3, 7, 9, false, [&](OnnxBuilder& b, const std::string& x) {
      std::string a = b.Op1("Conv", {x, b.Rand({c0, 3, 3, 3}, 0.3f)});
      b.AttrInts({1, 1, 1, 1}, "pads");
      std::string c = b.Op1("Conv", {x, b.Rand({7, 3, 1, 1}, 0.3f)});
      std::string y = b.Op1("Concat", {a, c, a});
      b.AttrInt("axis", 1);
      return y;
    }));
  }
  for (int64_t axis : {0, 2, 3, -1}) {
    Check(Model(5, 3, 4, false, [&](OnnxBuilder& b, const std::string& x) {
      std::string s = b.Op1("Sigmoid", {x});
      std::string y = b.Op1("Concat", {x, s});
      b.AttrInt("axis", axis);
      return y;
    }));
  }
}

TEST(OneDnnOps, SplitAndSlice) {
  for (bool blocked : {false, true}) {
    Check(Model(48, 5, 3, blocked, [](OnnxBuilder& b, const std::string& x) {
      auto p = b.Op("Split", {x, b.Ints({16, 32})}, 2);
      b.AttrInt("axis", 1);
      std::string y = b.Op1("Mul", {p[1], b.Init({}, {3.f})});
      std::string z = b.Op1("Concat", {y, p[0]});
      b.AttrInt("axis", 1);
      return z;
    }));
    Check(Model(13, 5, 3, blocked, [](OnnxBuilder& b, const std::string& x) {
      auto p = b.Op("Split", {x}, 3);  // 5, 5, 3
      b.AttrInt("axis", 1);
      std::string y = b.Op1("Add", {p[0], p[1]});
      std::string z = b.Op1("Concat", {y, p[2]});
      b.AttrInt("axis", 1);
      return z;
    }));
    Check(Model(9, 8, 7, blocked, [](OnnxBuilder& b, const std::string& x) {
      return b.Op1("Slice", {x, b.Ints({1, 1, 6}), b.Ints({8, 7, 0}), b.Ints({1, 2, 3}),
                             b.Ints({2, 2, -2})});
    }));
    Check(Model(9, 8, 7, blocked, [](OnnxBuilder& b, const std::string& x) {
      return b.Op1("Slice", {x, b.Ints({2}), b.Ints({-1}), b.Ints({3})});
    }));
  }
}

TEST(OneDnnOps, BinaryBroadcast) {
  for (const char* op : {"Add", "Sub", "Mul", "Div"})
    for (bool blocked : {false, true}) {
      SCOPED_TRACE(op);
      // Same shape, runtime x runtime.
      Check(Model(5, 4, 7, blocked, [&](OnnxBuilder& b, const std::string& x) {
        std::string s = b.Op1("Sigmoid", {x});
        return b.Op1(op, {x, s});
      }));
      // Per-channel constant on either side, and a scalar.
      Check(Model(5, 4, 7, blocked, [&](OnnxBuilder& b, const std::string& x) {
        std::string y = b.Op1(op, {x, b.Init({5, 1, 1}, {1.5f, 2, -3, 4, 0.5f})});
        y = b.Op1(op, {b.Init({1, 1, 7}, {1, 2, 3, 4, 5, 6, 7}), y});
        return b.Op1(op, {y, b.Init({}, {1.25f})});
      }));
    }
  Check(Model(4, 3, 5, true, [](OnnxBuilder& b, const std::string& x) {
    std::string a = b.Op1("Sigmoid", {x});
    return b.Op1("Pow", {a, b.Init({}, {2.f})});
  }));
}

TEST(OneDnnOps, Activations) {
  for (const char* op :
       {"Sigmoid", "Relu", "LeakyRelu", "HardSwish", "HardSigmoid", "Clip", "Exp", "Neg", "Floor"})
    for (bool blocked : {false, true}) {
      SCOPED_TRACE(op);
      Check(Model(7, 5, 3, blocked, [&](OnnxBuilder& b, const std::string& x) {
        std::string s = std::string(op) == "Clip"
                            ? b.Op1(op, {x, b.Init({}, {-0.3f}), b.Init({}, {0.4f})})
                            : b.Op1(op, {x});
        if (std::string(op) == "LeakyRelu") b.AttrFloat("alpha", 0.2f);
        return s;
      }));
    }
}

TEST(OneDnnOps, SoftmaxTransposeReshape) {
  for (int64_t opset : {11, 13})
    for (int64_t axis : {1, -1}) {
      Check(Model(
          6, 4, 5, true,
          [&](OnnxBuilder& b, const std::string& x) {
            std::string r = b.Op1("Reshape", {x, b.Ints({1, 3, 2, 20})});
            std::string t = b.Op1("Transpose", {r});
            b.AttrInts({0, 2, 1, 3}, "perm");
            std::string s = b.Op1("Softmax", {t});
            b.AttrInt("axis", axis);
            return s;
          },
          opset));
    }
  Check(Model(6, 4, 5, false, [](OnnxBuilder& b, const std::string& x) {
    std::string f = b.Op1("Flatten", {x});
    b.AttrInt("axis", 2);
    std::string u = b.Op1("Unsqueeze", {f, b.Ints({0, 3})});
    std::string q = b.Op1("Squeeze", {u, b.Ints({0})});
    return b.Op1("Transpose", {q});
  }));
}

TEST(OneDnnOps, StridedSoftmaxOverWideRangesAndNaN) {
  // The DFL softmax loop with its own exp: logits over [-100, 100] (exp arguments down to
  // -200, below the -87 clamp), an inner size crossing the 256-column chunk, a NaN column;
  // against double precision, 1 and 2 threads.
  const int64_t outer = 2, len = 16, inner = 300;
  std::vector<float> x(outer * len * inner), y(x.size());
  std::vector<float> r = testing::RandomVector(x.size(), 11);
  for (size_t k = 0; k < x.size(); ++k) x[k] = 100.f * r[k];
  x[(1 * len + 3) * inner + 7] = std::numeric_limits<float>::quiet_NaN();
  for (int threads : {1, 2}) {
    omp_set_num_threads(threads);
    SoftmaxStrided(x.data(), y.data(), outer, len, inner);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        auto at = [&](int64_t k) { return (o * len + k) * inner + i; };
        bool has_nan = false;
        double mx = -1e300, sum = 0;
        for (int64_t k = 0; k < len; ++k) {
          has_nan = has_nan || std::isnan(x[at(k)]);
          mx = std::max(mx, double(x[at(k)]));
        }
        for (int64_t k = 0; k < len; ++k) sum += std::exp(double(x[at(k)]) - mx);
        for (int64_t k = 0; k < len; ++k) {
          if (has_nan) {
            EXPECT_TRUE(std::isnan(y[at(k)])) << o << " " << i;  // as ONNX Runtime: NaN row
            continue;
          }
          // The float difference x - max carries half an ulp of |x - max| into the exponent:
          // relative error up to 6e-8 * |x - max|, plus a few ulp of exp and the division;
          // arguments below -87 give e^-87 (< 1e-37) instead of 0.
          const double arg = double(x[at(k)]) - mx, want = std::exp(arg) / sum;
          ASSERT_NEAR(y[at(k)], want, want * (1e-6 + 6e-8 * std::fabs(arg)) + 1e-30)
              << o << " " << k << " " << i;
        }
      }
  }
  omp_set_num_threads(1);
}

TEST(OneDnnOps, ShapeArithmeticIsFolded) {
  // Reshape target computed from Shape/Gather/Unsqueeze/Concat (older exports).
  Check(Model(6, 4, 5, true, [](OnnxBuilder& b, const std::string& x) {
    std::string sh = b.Op1("Shape", {x});
    std::string n = b.Op1("Gather", {sh, b.Ints({0})});
    b.AttrInt("axis", 0);
    std::string c = b.Op1("Gather", {sh, b.Ints({1})});
    std::string cc = b.Op1("Mul", {c, b.Ints({1})});
    std::string tgt = b.Op1("Concat", {n, cc, b.Ints({-1})});
    b.AttrInt("axis", 0);
    std::string y = b.Op1("Reshape", {x, tgt});
    std::string id = b.Op1("Identity", {y});
    return b.Op1("Cast", {id});
  }));
}

TEST(OneDnnOps, GatherExpandBatchNormOnRuntimeData) {
  Check(Model(6, 4, 5, true, [](OnnxBuilder& b, const std::string& x) {
    std::string g = b.Op1("Gather", {x, b.Ints({4, 0, 2})});
    b.AttrInt("axis", 1);
    std::string bn =
        b.Op1("BatchNormalization", {g, b.Init({3}, {1, 2, 0.5f}), b.Init({3}, {0.1f, 0, -1}),
                                     b.Init({3}, {0.2f, -0.1f, 0}), b.Init({3}, {1, 0.5f, 2})});
    return b.Op1("Expand", {bn, b.Ints({2, 3, 4, 5})});
  }));
}

}  // namespace
}  // namespace vqi::infer::onednn
