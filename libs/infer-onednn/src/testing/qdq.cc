#include "testing/qdq.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <vector>

#include "graph.h"
#include "ops.h"
#include "passes.h"
#include "testing/onnx_builder.h"

namespace vqi::infer::onednn::testing {
namespace {

bool ValuePreserving(const std::string& op) {
  return op == "MaxPool" || op == "Resize" || op == "Concat" || op == "Split" || op == "Slice";
}

// Data inputs of a value-preserving op (Concat: all; others: the first).
std::vector<std::string> DataInputs(const onnx::NodeProto& n) {
  std::vector<std::string> r;
  for (int k = 0; k < n.input_size(); ++k)
    if (!n.input(k).empty() && (n.op_type() == "Concat" || k == 0)) r.push_back(n.input(k));
  return r;
}

struct UnionFind {
  std::map<std::string, std::string> parent;
  std::string Find(const std::string& x) {
    auto it = parent.find(x);
    if (it == parent.end()) return parent[x] = x;
    if (it->second == x) return x;
    return it->second = Find(it->second);
  }
  void Join(const std::string& a, const std::string& b) { parent[Find(a)] = Find(b); }
};

void ScalarInit(onnx::GraphProto* g, const std::string& name, int type, const std::string& raw,
                const std::vector<int64_t>& dims) {
  auto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(type);
  for (int64_t d : dims) t->add_dims(d);
  t->set_raw_data(raw);
}

std::string FloatsRaw(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

}  // namespace

Result<std::string> QuantizeToQdq(const std::string& fp32_onnx, const QdqOptions& options) {
  // Calibration: max |x| of every tensor over the inputs (reference kernels, no fusion).
  VQI_ASSIGN_OR_RETURN(Graph g, LoadOnnxGraph(fp32_onnx, "qdq-input"));
  if (g.opset < 13) return InvalidArgument("QDQ with per-channel scales needs opset >= 13");
  VQI_RETURN_IF_ERROR(OptimizeGraph(&g, {.fuse = false}));
  std::map<std::string, float> absmax;
  for (int c = 0; c < options.calib_inputs; ++c) {
    std::vector<float> in = RandomVector(NumElements(g.tensors[g.input].shape),
                                         options.seed + static_cast<uint32_t>(c));
    for (float& v : in) v = (v + 1.f) * 0.5f;
    float& m0 = absmax[g.tensors[g.input].name];
    for (float v : in) m0 = std::max(m0, std::fabs(v));
    std::vector<float> out;
    VQI_RETURN_IF_ERROR(RefRun(g, in.data(), &out, [&](int t, const Tensor& v) {
      float& m = absmax[g.tensors[t].name];
      for (float x : v.f) m = std::max(m, std::fabs(x));
    }));
  }

  onnx::ModelProto model;
  model.ParseFromString(fp32_onnx);
  onnx::GraphProto* gp = model.mutable_graph();
  std::map<std::string, int> init_index;
  for (int k = 0; k < gp->initializer_size(); ++k) init_index[gp->initializer(k).name()] = k;

  // Activation sets linked through value-preserving ops; a set is quantized if it feeds a
  // quantized Conv.
  UnionFind uf;
  for (const auto& n : gp->node()) {
    if (!ValuePreserving(n.op_type())) continue;
    std::vector<std::string> ins = DataInputs(n);
    for (const auto& o : n.output())
      for (const auto& i : ins) uf.Join(i, o);
  }
  auto quantized_conv = [&](const onnx::NodeProto& n) {
    if (n.op_type() != "Conv" || n.input_size() < 2 || !init_index.count(n.input(1)) ||
        init_index.count(n.input(0)))
      return false;
    if (options.first_conv_float && n.input(0) == g.tensors[g.input].name) return false;
    const auto& w = gp->initializer(init_index[n.input(1)]);
    return w.dims_size() == 4 && w.dims(0) >= options.min_conv_channels &&
           w.data_type() == onnx::TensorProto::FLOAT;
  };
  std::set<std::string> q_roots;
  for (const auto& n : gp->node())
    if (quantized_conv(n)) q_roots.insert(uf.Find(n.input(0)));
  std::map<std::string, float> root_max;
  std::vector<std::string> names;  // every activation name in node order
  names.push_back(g.tensors[g.input].name);
  for (const auto& n : gp->node())
    for (const auto& o : n.output()) names.push_back(o);
  std::map<std::string, float> scale;
  for (const auto& x : names) {
    if (!q_roots.count(uf.Find(x))) continue;
    float& m = root_max[uf.Find(x)];
    m = std::max(m, absmax[x]);
  }
  for (const auto& x : names)
    if (q_roots.count(uf.Find(x))) {
      float m = root_max[uf.Find(x)];
      scale[x] = m > 0 ? m / 127.f : 1.f;
    }

  // Rebuild the node list: weight DequantizeLinear first, each quantized activation's
  // QuantizeLinear -> DequantizeLinear right after its producer.
  std::vector<onnx::NodeProto> old(gp->node().begin(), gp->node().end());
  gp->clear_node();
  std::set<std::string> dropped_weights;
  auto add_qdq = [&](const std::string& x) {
    auto it = scale.find(x);
    if (it == scale.end()) return;
    ScalarInit(gp, x + "_scale", onnx::TensorProto::FLOAT, FloatsRaw({it->second}), {});
    ScalarInit(gp, x + "_zp", onnx::TensorProto::INT8, std::string(1, '\0'), {});
    auto* q = gp->add_node();
    q->set_op_type("QuantizeLinear");
    q->set_name(x + "_Q");
    *q->add_input() = x;
    *q->add_input() = x + "_scale";
    *q->add_input() = x + "_zp";
    *q->add_output() = x + "_q";
    auto* d = gp->add_node();
    d->set_op_type("DequantizeLinear");
    d->set_name(x + "_DQ");
    *d->add_input() = x + "_q";
    *d->add_input() = x + "_scale";
    *d->add_input() = x + "_zp";
    *d->add_output() = x + "_dq";
  };
  for (auto& n : old) {
    if (!quantized_conv(n)) continue;
    const auto& w = gp->initializer(init_index[n.input(1)]);
    Tensor wt;
    std::vector<float> wf(w.raw_data().size() / 4);
    if (!w.raw_data().empty()) {
      std::memcpy(wf.data(), w.raw_data().data(), wf.size() * 4);
    } else {
      wf.assign(w.float_data().begin(), w.float_data().end());
    }
    int64_t oc = w.dims(0), per = static_cast<int64_t>(wf.size()) / oc;
    std::vector<float> ws(oc);
    std::string wq(wf.size(), '\0');
    for (int64_t c = 0; c < oc; ++c) {
      float m = 0;
      for (int64_t k = 0; k < per; ++k) m = std::max(m, std::fabs(wf[c * per + k]));
      ws[c] = m > 0 ? m / 127.f : 1.f;
      for (int64_t k = 0; k < per; ++k)
        wq[c * per + k] = static_cast<char>(static_cast<int8_t>(
            std::clamp(std::nearbyint(wf[c * per + k] / ws[c]), -127.f, 127.f)));
    }
    std::vector<int64_t> dims(w.dims().begin(), w.dims().end());
    std::string base = n.input(1);
    ScalarInit(gp, base + "_q", onnx::TensorProto::INT8, wq, dims);
    ScalarInit(gp, base + "_scale", onnx::TensorProto::FLOAT, FloatsRaw(ws), {oc});
    ScalarInit(gp, base + "_zp", onnx::TensorProto::INT8, std::string(oc, '\0'), {oc});
    auto* d = gp->add_node();
    d->set_op_type("DequantizeLinear");
    d->set_name(base + "_DQ");
    *d->add_input() = base + "_q";
    *d->add_input() = base + "_scale";
    *d->add_input() = base + "_zp";
    *d->add_output() = base + "_dq";
    auto* a = d->add_attribute();
    a->set_name("axis");
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(0);
    dropped_weights.insert(base);
  }
  add_qdq(g.tensors[g.input].name);
  for (auto& n : old) {
    bool qc = quantized_conv(n);
    if (qc) *n.mutable_input(1) += "_dq";
    for (int k = 0; k < n.input_size(); ++k) {
      bool reads_dq =
          (qc && k == 0) || (ValuePreserving(n.op_type()) && (n.op_type() == "Concat" || k == 0));
      if (reads_dq && scale.count(n.input(k))) *n.mutable_input(k) += "_dq";
    }
    *gp->add_node() = n;
    for (const auto& o : n.output()) add_qdq(o);
  }
  // Drop the float weights now read through DequantizeLinear.
  std::set<std::string> used;
  for (const auto& n : gp->node())
    for (const auto& i : n.input()) used.insert(i);
  auto* inits = gp->mutable_initializer();
  inits->erase(std::remove_if(inits->begin(), inits->end(),
                              [&](const onnx::TensorProto& t) {
                                return dropped_weights.count(t.name()) && !used.count(t.name());
                              }),
               inits->end());
  return model.SerializeAsString();
}

}  // namespace vqi::infer::onednn::testing
