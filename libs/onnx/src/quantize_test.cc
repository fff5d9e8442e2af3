#include "vqi/onnx/quantize.h"

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <set>

#include "vqi/onnx/export.h"
#include "vqi/onnx/float16.h"
#include "vqi/onnx/weights.h"

namespace vqi::onnx {
namespace {

std::string SmallModel(const std::string& scale = "t") {
  model::ModelConfig cfg;
  cfg.scale = scale;
  cfg.input_w = 96;
  cfg.input_h = 64;
  auto ck = RandomCheckpoint(cfg, 3);
  EXPECT_TRUE(ck.ok());
  auto bytes = ExportOnnx(*ck, {});
  EXPECT_TRUE(bytes.ok());
  return *bytes;
}

::onnx::ModelProto Parse(const std::string& b) {
  ::onnx::ModelProto m;
  EXPECT_TRUE(m.ParseFromString(b));
  return m;
}

std::map<std::string, float> UniformScales(const QuantizationPlan& plan, float s) {
  std::map<std::string, float> out;
  for (const auto& n : plan.Activations()) out[n] = s;
  return out;
}

TEST(QuantizePlanTest, EveryConvInputIsPlannedAndLinkedChainsShareAGroup) {
  const std::string bytes = SmallModel();
  auto plan = PlanQuantization(bytes, "m.onnx");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  const ::onnx::ModelProto m = Parse(bytes);
  std::map<std::string, int> group_of;
  for (size_t g = 0; g < plan->groups.size(); ++g)
    for (const auto& n : plan->groups[g]) {
      EXPECT_EQ(group_of.count(n), 0u) << n << " in two groups";
      group_of[n] = static_cast<int>(g);
    }
  int convs = 0;
  const std::set<std::string> kept(plan->float_convs.begin(), plan->float_convs.end());
  // The first Conv (reads the image) and the DFL decoder (a Conv over Softmax probabilities
  // with fixed weights) stay float.
  EXPECT_EQ(kept, (std::set<std::string>{"/model.0/conv/Conv", "/model.22/dfl/conv/Conv"}));
  for (const auto& n : m.graph().node()) {
    if (n.op_type() == "Conv" && !kept.count(n.name())) {
      ++convs;
      EXPECT_EQ(group_of.count(n.input(0)), 1u) << n.name();
    }
    if (n.op_type() == "MaxPool" || n.op_type() == "Concat") {
      if (!group_of.count(n.output(0))) continue;  // the detect head's concats are not planned
      for (const auto& in : n.input()) EXPECT_EQ(group_of[in], group_of[n.output(0)]) << n.name();
    }
  }
  EXPECT_EQ(plan->convs, convs);
  EXPECT_EQ(group_of.count("images"), 0u);
  EXPECT_EQ(group_of.count("output0"), 0u);
  EXPECT_GT(plan->groups.size(), 10u);

  // Asking to keep the second Conv in float leaves its weights and its input (read by nothing
  // else quantized) in float.
  auto second = PlanQuantization(bytes, "m.onnx", {"/model.1/conv/Conv"});
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->convs, plan->convs - 1);
  EXPECT_EQ(second->Activations().size(), plan->Activations().size() - 1);
  auto q = WriteQdqModel(bytes, "m.onnx", *second, UniformScales(*second, 0.05f), {});
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  const ::onnx::ModelProto qm = Parse(*q);
  int seen = 0;
  for (const auto& n : qm.graph().node())
    if (n.name() == "/model.1/conv/Conv") {
      EXPECT_EQ(n.input(1), "model.1.conv.weight");
      EXPECT_EQ(n.input(0).find("_dequantized"), std::string::npos) << n.input(0);
      ++seen;
    }
  EXPECT_EQ(seen, 1);
  auto unknown = PlanQuantization(bytes, "m.onnx", {"/model.0/conv/Nope"});
  EXPECT_NE(unknown.status().message().find("/model.0/conv/Nope"), std::string::npos);
}

TEST(ActivationRangesTest, PercentileMatchesSortedValuesAcrossHistogramGrowth) {
  std::mt19937 rng(11);
  std::vector<float> all;
  ActivationRanges r;
  // Ranges grow between batches (the histogram rebins twice) and include negatives.
  for (float spread : {0.5f, 3.f, 40.f}) {
    std::normal_distribution<float> d(0.f, spread);
    std::vector<float> v(5000);
    for (auto& x : v) x = d(rng);
    r.Observe("x", v.data(), static_cast<int64_t>(v.size()));
    all.insert(all.end(), v.begin(), v.end());
  }
  std::vector<float> absv;
  for (float x : all) absv.push_back(std::fabs(x));
  std::sort(absv.begin(), absv.end());
  EXPECT_FLOAT_EQ(static_cast<float>(r.MaxAbs("x")), absv.back());
  const double bin = 256.0 / ActivationRanges::kBins;  // 40-sigma values < 256: range 256
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    const size_t k = static_cast<size_t>(std::ceil(p / 100.0 * absv.size())) - 1;
    EXPECT_NEAR(r.Percentile("x", p), absv[k], bin) << p;
  }
  EXPECT_DOUBLE_EQ(r.Percentile("x", 100), absv.back());
  const float bad[] = {NAN, INFINITY, 1.f};
  r.Observe("y", bad, 3);
  EXPECT_EQ(r.NonFinite("y"), 2);
  EXPECT_EQ(r.MaxAbs("y"), 1.0);
}

