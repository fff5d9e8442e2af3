// Files whose input or output is declared float64, or whose output is int64 (common in
// third-party exports; ONNX Runtime runs them): accepted, converted at the boundary (Run takes
// and returns float32), and equal to the reference interpreter. Integers at run time anywhere
// else stay a clear error naming the node.
#include <onnx/onnx_pb.h>

#include <filesystem>

#include "test_util.h"
#include "testing/yolo_like.h"
#include "vqi/base/file.h"
#include "vqi/infer/model_file.h"
#include "vqi/infer/onednn.h"

namespace vqi::infer::onednn {
namespace {

using testing::OnnxBuilder;

void Declare(OnnxBuilder& b, bool input, int elem_type) {
  auto* g = b.model().mutable_graph();
  auto* vi = input ? g->mutable_input(0) : g->mutable_output(0);
  vi->mutable_type()->mutable_tensor_type()->set_elem_type(elem_type);
}

// images (declared float64) -> Cast(float) -> Conv -> Mul(7) -> Cast(`to`) = output.
std::string Model(int64_t to, int out_type) {
  OnnxBuilder b;
  std::string x = b.Input("images", {1, 3, 9, 7});
  std::string f = b.Op1("Cast", {x});
  b.AttrInt("to", onnx::TensorProto::FLOAT);
  std::string y = b.Op1("Conv", {f, b.Rand({5, 3, 3, 3}, 1), b.Rand({5}, 1)});
  b.AttrInts({1, 1, 1, 1}, "pads");
  y = b.Op1("Mul", {y, b.Init({}, {7.f})});
  std::string o = b.Op1("Cast", {y});
  b.AttrInt("to", to);
  b.Output(o);
  Declare(b, true, onnx::TensorProto::DOUBLE);
  Declare(b, false, out_type);
  return b.Serialize();
}

TEST(OneDnnBoundaryTypes, Float64InputAndOutput) {
  for (int threads : {1, 2}) {
    CompareResult r =
        CompareWithReference(Model(onnx::TensorProto::DOUBLE, onnx::TensorProto::DOUBLE), threads);
    EXPECT_GT(r.n, 0u);
    EXPECT_LE(r.max_err, 1e-4) << r.details;
  }
}

TEST(OneDnnBoundaryTypes, Int64OutputTruncatesLikeOnnxRuntime) {
  const std::string bytes = Model(onnx::TensorProto::INT64, onnx::TensorProto::INT64);
  auto g = LoadOnnxGraph(bytes, "int64.onnx");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  std::vector<float> in = testing::RandomVector(3 * 9 * 7, 5), want, scaled;
  ASSERT_TRUE(RefRun(*g, in.data(), &want).ok());
  // The reference truncates toward zero: every value integral, and not all zero.
  bool nonzero = false;
  for (float v : want) {
    ASSERT_EQ(v, std::trunc(v));
    nonzero = nonzero || v != 0;
  }
  EXPECT_TRUE(nonzero);
  for (int threads : {1, 2}) {
    Graph opt = *g;
    ASSERT_TRUE(OptimizeGraph(&opt).ok());
    auto m = Compile(std::move(opt), {.threads = threads});
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    std::vector<float> got(want.size());
    ASSERT_TRUE((*m)->Run(in.data(), got.data()).ok());
    // Exact except where the float result sits within rounding of an integer boundary.
    size_t differ = 0;
    for (size_t k = 0; k < got.size(); ++k) differ += got[k] != want[k];
    EXPECT_LE(differ, got.size() / 100) << "threads " << threads;
  }
}

TEST(OneDnnBoundaryTypes, BackendOpensFloat64File) {
  model::ModelConfig cfg;
  cfg.input_w = 64;
  cfg.input_h = 64;
  auto bytes = testing::BuildYoloLikeOnnx(cfg);
  ASSERT_TRUE(bytes.ok());
  onnx::ModelProto m;
  ASSERT_TRUE(m.ParseFromString(*bytes));
  // The same detector, declared float64 at both ends with casts at the boundary.
  auto* g = m.mutable_graph();
  const std::string in = g->input(0).name(), out = g->output(0).name();
  for (auto& n : *g->mutable_node())
    for (auto& i : *n.mutable_input())
      if (i == in) i = in + "_f32";
  auto* c_in = g->add_node();
  c_in->set_op_type("Cast");
  c_in->set_name("cast_in");
  c_in->add_input(in);
  c_in->add_output(in + "_f32");
  auto* a = c_in->add_attribute();
  a->set_name("to");
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(onnx::TensorProto::FLOAT);
  auto* c_out = g->add_node();
  c_out->CopyFrom(*c_in);
  c_out->set_name("cast_out");
  c_out->set_input(0, out);
  c_out->set_output(0, out + "_f64");
  c_out->mutable_attribute(0)->set_i(onnx::TensorProto::DOUBLE);
  g->mutable_input(0)->mutable_type()->mutable_tensor_type()->set_elem_type(
      onnx::TensorProto::DOUBLE);
  g->mutable_output(0)->set_name(out + "_f64");
  g->mutable_output(0)->mutable_type()->mutable_tensor_type()->set_elem_type(
      onnx::TensorProto::DOUBLE);
  auto b64 = OpenOnednnBackend(m, "f64.onnx", {.threads = 1});
  ASSERT_TRUE(b64.ok()) << b64.status().ToString();
  // The inference core's contract check lets the same file through to the backend (the path
  // `vqi model predict` takes), and names what it does not accept.
  RegisterOnednnBackend();
  auto core = ParseOnnxModel(m.SerializeAsString(), "f64.onnx");
  ASSERT_TRUE(core.ok()) << core.status().ToString();
  auto via_core = OpenBackend("onednn", *core, {.threads = 1});
  ASSERT_TRUE(via_core.ok()) << via_core.status().ToString();
  g->mutable_output(0)->mutable_type()->mutable_tensor_type()->set_elem_type(
      onnx::TensorProto::UINT8);
  auto u8 = ParseOnnxModel(m.SerializeAsString(), "u8out.onnx");
  ASSERT_FALSE(u8.ok());
  EXPECT_NE(u8.status().message().find("u8out.onnx: output '" + out + "_f64' is UINT8; accepted: "
                                       "float32, float64, int64"),
            std::string::npos)
      << u8.status().ToString();
  g->mutable_output(0)->mutable_type()->mutable_tensor_type()->set_elem_type(
      onnx::TensorProto::DOUBLE);
  auto path = std::filesystem::temp_directory_path() / "vqi_onednn_f32.onnx";
  ASSERT_TRUE(WriteFileAtomic(path.string(), *bytes).ok());
  auto b32 = OpenOnednnBackend(path.string(), {.threads = 1});
  ASSERT_TRUE(b32.ok()) << b32.status().ToString();
  ASSERT_EQ((*b64)->Info().output_shape, (*b32)->Info().output_shape);
  std::vector<float> x = testing::RandomVector(3 * 64 * 64, 2);
  std::vector<float> o64(NumElements((*b32)->Info().output_shape)), o32(o64.size());
  ASSERT_TRUE((*b64)->Run(x.data(), o64.data()).ok());
  ASSERT_TRUE((*b32)->Run(x.data(), o32.data()).ok());
  EXPECT_EQ(o64, o32);
}

TEST(OneDnnBoundaryTypes, RuntimeIntegersInsideTheGraphStayAnError) {
  OnnxBuilder b;
  std::string x = b.Input("images", {1, 3, 4, 4});
  std::string i = b.Op1("Cast", {x});
  b.AttrInt("to", onnx::TensorProto::INT64);
  std::string s = b.Op1("Add", {i, i});
  b.Output(s);
  auto g = LoadOnnxGraph(b.Serialize(), "ints.onnx");
  ASSERT_TRUE(g.ok());
  ASSERT_TRUE(OptimizeGraph(&*g).ok());
  auto m = Compile(std::move(*g), {.threads = 1});
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(m.status().message().find("produces integer data at run time"), std::string::npos)
      << m.status().ToString();
}

TEST(OneDnnBoundaryTypes, OtherInputTypesAreRefusedWithTheAcceptedOnes) {
  OnnxBuilder b;
  std::string x = b.Input("images", {1, 3, 4, 4});
  b.Output(b.Op1("Relu", {x}));
  Declare(b, true, onnx::TensorProto::UINT8);
  auto g = LoadOnnxGraph(b.Serialize(), "u8.onnx");
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("accepted: float32, float64"), std::string::npos)
      << g.status().ToString();
}

}  // namespace
}  // namespace vqi::infer::onednn
