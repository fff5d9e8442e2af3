// The OpenCV backend, the registry and the contract checks on exported random-weight models.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "vqi/base/file.h"
#include "vqi/infer/backend.h"
#include "vqi/infer/detector.h"
#include "vqi/infer/model_file.h"
#include "vqi/infer/opencv.h"
#include "vqi/onnx/export.h"
#include "vqi/onnx/float16.h"
#include "vqi/onnx/weights.h"

namespace vqi::infer {
namespace {

class BackendTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    RegisterOpencvBackend();
    dir_ = new std::string(::testing::TempDir() + "vqi_infer_" + std::to_string(getpid()));
    ASSERT_TRUE(MakeDirs(*dir_).ok());
    model::ModelConfig cfg;
    cfg.class_names = {"scratch", "dent"};
    cfg.input_w = 96;
    cfg.input_h = 64;
    auto ck = onnx::RandomCheckpoint(cfg, 7);
    ASSERT_TRUE(ck.ok());
    auto bytes = onnx::ExportOnnx(*ck, {});
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    bytes_ = new std::string(*bytes);
    ASSERT_TRUE(WriteFileAtomic(Path("m.onnx"), *bytes).ok());
  }
  static std::string Path(const std::string& name) { return *dir_ + "/" + name; }
  static std::string Write(const std::string& name, const std::string& bytes) {
    EXPECT_TRUE(WriteFileAtomic(Path(name), bytes).ok());
    return Path(name);
  }
  static std::string* dir_;
  static std::string* bytes_;
};
std::string* BackendTest::dir_ = nullptr;
std::string* BackendTest::bytes_ = nullptr;

TEST_F(BackendTest, OpenCvRunsExportedModel) {
  auto b = OpenBackend("opencv", Path("m.onnx"), {1});
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ((*b)->Name(), "opencv");
  const ModelInfo& info = (*b)->Info();
  EXPECT_EQ(info.input_shape, (std::vector<int64_t>{1, 3, 64, 96}));
  EXPECT_EQ(info.output_shape, (std::vector<int64_t>{1, 6, 12 * 8 + 6 * 4 + 3 * 2}));
  EXPECT_EQ(info.metadata.at("task"), "detect");
  std::vector<float> in(3 * 64 * 96), out(6 * 126), out2(6 * 126);
  for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<float>(i % 251) / 251.f;
  ASSERT_TRUE((*b)->Run(in.data(), out.data()).ok());
  ASSERT_TRUE((*b)->Run(in.data(), out2.data()).ok());
  EXPECT_EQ(out, out2) << "reused model must be deterministic";
  for (int64_t a = 0; a < 126; ++a) {
    EXPECT_TRUE(std::isfinite(out[a]));
    EXPECT_GT(out[2 * 126 + a], 0.f) << "width of anchor " << a;
    EXPECT_GT(out[4 * 126 + a], 0.f);
    EXPECT_LT(out[4 * 126 + a], 1.f);
  }
}

TEST_F(BackendTest, Float16WeightsRunInOpenCvCloseToFloat32) {
  auto half = onnx::ConvertWeightsToFloat16(*bytes_, "m.onnx");
  ASSERT_TRUE(half.ok()) << half.status().ToString();
  auto b32 = OpenBackend("opencv", Path("m.onnx"), {1});
  auto b16 = OpenBackend("opencv", Write("m16.onnx", *half), {1});
  ASSERT_TRUE(b32.ok() && b16.ok()) << b16.status().ToString();
  std::vector<float> in(3 * 64 * 96), o32(6 * 126), o16(6 * 126);
  for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<float>(i % 89) / 89.f;
  ASSERT_TRUE((*b32)->Run(in.data(), o32.data()).ok());
  ASSERT_TRUE((*b16)->Run(in.data(), o16.data()).ok());
  EXPECT_NE(o32, o16) << "weights were rounded, outputs should differ a little";
  for (size_t i = 0; i < o32.size(); ++i)
    EXPECT_NEAR(o16[i], o32[i], 2e-2 * std::max(1.f, std::fabs(o32[i]))) << i;
}

