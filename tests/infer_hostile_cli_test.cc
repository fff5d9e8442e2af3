// Issue 16 for inference (regression tests): hostile or careless input to `vqi model predict|
// eval|quantize` gets a clear error, and nothing is written.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <unistd.h>

#include <filesystem>

#include "run_vqi.h"
#include "synth_model_suite.h"
#include "vqi/base/file.h"

namespace vqi {
namespace {

namespace fs = std::filesystem;
using vqi::testing::RunVqi;

void Dims(::onnx::ValueInfoProto* v, const std::string& name, const std::vector<int64_t>& d) {
  v->set_name(name);
  auto* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(::onnx::TensorProto::FLOAT);
  for (int64_t x : d) t->mutable_shape()->add_dim()->set_dim_value(x);
}

::onnx::TensorProto* Init(::onnx::GraphProto* g, const std::string& name,
                          const std::vector<int64_t>& dims, int type) {
  auto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(type);
  for (int64_t d : dims) t->add_dims(d);
  return t;
}

::onnx::NodeProto* Node(::onnx::GraphProto* g, const std::string& op, std::vector<std::string> in,
                        const std::string& out) {
  auto* n = g->add_node();
  n->set_op_type(op);
  n->set_name(op + "_" + out);
  for (const auto& i : in) n->add_input(i);
  n->add_output(out);
  return n;
}

std::string Serialize(const ::onnx::ModelProto& m) {
  std::string s;
  m.SerializeToString(&s);
  return s;
}

::onnx::ModelProto NewModel() {
  ::onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  m.mutable_graph()->set_name("hostile");
  return m;
}

// A detector by its shapes whose output0 is sqrt(x - 1): NaN for every pixel below 255.
std::string NanDetector() {
  auto m = NewModel();
  auto* g = m.mutable_graph();
  Dims(g->add_input(), "images", {1, 3, 8, 8});
  Dims(g->add_output(), "output0", {1, 6, 32});
  Init(g, "one", {}, ::onnx::TensorProto::FLOAT)->add_float_data(1.f);
  auto* shape = Init(g, "shape", {3}, ::onnx::TensorProto::INT64);
  for (int64_t d : {1, 6, 32}) shape->add_int64_data(d);
  Node(g, "Sub", {"images", "one"}, "d");
  Node(g, "Sqrt", {"d"}, "r");
  Node(g, "Reshape", {"r", "shape"}, "output0");
  return Serialize(m);
}

// A 1x1 convolution (a feature extractor, not a detector): output [1, 4, 8, 8].
std::string ConvNotADetector() {
  auto m = NewModel();
  auto* g = m.mutable_graph();
  Dims(g->add_input(), "images", {1, 3, 8, 8});
  Dims(g->add_output(), "features", {1, 4, 8, 8});
  auto* w = Init(g, "w", {4, 3, 1, 1}, ::onnx::TensorProto::FLOAT);
  for (int i = 0; i < 12; ++i) w->add_float_data(0.1f * i);
  Node(g, "Conv", {"images", "w"}, "features");
  return Serialize(m);
}

// One synthesized folder and one random-weight detector, made once for the suite.
class InferHostileCliTest : public vqi::testing::SynthModelSuite<InferHostileCliTest> {
 public:
  static constexpr const char* kDir = "vqi_infer_hostile_";
  static constexpr int kImages = 2;
};

// Was: detections with "score": null, rc 0.
TEST_F(InferHostileCliTest, ModelEmittingNanIsRefusedPerImage) {
  ASSERT_TRUE(WriteFileAtomic(P("nan.onnx"), NanDetector()).ok());
  auto r = RunVqi("model predict --model " + P("nan.onnx") + " --images " + P("s/images") +
                  " --out " + P("out"));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("inf/NaN values at"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("null"), std::string::npos) << r.out;
  // Every image failed: no predictions.json with an empty list (was written, rc 1).
  EXPECT_NE(r.out.find("every one of the 2 images failed, nothing written to " + P("out")),
            std::string::npos)
      << r.out;
  EXPECT_FALSE(fs::exists(P("out"))) << r.out;
  fs::remove_all(P("out"));
}

// Was: the whole image decoded (1.3 GB for 20000x20000) before anything looked at its size.
TEST_F(InferHostileCliTest, ImageHeaderClaimingTooManyPixelsIsRefusedBeforeDecoding) {
  const fs::path in = P("huge_in");
  fs::create_directories(in);
  for (const auto& e : fs::directory_iterator(P("s/images")))
    fs::copy_file(e.path(), in / e.path().filename());
  // SOI, then a baseline SOF0 frame header claiming 20000x20000, 3 components; nothing more.
  const std::string jpeg = std::string("\xFF\xD8\xFF\xC0\x00\x11\x08\x4E\x20\x4E\x20\x03", 12) +
                           std::string("\x01\x22\x00\x02\x11\x01\x03\x11\x01", 9) +
                           std::string("\xFF\xD9", 2);
  ASSERT_TRUE(WriteFileAtomic((in / "huge.jpg").string(), jpeg).ok());
  const std::string huge = (in / "huge.jpg").string();
  auto r = RunVqi("model predict --model " + P("m.onnx") + " --images " + in.string() + " --out " +
                  P("huge_out"));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("error: ResourceExhausted: " + huge +
                       ": jpeg header claims 20000x20000 = 400000000 pixels; the limit is "
                       "67108864 (8192x8192), refused before decoding"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("2 images, "), std::string::npos) << "others still run: " << r.out;
  auto file = ReadFile(P("huge_out/predictions.json"));
  ASSERT_TRUE(file.ok()) << r.out;
  EXPECT_EQ(file->find("huge.jpg"), std::string::npos) << *file;
  EXPECT_FALSE(fs::exists(P("huge_out/huge.jpg")));
  // The same refusal on `bench infer` (it decodes through the same function).
  r = RunVqi("bench infer --iters 3 --model " + P("m.onnx") + " --images " + in.string());
  EXPECT_NE(r.out.find("jpeg header claims 20000x20000"), std::string::npos) << r.out;
  // Alone: nothing ran, nothing written, the error is the limit's.
  r = RunVqi("model predict --model " + P("m.onnx") + " --image " + huge + " --out " +
             P("huge_only"));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("error: ResourceExhausted: every one of the 1 images failed"),
            std::string::npos)
      << r.out;
  EXPECT_FALSE(fs::exists(P("huge_only")));
}

// Was (dataset import, found by fuzzing): "DICM" at byte 128 made OpenCV hand the bytes to GDCM,
// which aborts the process. The decode for models refuses such bytes before OpenCV sees them.
TEST_F(InferHostileCliTest, DicomSignatureInAnImageIsRefusedNotAborted) {
  std::string webp = std::string("RIFF\x1e\0\0\0WEBPVP8X\x0a\0", 22) + std::string(106, 'M');
  webp += "DICM" + std::string(8, 'M');
  ASSERT_TRUE(WriteFileAtomic(P("dicm.webp"), webp).ok());
  auto r = RunVqi("model predict --model " + P("m.onnx") + " --image " + P("dicm.webp"));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find(P("dicm.webp") + ": cannot decode image: ambiguous webp data (a DICOM "
                                        "signature at byte 128); refused"),
            std::string::npos)
      << r.out;
}

