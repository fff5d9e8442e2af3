#include "testing/onnx_builder.h"

#include <onnx/onnx_pb.h>

#include "vqi/base/file.h"

namespace vqi::infer::onednn::testing {

OnnxBuilder::OnnxBuilder(int64_t opset, uint32_t seed) : model_(new onnx::ModelProto), rng_(seed) {
  model_->set_ir_version(7);
  model_->set_producer_name("vqi-onednn-tests");
  auto* o = model_->add_opset_import();
  o->set_domain("");
  o->set_version(opset);
  model_->mutable_graph()->set_name("test");
}

OnnxBuilder::~OnnxBuilder() { delete model_; }

std::string OnnxBuilder::Fresh(const std::string& prefix) {
  return prefix + "_" + std::to_string(counter_++);
}

std::string OnnxBuilder::Input(const std::string& name, const std::vector<int64_t>& shape) {
  auto* vi = model_->mutable_graph()->add_input();
  vi->set_name(name);
  auto* tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  for (int64_t d : shape) tt->mutable_shape()->add_dim()->set_dim_value(d);
  return name;
}

void OnnxBuilder::Output(const std::string& name, const std::vector<int64_t>& shape) {
  auto* vi = model_->mutable_graph()->add_output();
  vi->set_name(name);
  auto* tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  if (!shape.empty())
    for (int64_t d : shape) tt->mutable_shape()->add_dim()->set_dim_value(d);
}

std::string OnnxBuilder::Init(const std::vector<int64_t>& shape, const std::vector<float>& data) {
  auto* t = model_->mutable_graph()->add_initializer();
  std::string name = Fresh("w");
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : shape) t->add_dims(d);
  t->set_raw_data(
      std::string(reinterpret_cast<const char*>(data.data()), data.size() * sizeof(float)));
  return name;
}

std::string OnnxBuilder::Rand(const std::vector<int64_t>& shape, float scale) {
  size_t n = 1;
  for (int64_t d : shape) n *= static_cast<size_t>(d);
  std::uniform_real_distribution<float> u(-scale, scale);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng_);
  return Init(shape, v);
}

std::string OnnxBuilder::Ints(const std::vector<int64_t>& values) {
  auto* t = model_->mutable_graph()->add_initializer();
  std::string name = Fresh("i");
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::INT64);
  t->add_dims(static_cast<int64_t>(values.size()));
  for (int64_t v : values) t->add_int64_data(v);
  return name;
}

std::vector<std::string> OnnxBuilder::Op(const std::string& op, const std::vector<std::string>& in,
                                         int outputs) {
  last_ = model_->mutable_graph()->add_node();
  last_->set_op_type(op);
  last_->set_name(Fresh(op));
  for (const auto& s : in) last_->add_input(s);
  std::vector<std::string> outs;
  for (int k = 0; k < outputs; ++k) {
    outs.push_back(Fresh("t"));
    last_->add_output(outs.back());
  }
  return outs;
}

OnnxBuilder& OnnxBuilder::AttrInt(const std::string& k, int64_t v) {
  auto* a = last_->add_attribute();
  a->set_name(k);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
  return *this;
}

OnnxBuilder& OnnxBuilder::AttrFloat(const std::string& k, float v) {
  auto* a = last_->add_attribute();
  a->set_name(k);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(v);
  return *this;
}

OnnxBuilder& OnnxBuilder::AttrStr(const std::string& k, const std::string& v) {
  auto* a = last_->add_attribute();
  a->set_name(k);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(v);
  return *this;
}

OnnxBuilder& OnnxBuilder::AttrInts(const std::vector<int64_t>& v, const std::string& k) {
  auto* a = last_->add_attribute();
  a->set_name(k);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
  return *this;
}

void OnnxBuilder::Metadata(const std::string& k, const std::string& v) {
  auto* m = model_->add_metadata_props();
  m->set_key(k);
  m->set_value(v);
}

std::string OnnxBuilder::Serialize() const { return model_->SerializeAsString(); }

Status OnnxBuilder::Save(const std::string& path) const {
  return WriteFileAtomic(path, Serialize());
}

std::vector<float> RandomVector(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

std::string Model(int64_t c, int64_t h, int64_t w,
                  const std::function<std::string(OnnxBuilder&, const std::string&)>& body) {
  OnnxBuilder b(13, 11);
  std::string x = b.Input("images", {1, c, h, w});
  b.Output(body(b, x));
  return b.Serialize();
}

std::string Conv(OnnxBuilder& b, const std::string& x, int64_t cin, int64_t cout, int64_t k,
                 int64_t stride, int64_t group) {
  std::string y = b.Op1("Conv", {x, b.Rand({cout, cin / group, k, k}, 0.5f), b.Rand({cout}, 0.3f)});
  int64_t p = k / 2;
  b.AttrInts({p, p, p, p}, "pads").AttrInts({stride, stride}, "strides").AttrInt("group", group);
  return y;
}

std::string Silu(OnnxBuilder& b, const std::string& y) {
  return b.Op1("Mul", {y, b.Op1("Sigmoid", {y})});
}

std::string ValuePreservingChain(OnnxBuilder& b, const std::string& x) {
  std::string a = Silu(b, Conv(b, x, 5, 16, 3));
  std::string p = b.Op1("MaxPool", {a});
  b.AttrInts({5, 5}, "kernel_shape").AttrInts({2, 2, 2, 2}, "pads");
  std::string p2 = b.Op1("MaxPool", {p});
  b.AttrInts({2, 2}, "kernel_shape").AttrInts({2, 2}, "strides");
  std::string u = b.Op1("Resize", {p2, "", b.Init({4}, {1, 1, 2, 2})});
  b.AttrStr("mode", "nearest");
  std::string cat = b.Op1("Concat", {a, p, u});
  b.AttrInt("axis", 1);
  auto parts = b.Op("Split", {cat, b.Ints({16, 32})}, 2);
  b.AttrInt("axis", 1);
  std::string s = b.Op1("Slice", {parts[1], b.Ints({3}), b.Ints({29}), b.Ints({1})});
  std::string y = Conv(b, parts[0], 16, 7, 3);
  std::string z = Conv(b, s, 26, 7, 1);
  return b.Op1("Add", {y, z});
}

}  // namespace vqi::infer::onednn::testing