TEST_F(BackendTest, AutoAndUnknownBackend) {
  auto a = OpenBackend("auto", Path("m.onnx"), {1});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto names = BackendNames();
  EXPECT_NE(std::find(names.begin(), names.end(), "opencv"), names.end());
  auto u = OpenBackend("tpu", Path("m.onnx"), {1});
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.status().message().find("tpu"), std::string::npos);
}

TEST_F(BackendTest, BatchAboveOneIsRefusedNotEmulated) {
  BackendOptions o;
  o.batch = 4;
  auto b = OpenBackend("opencv", Path("m.onnx"), o);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), StatusCode::kUnimplemented) << b.status().ToString();
  EXPECT_NE(b.status().message().find("batch 4"), std::string::npos) << b.status().ToString();
  EXPECT_NE(b.status().message().find("onednn"), std::string::npos) << b.status().ToString();
  o.batch = 65;
  auto r = OpenBackend("opencv", Path("m.onnx"), o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("1..64"), std::string::npos) << r.status().ToString();
  auto d = OnnxDetector::Open(Path("m.onnx"), "opencv", {1, Precision::kAuto, 2});
  EXPECT_FALSE(d.ok());
}

TEST_F(BackendTest, DetectorRunsImageFile) {
  auto d = OnnxDetector::Open(Path("m.onnx"), "opencv", {1});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ((*d)->ClassNames(), (std::vector<std::string>{"scratch", "dent"}));
  cv::Mat img(120, 200, CV_8UC3);
  cv::randu(img, 0, 255);
  // The same pixels in memory give the same detections as the file.
  ASSERT_TRUE(cv::imwrite(Path("img.png"), img));
  eval::DetectOptions o;
  o.conf_threshold = 0.001f;
  auto dets = (*d)->Detect(Path("img.png"), o);
  ASSERT_TRUE(dets.ok()) << dets.status().ToString();
  EXPECT_LE(dets->size(), 300u);
  for (const auto& x : *dets) {
    EXPECT_GE(x.x1, 0.f);
    EXPECT_LE(x.x2, 200.f);
    EXPECT_LE(x.y2, 120.f);
  }
  EXPECT_GT((*d)->LastTimes().model_ms, 0.0);
  EXPECT_GT((*d)->LastTimes().decode_ms, 0.0);
  auto same = (*d)->DetectImage({img.data, img.cols, img.rows, img.step}, "img.png", o);
  ASSERT_TRUE(same.ok());
  ASSERT_EQ(same->size(), dets->size());
  for (size_t i = 0; i < same->size(); ++i) EXPECT_EQ((*same)[i].score, (*dets)[i].score);
  auto bad = (*d)->Detect(Write("broken.jpg", "\xff\xd8\xff garbage"), o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("broken.jpg"), std::string::npos);
}