// Was: --max-det 0 meant unlimited.
TEST_F(InferHostileCliTest, DetectionSettingsOutOfRangeAreNamed) {
  for (const char* bad : {"--max-det 0", "--conf nan"}) {
    auto r = RunVqi("model predict --model " + P("m.onnx") + " --images " + P("s/images") + " " +
                    bad + " --out " + P("o"));
    EXPECT_EQ(r.code, 2) << bad << ": " << r.out;
    EXPECT_NE(r.out.find("range"), std::string::npos) << bad << ": " << r.out;
    EXPECT_FALSE(fs::exists(P("o"))) << bad;
  }
  auto r = RunVqi("model eval --model " + P("m.onnx") + " --images " + P("s") + " --max-det 0");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("--max-det: 0 is out of range [1, 10000]"), std::string::npos) << r.out;
  r = RunVqi("bench infer --threads 65535 --model " + P("m.onnx") + " --images " + P("s/images"));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("65535 is out of range [1, 256]"), std::string::npos) << r.out;
}

// Was: reported as an empty file.
TEST_F(InferHostileCliTest, DirectoryAsModelSaysSo) {
  fs::create_directories(P("dir.onnx"));
  const std::string m = P("dir.onnx");
  auto p = RunVqi("model predict --model " + m + " --images " + P("s/images"));
  EXPECT_EQ(p.code, 2) << p.out;
  EXPECT_NE(p.out.find(m + ": is a directory"), std::string::npos) << p.out;
  p = RunVqi("model eval --model " + P("s") + " --images " + P("s"));
  EXPECT_NE(p.out.find(P("s") + ": is a directory"), std::string::npos) << p.out;
  auto r = RunVqi("bench infer --model " + P("dir.onnx") + " --images " + P("s/images"));
  EXPECT_NE(r.out.find("is a directory"), std::string::npos) << r.out;
}

// Was: a useless QDQ file written, rc 0.
TEST_F(InferHostileCliTest, QuantizingANonDetectorIsRefused) {
  if (RunVqi("model --help").out.find("\n  quantize ") == std::string::npos)
    GTEST_SKIP() << "this build has no `model quantize` (VQI_WITH_ONEDNN=OFF)";
  ASSERT_TRUE(WriteFileAtomic(P("conv.onnx"), ConvNotADetector()).ok());
  auto r = RunVqi("model quantize --model " + P("conv.onnx") + " --calib " + P("s/images") +
                  " --out " + P("q.onnx"));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("output 'features' has shape [1, 4, 8, 8], expected [1, 4 + nc, N]"),
            std::string::npos)
      << r.out;
  EXPECT_FALSE(fs::exists(P("q.onnx")));
}

}  // namespace
}  // namespace vqi