TEST(QuantizeWriteTest, WritesCheckedQdqWithPerChannelInt8Weights) {
  const std::string bytes = SmallModel();
  auto plan = PlanQuantization(bytes, "m.onnx");
  ASSERT_TRUE(plan.ok());
  QuantizeOptions o;
  o.provenance = {{"images", 3}};
  auto q = WriteQdqModel(bytes, "m.onnx", *plan, UniformScales(*plan, 0.05f), o);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  auto s = CheckOnnx(*q, "q.onnx");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const size_t acts = plan->Activations().size();
  EXPECT_EQ(s->op_counts["QuantizeLinear"], static_cast<int>(acts));
  EXPECT_EQ(s->op_counts["DequantizeLinear"], static_cast<int>(acts) + plan->convs);
  EXPECT_EQ(s->input_name, "images");
  EXPECT_EQ(s->output_name, "output0");
  EXPECT_LT(q->size(), bytes.size() * 35 / 100);  // int8 weights: about a quarter
  ASSERT_TRUE(s->metadata.count("vqi.quantization"));
  EXPECT_NE(s->metadata["vqi.quantization"].find("\"images\":3"), std::string::npos);

  // Dequantized weights are within half a step of the float ones; every Conv reads a
  // dequantized activation.
  const ::onnx::ModelProto in = Parse(bytes), out = Parse(*q);
  std::map<std::string, const ::onnx::TensorProto*> inits;
  for (const auto& t : out.graph().initializer()) inits[t.name()] = &t;
  std::map<std::string, const ::onnx::NodeProto*> producer;
  for (const auto& n : out.graph().node())
    for (const auto& o2 : n.output()) producer[o2] = &n;
  int checked = 0;
  for (const auto& t : in.graph().initializer()) {
    if (!producer.count(t.name())) continue;  // not a conv weight
    const auto& dq = *producer[t.name()];
    ASSERT_EQ(dq.op_type(), "DequantizeLinear") << t.name();
    const auto& wq = *inits.at(dq.input(0));
    const auto& ws = *inits.at(dq.input(1));
    ASSERT_EQ(wq.data_type(), ::onnx::TensorProto::INT8);
    ASSERT_EQ(ws.float_data_size(), t.dims(0));
    const int64_t per = static_cast<int64_t>(wq.raw_data().size()) / t.dims(0);
    std::vector<float> f(wq.raw_data().size());
    std::memcpy(f.data(), t.raw_data().data(), f.size() * 4);
    for (size_t k = 0; k < f.size(); ++k) {
      const float scale = ws.float_data(static_cast<int>(static_cast<int64_t>(k) / per));
      const float back = static_cast<float>(static_cast<int8_t>(wq.raw_data()[k])) * scale;
      ASSERT_LE(std::fabs(back - f[k]), scale * 0.5f + 1e-7f) << t.name() << "[" << k << "]";
    }
    ++checked;
  }
  EXPECT_EQ(checked, plan->convs);
  for (const auto& n : out.graph().node()) {
    if (n.op_type() == "Conv" && n.name() != "/model.22/dfl/conv/Conv" &&
        n.name() != "/model.0/conv/Conv") {
      EXPECT_EQ(producer.at(n.input(0))->op_type(), "DequantizeLinear") << n.name();
    }
  }
}

