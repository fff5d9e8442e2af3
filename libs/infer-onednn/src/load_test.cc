// Bad input: each a clear error naming the file and node/tensor, never a crash.
#include <onnx/onnx_pb.h>

#include <filesystem>

#include "test_util.h"
#include "testing/yolo_like.h"
#include "vqi/base/file.h"
#include "vqi/infer/onednn.h"

namespace vqi::infer::onednn {
namespace {

using testing::OnnxBuilder;

// Load + optimize + compile, as the backend does; returns the first error.
Status Prepare(const std::string& bytes) {
  auto g = LoadOnnxGraph(bytes, "bad.onnx");
  if (!g.ok()) return g.status();
  VQI_RETURN_IF_ERROR(OptimizeGraph(&*g));
  auto m = Compile(std::move(*g), {.threads = 1});
  return m.ok() ? Status::Ok() : m.status();
}

void ExpectError(const std::string& bytes, const std::string& needle) {
  Status st = Prepare(bytes);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find(needle), std::string::npos) << st.ToString();
}

TEST(OneDnnLoad, InternalFusedOpIsRefusedFromAFile) {
  // VqiDetectDecode exists only as the result of FuseDetectDecode, never from a file.
  OnnxBuilder b;
  std::string x = b.Input("images", {1, 3, 8, 8});
  std::string z = b.Op1("VqiDetectDecode", {x, x});
  b.Output(z);
  ExpectError(b.Serialize(), "unsupported operator 'VqiDetectDecode'");
}

TEST(OneDnnLoad, UnsupportedOpNamesNodeAndOp) {
  OnnxBuilder b;
  std::string x = b.Input("images", {1, 3, 8, 8});
  std::string y = b.Op1("Conv", {x, b.Rand({4, 3, 3, 3}, 1)});
  std::string z = b.Op1("GridSample", {y, y});
  b.Output(z);
  ExpectError(b.Serialize(), "node 'GridSample_");
  ExpectError(b.Serialize(), "unsupported operator 'GridSample'");
}

TEST(OneDnnLoad, DimensionThatCannotBeResolvedStatically) {
  OnnxBuilder b;
  std::string x = b.Input("images", {1, 3, 8, 8});
  b.model()
      .mutable_graph()
      ->mutable_input(0)
      ->mutable_type()
      ->mutable_tensor_type()
      ->mutable_shape()
      ->mutable_dim(2)
      ->set_dim_param("height");
  b.Output(b.Op1("Relu", {x}));
  ExpectError(b.Serialize(), "'height') cannot be resolved statically");

  OnnxBuilder c;  // a reshape target computed from the data itself
  x = c.Input("images", {1, 3, 8, 8});
  std::string shape = c.Op1("Cast", {x});
  c.AttrInt("to", 7);
  std::string flat = c.Op1(
      "Reshape",
      {x, c.Op1("Squeeze", {c.Op1("Slice", {shape, c.Ints({0}), c.Ints({1}), c.Ints({3})})})});
  c.Output(flat);
  ExpectError(c.Serialize(), "Reshape");
}

TEST(OneDnnLoad, WeightsOfTheWrongShape) {
  OnnxBuilder b;
  std::string x = b.Input("images", {1, 3, 8, 8});
  std::string y = b.Op1("Conv", {x, b.Rand({4, 5, 3, 3}, 1), b.Rand({4}, 1)});
  b.Output(y);
  ExpectError(b.Serialize(), "do not match input [1,3,8,8]");
  OnnxBuilder c;
  x = c.Input("images", {1, 3, 8, 8});
  y = c.Op1("Conv", {x, c.Rand({4, 3, 3, 3}, 1), c.Rand({5}, 1)});
  c.Output(y);
  ExpectError(c.Serialize(), "bias shape [5] should be [4]");
  // Initializer whose data does not match its dims.
  OnnxBuilder d;
  x = d.Input("images", {1, 3, 8, 8});
  std::string w = d.Rand({4, 3, 3, 3}, 1);
  d.model().mutable_graph()->mutable_initializer(0)->set_dims(0, 5);
  d.Output(d.Op1("Conv", {x, w}));
  ExpectError(d.Serialize(), "initializer '" + w + "': data size does not match shape");
}

TEST(OneDnnLoad, TruncatedAndGarbageFiles) {
  model::ModelConfig cfg;
  cfg.input_w = cfg.input_h = 64;
  auto bytes = testing::BuildYoloLikeOnnx(cfg);
  ASSERT_TRUE(bytes.ok());
  for (size_t cut : {size_t{0}, size_t{1}, size_t{17}, bytes->size() / 3, bytes->size() - 5}) {
    Status st = Prepare(bytes->substr(0, cut));
    EXPECT_FALSE(st.ok()) << "cut at " << cut;
    EXPECT_NE(st.message().find("bad.onnx"), std::string::npos) << st.ToString();
  }
  ExpectError("this is not a protobuf at all \xff\xff\xff", "bad.onnx");
}

TEST(OneDnnLoad, BackendNamesTheFileAndChecksTheContract) {
  auto dir = std::filesystem::temp_directory_path() / "vqi_onednn_load_test";
  std::filesystem::create_directories(dir);
  auto missing = OpenOnednnBackend((dir / "missing.onnx").string(), {});
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("missing.onnx"), std::string::npos);