// Issue 22: a JPEG larger than the model input is decoded DCT-reduced; its boxes are still in
// the file's pixels, and the throughput mode (Prepare + RunPrepared) gives what Detect gives.
TEST_F(BackendTest, ReducedDecodeAndPreparedRunsMapToTheFile) {
  auto d = OnnxDetector::Open(Path("m.onnx"), "opencv", {1});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  const int big_w = 16 * (*d)->InputWidth(), big_h = 16 * (*d)->InputHeight();
  cv::Mat img(big_h, big_w, CV_8UC3);
  cv::randu(img, 0, 255);
  cv::GaussianBlur(img, img, cv::Size(31, 31), 8);
  ASSERT_TRUE(cv::imwrite(Path("big.jpg"), img));
  eval::DetectOptions o;
  o.conf_threshold = 0.001f;
  auto dets = (*d)->Detect(Path("big.jpg"), o);
  ASSERT_TRUE(dets.ok()) << dets.status().ToString();
  float max_x = 0, max_y = 0;
  for (const auto& x : *dets) {
    EXPECT_GE(x.x1, 0.f);
    EXPECT_LE(x.x2, static_cast<float>(big_w));
    EXPECT_LE(x.y2, static_cast<float>(big_h));
    max_x = std::max(max_x, x.x2), max_y = std::max(max_y, x.y2);
  }
  // Boxes span the file's coordinates, not the 1/8-size decode's.
  if (!dets->empty()) {
    EXPECT_GT(std::max(max_x / big_w, max_y / big_h), 1.0f / 8 + 0.01f);
  }
  OnnxDetector::Prepared slot;
  ASSERT_TRUE((*d)->Prepare(Path("big.jpg"), &slot).ok());
  auto same = (*d)->RunPrepared(slot, o);
  ASSERT_TRUE(same.ok());
  ASSERT_EQ(same->size(), dets->size());
  for (size_t i = 0; i < same->size(); ++i) {
    EXPECT_EQ((*same)[i].score, (*dets)[i].score);
    EXPECT_EQ((*same)[i].x2, (*dets)[i].x2);
  }
  EXPECT_GT((*d)->LastTimes().decode_ms, 0.0);
  OnnxDetector::Prepared bad;
  Status st = (*d)->Prepare(Write("cut.jpg", std::string("\xff\xd8\xff\xe0", 4)), &bad);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("cut.jpg"), std::string::npos) << st.ToString();
}

TEST_F(BackendTest, BadFilesAreClearErrors) {
  for (const char* backend : {"opencv", "auto"}) {
    auto missing = OpenBackend(backend, Path("nope.onnx"), {1});
    EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
    auto junk = OpenBackend(backend, Write("junk.onnx", "not a model at all"), {1});
    ASSERT_FALSE(junk.ok());
    EXPECT_EQ(junk.status().code(), StatusCode::kDataLoss) << junk.status().ToString();
    EXPECT_NE(junk.status().message().find("junk.onnx"), std::string::npos);
    auto cut = OpenBackend(backend, Write("cut.onnx", bytes_->substr(0, bytes_->size() / 3)), {1});
    ASSERT_FALSE(cut.ok());
    EXPECT_NE(cut.status().message().find("cut.onnx"), std::string::npos);
  }
}

TEST_F(BackendTest, UnknownOpIsNamed) {
  ::onnx::ModelProto m;
  ASSERT_TRUE(m.ParseFromString(*bytes_));
  m.mutable_graph()->mutable_node(1)->set_op_type("FancyAct");
  std::string edited;
  ASSERT_TRUE(m.SerializeToString(&edited));
  auto b = OpenBackend("opencv", Write("fancy.onnx", edited), {1});
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("FancyAct"), std::string::npos) << b.status().ToString();
  EXPECT_NE(b.status().message().find(m.graph().node(1).name()), std::string::npos)
      << b.status().ToString();
}

// A valid ONNX model whose input is rank 3: images [3, 64, 64] -> Identity -> output0.
std::string Rank3Model() {
  ::onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  auto* g = m.mutable_graph();
  g->set_name("rank3");
  for (const char* name : {"images", "output0"}) {
    auto* v = std::string(name) == "images" ? g->add_input() : g->add_output();
    v->set_name(name);
    auto* t = v->mutable_type()->mutable_tensor_type();
    t->set_elem_type(::onnx::TensorProto::FLOAT);
    for (int d : {3, 64, 64}) t->mutable_shape()->add_dim()->set_dim_value(d);
  }
  auto* n = g->add_node();
  n->set_op_type("Identity");
  n->set_name("id");
  n->add_input("images");
  n->add_output("output0");
  std::string s;
  m.SerializeToString(&s);
  return s;
}

TEST_F(BackendTest, WrongInputRankIsNamed) {
  auto info = InspectModel(Write("rank3.onnx", Rank3Model()));
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(info.status().message().find("rank 3"), std::string::npos) << info.status().ToString();
  EXPECT_FALSE(OpenBackend("opencv", Path("rank3.onnx"), {1}).ok());
}

}  // namespace
}  // namespace vqi::infer