TEST(QuantizeWriteTest, GroupScaleIsTheLargestMemberRange) {
  QuantizationPlan plan;
  plan.groups = {{"a", "b"}, {"c"}};
  ActivationRanges r;
  const float a[] = {1.f, -2.f}, b[] = {0.5f, 6.35f}, c[] = {0.f, 0.f};
  r.Observe("a", a, 2);
  r.Observe("b", b, 2);
  r.Observe("c", c, 2);
  QuantizeOptions o;
  o.method = "minmax";
  auto s = GroupScales(plan, r, o);
  ASSERT_TRUE(s.ok());
  EXPECT_FLOAT_EQ(s->at("a"), 0.05f);
  EXPECT_FLOAT_EQ(s->at("b"), 0.05f);
  EXPECT_GT(s->at("c"), 0.f);  // all zero: any positive scale
  o.method = "kl";
  EXPECT_EQ(GroupScales(plan, r, o).status().code(), StatusCode::kInvalidArgument);
  o.method = "minmax";
  plan.groups.push_back({"never_seen"});
  auto e = GroupScales(plan, r, o);
  EXPECT_NE(e.status().message().find("never_seen"), std::string::npos);
}

TEST(QuantizeErrorsTest, RejectsWhatItCannotQuantizeAndNamesIt) {
  const std::string bytes = SmallModel();
  EXPECT_EQ(PlanQuantization("not onnx", "x.onnx").status().code(), StatusCode::kDataLoss);

  auto fp16 = ConvertWeightsToFloat16(bytes, "m.onnx");
  ASSERT_TRUE(fp16.ok());
  auto e = PlanQuantization(*fp16, "m16.onnx");
  EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(e.status().message().find("float16"), std::string::npos) << e.status().ToString();

  ::onnx::ModelProto m = Parse(bytes);
  for (auto& o : *m.mutable_opset_import()) o.set_version(11);
  std::string old;
  m.SerializeToString(&old);
  e = PlanQuantization(old, "old.onnx");
  EXPECT_NE(e.status().message().find("opset 11"), std::string::npos) << e.status().ToString();

  auto plan = PlanQuantization(bytes, "m.onnx");
  ASSERT_TRUE(plan.ok());
  auto q = WriteQdqModel(bytes, "m.onnx", *plan, UniformScales(*plan, 0.1f), {});
  ASSERT_TRUE(q.ok());
  e = PlanQuantization(*q, "q.onnx");
  EXPECT_NE(e.status().message().find("already quantized"), std::string::npos);

  auto scales = UniformScales(*plan, 0.1f);
  scales.erase(plan->groups[0][0]);
  auto w = WriteQdqModel(bytes, "m.onnx", *plan, scales, {});
  EXPECT_NE(w.status().message().find(plan->groups[0][0]), std::string::npos);
  scales = UniformScales(*plan, 0.1f);
  scales[plan->groups[0][0]] = -1.f;
  EXPECT_EQ(WriteQdqModel(bytes, "m.onnx", *plan, scales, {}).status().code(),
            StatusCode::kInvalidArgument);
  QuantizationPlan other = *plan;
  other.groups.pop_back();
  EXPECT_NE(WriteQdqModel(bytes, "m.onnx", other, UniformScales(*plan, 0.1f), {})
                .status()
                .message()
                .find("another model"),
            std::string::npos);
}

}  // namespace
}  // namespace vqi::onnx