  OnnxBuilder b;  // valid graph, wrong contract (rank-2 input)
  std::string x = b.Input("images", {4, 6});
  b.Output(b.Op1("Relu", {x}));
  std::string path = (dir / "rank2.onnx").string();
  ASSERT_TRUE(WriteFileAtomic(path, b.Serialize()).ok());
  auto r = OpenOnednnBackend(path, {});
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("expected [1,3,H,W]"), std::string::npos)
      << r.status().ToString();

  model::ModelConfig cfg;
  cfg.input_w = 96;
  cfg.input_h = 64;
  auto bytes = testing::BuildYoloLikeOnnx(cfg);
  path = (dir / "ok.onnx").string();
  ASSERT_TRUE(WriteFileAtomic(path, *bytes).ok());
  auto ok = OpenOnednnBackend(path, {.threads = 2});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ((*ok)->Name(), "onednn");
  // Registered in the backend registry (explicitly, twice: idempotent), and chosen by "auto".
  RegisterOnednnBackend();
  RegisterOnednnBackend();
  for (const char* name : {"onednn", "auto"}) {
    auto reg = OpenBackend(name, path, {.threads = 1});
    ASSERT_TRUE(reg.ok()) << name << ": " << reg.status().ToString();
    EXPECT_EQ((*reg)->Name(), "onednn") << name;
  }
  EXPECT_EQ((*ok)->Info().input_shape, (std::vector<int64_t>{1, 3, 64, 96}));
  EXPECT_EQ((*ok)->Info().metadata.at("stride"), "32");
  std::filesystem::remove_all(dir);
}

TEST(OneDnnLoad, MissingInputsAndCycles) {
  OnnxBuilder b;
  std::string x = b.Input("images", {1, 3, 8, 8});
  b.Output(b.Op1("Add", {x, "nowhere"}));
  ExpectError(b.Serialize(), "input 'nowhere' is never produced");
  OnnxBuilder c;
  x = c.Input("images", {1, 3, 8, 8});
  std::string y = c.Op1("Relu", {x});
  c.Output(c.Op1("Conv", {y}));
  ExpectError(c.Serialize(), "missing weights");
}

// Found by onednn_load_fuzz: a node without outputs crashed shape inference (out[0] of an
// empty list); extra outputs of single-output ops were silently left undefined.
TEST(OneDnnLoad, NodeWithoutOutputsOrWithExtraOutputs) {
  OnnxBuilder b;
  std::string x = b.Input("images", {1, 3, 8, 8});
  std::string q = b.Op1("QuantizeLinear", {x, b.Init({}, {0.5f})});
  b.model().mutable_graph()->mutable_node(0)->clear_output();
  b.Output(b.Op1("Relu", {x}));
  ExpectError(b.Serialize(), "has no (first) output");

  OnnxBuilder c;
  x = c.Input("images", {1, 3, 8, 8});
  auto two = c.Op("Relu", {x}, 2);
  c.Output(two[0]);
  ExpectError(c.Serialize(), "output 1 is not supported");
}

}  // namespace
}  // namespace vqi::infer::onednn
