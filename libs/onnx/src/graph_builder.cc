#include "graph_builder.h"

#include <cstring>

namespace vqi::onnx {

std::string GraphBuilder::Constant(const std::string& name, const std::vector<int64_t>& shape,
                                   const std::vector<float>& values) {
  ::onnx::TensorProto* t = g_->add_initializer();
  t->set_name(name);
  t->set_data_type(::onnx::TensorProto::FLOAT);
  for (int64_t d : shape) t->add_dims(d);
  t->set_raw_data(std::string(reinterpret_cast<const char*>(values.data()),
                              values.size() * sizeof(float)));
  return name;
}

std::string GraphBuilder::Int64s(const std::string& name, const std::vector<int64_t>& values) {
  ::onnx::TensorProto* t = g_->add_initializer();
  t->set_name(name);
  t->set_data_type(::onnx::TensorProto::INT64);
  t->add_dims(static_cast<int64_t>(values.size()));
  t->set_raw_data(std::string(reinterpret_cast<const char*>(values.data()),
                              values.size() * sizeof(int64_t)));
  return name;
}

std::string GraphBuilder::Node(const std::string& op, const std::string& name,
                               const std::vector<std::string>& inputs,
                               std::initializer_list<Attr> attrs, const std::string& output) {
  ::onnx::NodeProto* n = g_->add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (const std::string& in : inputs) n->add_input(in);
  const std::string out = output.empty() ? name + "_output_0" : output;
  n->add_output(out);
  for (const Attr& a : attrs) {
    ::onnx::AttributeProto* p = n->add_attribute();
    p->set_name(a.name);
    switch (a.kind) {
      case Attr::kInt:
        p->set_type(::onnx::AttributeProto::INT);
        p->set_i(a.i);
        break;
      case Attr::kInts:
        p->set_type(::onnx::AttributeProto::INTS);
        for (int64_t v : a.ints) p->add_ints(v);
        break;
      case Attr::kFloat:
        p->set_type(::onnx::AttributeProto::FLOAT);
        p->set_f(a.f);
        break;
    }
  }
  return out;
}

}  // namespace vqi::onnx
