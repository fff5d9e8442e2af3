// The loader's contract checks without any backend (they run in every build, and are the same
// for every backend): files built by hand with onnx_proto.
#include "vqi/infer/model_file.h"

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <unistd.h>

#include "vqi/base/file.h"

namespace vqi::infer {
namespace {

// images [1, 3, h, w] -> op -> output0 `out` (a Conv-free stand-in; shapes are declared).
std::string Model(const std::vector<int64_t>& in, const std::vector<int64_t>& out,
                  const std::string& op = "Identity") {
  ::onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  auto* g = m.mutable_graph();
  g->set_name("t");
  auto dims = [](::onnx::ValueInfoProto* v, const std::string& name,
                 const std::vector<int64_t>& d) {
    v->set_name(name);
    auto* t = v->mutable_type()->mutable_tensor_type();
    t->set_elem_type(::onnx::TensorProto::FLOAT);
    for (int64_t x : d) t->mutable_shape()->add_dim()->set_dim_value(x);
  };
  dims(g->add_input(), "images", in);
  dims(g->add_output(), "output0", out);
  auto* n = g->add_node();
  n->set_op_type(op);
  n->set_name("n0");
  n->add_input("images");
  n->add_output("output0");
  std::string s;
  m.SerializeToString(&s);
  return s;
}

class ModelFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "vqi_model_file_" + std::to_string(getpid());
    ASSERT_TRUE(MakeDirs(dir_).ok());
  }
  std::string Write(const std::string& name, const std::string& bytes) {
    EXPECT_TRUE(WriteFileAtomic(dir_ + "/" + name, bytes).ok());
    return dir_ + "/" + name;
  }
  std::string dir_;
};

TEST_F(ModelFileTest, ReadsParsesAndChecksOnce) {
  auto m = LoadOnnxModel(Write("ok.onnx", Model({1, 3, 8, 8}, {1, 6, 32})));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->info.input_shape, (std::vector<int64_t>{1, 3, 8, 8}));
  EXPECT_EQ(m->info.output_shape, (std::vector<int64_t>{1, 6, 32}));
  ASSERT_TRUE(m->proto && m->bytes);
  EXPECT_EQ(m->proto->graph().node(0).op_type(), "Identity");
}

// Issue 16: a directory given as a model was reported as an empty file.
TEST_F(ModelFileTest, DirectoryIsSaidToBeADirectory) {
  auto m = LoadOnnxModel(dir_);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(m.status().message().find("is a directory"), std::string::npos) << m.status().message();
}

TEST_F(ModelFileTest, NotADetectorIsRefusedNamingTheTensor) {
  auto rank3 = LoadOnnxModel(Write("r3.onnx", Model({3, 8, 8}, {3, 8, 8})));
  ASSERT_FALSE(rank3.ok());
  EXPECT_NE(rank3.status().message().find("rank 3"), std::string::npos);
  auto out = LoadOnnxModel(Write("o.onnx", Model({1, 3, 8, 8}, {1, 3, 8, 8})));
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("output 'output0'"), std::string::npos)
      << out.status().message();
  auto dyn = LoadOnnxModel(Write("d.onnx", Model({1, 3, 0, 8}, {1, 6, 32})));
  EXPECT_NE(dyn.status().message().find("dynamic shape"), std::string::npos);
}

// Issue 16: shapes from a model file are trusted to size buffers; they are bounded first.
TEST_F(ModelFileTest, ShapesAboveTheLimitsAreRefusedBeforeAllocating) {
  auto big_in = LoadOnnxModel(Write("bi.onnx", Model({1, 3, 9000, 8}, {1, 6, 32})));
  EXPECT_EQ(big_in.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(big_in.status().message().find("8192 x 8192"), std::string::npos);
  auto big_out = LoadOnnxModel(Write("bo.onnx", Model({1, 3, 8, 8}, {1, 6, int64_t{1} << 40})));
  EXPECT_EQ(big_out.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(big_out.status().message().find("2^28 values"), std::string::npos);
}

TEST_F(ModelFileTest, UnknownOperatorAndDanglingInputAreNamed) {
  auto fancy = LoadOnnxModel(Write("f.onnx", Model({1, 3, 8, 8}, {1, 6, 32}, "FancyAct")));
  ASSERT_FALSE(fancy.ok());
  EXPECT_NE(fancy.status().message().find("node 'n0' (FancyAct)"), std::string::npos)
      << fancy.status().message();
  ::onnx::ModelProto m;
  ASSERT_TRUE(m.ParseFromString(Model({1, 3, 8, 8}, {1, 6, 32})));
  m.mutable_graph()->mutable_node(0)->set_input(0, "nowhere");
  std::string s;
  m.SerializeToString(&s);
  auto dangling = LoadOnnxModel(Write("x.onnx", s));
  EXPECT_EQ(dangling.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(dangling.status().message().find("'nowhere'"), std::string::npos);
}

TEST_F(ModelFileTest, JunkEmptyAndMissing) {
  EXPECT_EQ(LoadOnnxModel(Write("j.onnx", "junk junk")).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(LoadOnnxModel(Write("e.onnx", "")).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(LoadOnnxModel(dir_ + "/none.onnx").status().code(), StatusCode::kNotFound);
}

TEST_F(ModelFileTest, UnknownBackendListsWhatIsBuiltIn) {
  auto m = LoadOnnxModel(Write("ok.onnx", Model({1, 3, 8, 8}, {1, 6, 32})));
  ASSERT_TRUE(m.ok());
  auto b = OpenBackend("tpu", *m, {1});
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("unknown inference backend 'tpu'"), std::string::npos);
  auto t = OpenBackend("auto", *m, {0});
  EXPECT_NE(t.status().message().find("must be >= 1"), std::string::npos);
}

}  // namespace
}  // namespace vqi::infer
