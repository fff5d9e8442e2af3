#include "vqi/onnx/quantize.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <numeric>
#include <set>

#include "proto_util.h"

namespace vqi::onnx {
namespace {

const std::set<std::string>& LinkOps() {
  static const std::set<std::string> ops = {"MaxPool", "Resize", "Concat", "Split", "Slice"};
  return ops;
}

int64_t DefaultOpset(const ::onnx::ModelProto& m) {
  for (const auto& o : m.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") return o.version();
  return 0;
}

std::string Where(const std::string& file, const ::onnx::NodeProto& n) {
  return file + ": node '" + n.name() + "' (" + n.op_type() + ")";
}

std::string AttrString(const ::onnx::NodeProto& n, const std::string& name,
                       const std::string& def) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return a.s();
  return def;
}

// The float values of a FLOAT initializer (float_data or little-endian raw_data).
Result<std::vector<float>> Floats(const ::onnx::TensorProto& t, const std::string& where) {
  const int64_t n =
      std::accumulate(t.dims().begin(), t.dims().end(), int64_t{1}, std::multiplies<int64_t>());
  std::vector<float> v;
  if (t.has_raw_data()) {
    if (t.raw_data().size() != static_cast<size_t>(n) * 4)
      return DataLoss(where + ": initializer '" + t.name() + "' holds " +
                      std::to_string(t.raw_data().size()) + " bytes, its dims need " +
                      std::to_string(n * 4));
    v.resize(static_cast<size_t>(n));
    std::memcpy(v.data(), t.raw_data().data(), t.raw_data().size());
  } else {
    if (t.float_data_size() != n)
      return DataLoss(where + ": initializer '" + t.name() + "' holds " +
                      std::to_string(t.float_data_size()) + " floats, its dims need " +
                      std::to_string(n));
    v.assign(t.float_data().begin(), t.float_data().end());
  }
  return v;
}

::onnx::TensorProto Int8Tensor(const std::string& name, const std::vector<int64_t>& dims,
                               const std::vector<int8_t>& q) {
  ::onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(::onnx::TensorProto::INT8);
  for (int64_t d : dims) t.add_dims(d);
  t.set_raw_data(std::string(reinterpret_cast<const char*>(q.data()), q.size()));
  return t;
}

::onnx::TensorProto FloatTensor(const std::string& name, const std::vector<int64_t>& dims,
                                const std::vector<float>& f) {
  ::onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(::onnx::TensorProto::FLOAT);
  for (int64_t d : dims) t.add_dims(d);
  for (float x : f) t.add_float_data(x);
  return t;
}

// Union-find over tensor names.
class Groups {
 public:
  std::string Find(const std::string& x) {
    auto it = parent_.find(x);
    if (it == parent_.end()) {
      parent_[x] = x;
      return x;
    }
    if (it->second == x) return x;
    std::string r = Find(it->second);
    parent_[x] = r;
    return r;
  }
  void Union(const std::string& a, const std::string& b) {
    std::string ra = Find(a), rb = Find(b);
    if (ra != rb) parent_[rb] = ra;
  }
  const std::map<std::string, std::string>& Parents() const { return parent_; }

 private:
  std::map<std::string, std::string> parent_;
};

struct Analysis {
  std::set<std::string> constants;  // initializers and Constant outputs
  std::map<std::string, const ::onnx::TensorProto*> initializers;
};

Analysis Analyze(const ::onnx::GraphProto& g) {
  Analysis a;
  for (const auto& t : g.initializer()) {
    a.constants.insert(t.name());
    a.initializers[t.name()] = &t;
  }
  for (const auto& n : g.node())
    if (n.op_type() == "Constant")
      for (const auto& o : n.output()) a.constants.insert(o);
  return a;
}

Result<QuantizationPlan> Plan(const ::onnx::ModelProto& m, const std::string& where,
                              const std::vector<std::string>& keep_float) {
  const int64_t opset = DefaultOpset(m);
  if (opset < 13)
    return InvalidArgument(where + ": opset " + std::to_string(opset) +
                           " is too old for per-channel QDQ (needs 13 or later; re-export)");
  const ::onnx::GraphProto& g = m.graph();
  const Analysis a = Analyze(g);
  Groups groups;
  std::set<std::string> seeds;
  QuantizationPlan plan;
  std::map<std::string, std::string> producer_op;
  std::set<std::string> conv_names, asked(keep_float.begin(), keep_float.end());
  for (const auto& n : g.node()) {
    for (const auto& o : n.output()) producer_op[o] = n.op_type();
    if (n.op_type() == "Conv") conv_names.insert(n.name());
  }
  for (const auto& k : asked)
    if (!conv_names.count(k))
      return InvalidArgument(where + ": --keep-float '" + k + "' is not a Conv node of the model");
  for (const auto& n : g.node()) {
    if (n.op_type() == "QuantizeLinear" || n.op_type() == "DequantizeLinear" ||
        n.op_type() == "QLinearConv" || n.op_type() == "ConvInteger")
      return InvalidArgument(Where(where, n) + ": the model is already quantized");
    if (n.op_type() == "Conv") {
      if (n.input_size() < 2) return InvalidArgument(Where(where, n) + ": Conv without weights");
      auto w = a.initializers.find(n.input(1));
      if (w == a.initializers.end() || w->second->data_type() != ::onnx::TensorProto::FLOAT ||
          w->second->dims_size() != 4)
        return InvalidArgument(Where(where, n) + ": weights '" + n.input(1) +
                               "' are not a 4-D float32 initializer (quantize the float32 "
                               "model, not a float16 variant)");
      auto p = producer_op.find(n.input(0));
      const bool reads_input = !producer_op.count(n.input(0)) && !a.constants.count(n.input(0));
      if (asked.count(n.name()) || reads_input ||
          (p != producer_op.end() && p->second == "Softmax")) {
        plan.float_convs.push_back(n.name());
        continue;
      }
      ++plan.convs;
      if (!a.constants.count(n.input(0))) {
        seeds.insert(n.input(0));
        groups.Find(n.input(0));
      }
    } else if (LinkOps().count(n.op_type())) {
      if (n.op_type() == "Resize" && AttrString(n, "mode", "nearest") != "nearest") continue;
      if (n.input_size() < 1 || a.constants.count(n.input(0))) continue;
      const int ins = n.op_type() == "Concat" ? n.input_size() : 1;
      const int outs = n.op_type() == "Split" ? n.output_size() : 1;
      for (int i = 0; i < ins; ++i)
        if (!n.input(i).empty() && !a.constants.count(n.input(i)))
          groups.Union(n.output(0), n.input(i));
      for (int o = 1; o < outs; ++o)
        if (!n.output(o).empty()) groups.Union(n.output(0), n.output(o));
    }
  }
  std::set<std::string> quantized_roots;
  for (const auto& s : seeds) quantized_roots.insert(groups.Find(s));
  std::map<std::string, std::vector<std::string>> by_root;
  std::vector<std::string> names;
  for (const auto& [name, parent] : groups.Parents()) names.push_back(name);
  for (const auto& name : names) {
    std::string r = groups.Find(name);
    if (quantized_roots.count(r)) by_root[r].push_back(name);
  }
  for (auto& [root, members] : by_root) plan.groups.push_back(std::move(members));
  return plan;
}

}  // namespace

std::vector<std::string> QuantizationPlan::Activations() const {
  std::vector<std::string> all;
  for (const auto& g : groups) all.insert(all.end(), g.begin(), g.end());
  return all;
}

Result<QuantizationPlan> PlanQuantization(const std::string& onnx_bytes, const std::string& where,
                                          const std::vector<std::string>& keep_float) {
  ::onnx::ModelProto m;
  VQI_RETURN_IF_ERROR(ParseModel(onnx_bytes, where, &m));
  return Plan(m, where, keep_float);
}

Result<QuantizationPlan> PlanQuantization(const ::onnx::ModelProto& model, const std::string& where,
                                          const std::vector<std::string>& keep_float) {
  return Plan(model, where, keep_float);
}

void ActivationRanges::Observe(const std::string& name, const float* data, int64_t count) {
  Stats& s = stats_[name];
  double batch_max = 0;
  for (int64_t i = 0; i < count; ++i) {
    const float x = data[i];
    if (!std::isfinite(x)) continue;
    batch_max = std::max(batch_max, static_cast<double>(std::fabs(x)));
  }
  if (batch_max > 0 && batch_max >= s.range) {
    double range = s.range > 0 ? s.range : std::exp2(std::ceil(std::log2(batch_max)));
    int factor = 1;
    while (range <= batch_max) {
      range *= 2;
      factor *= 2;
    }
    if (factor > 1 && s.range > 0) {  // merge bins: the histogram now covers `range`
      std::vector<int64_t> merged(kBins, 0);
      for (int i = 0; i < kBins; ++i) merged[i / factor] += s.hist[i];
      s.hist = std::move(merged);
    }
    s.range = range;
  }
  s.max = std::max(s.max, batch_max);
  const double to_bin = s.range > 0 ? kBins / s.range : 0;
  for (int64_t i = 0; i < count; ++i) {
    const float x = data[i];
    if (!std::isfinite(x)) {
      ++s.non_finite;
      continue;
    }
    int b = static_cast<int>(std::fabs(x) * to_bin);
    s.hist[std::min(b, kBins - 1)]++;
    ++s.count;
  }
}

double ActivationRanges::MaxAbs(const std::string& name) const {
  auto it = stats_.find(name);
  return it == stats_.end() ? 0 : it->second.max;
}

int64_t ActivationRanges::NonFinite(const std::string& name) const {
  auto it = stats_.find(name);
  return it == stats_.end() ? 0 : it->second.non_finite;
}

double ActivationRanges::Percentile(const std::string& name, double percentile) const {
  auto it = stats_.find(name);
  if (it == stats_.end() || it->second.count == 0) return 0;
  const Stats& s = it->second;
  const double want = std::clamp(percentile, 0.0, 100.0) / 100.0 * static_cast<double>(s.count);
  int64_t cum = 0;
  for (int b = 0; b < kBins; ++b) {
    cum += s.hist[b];
    if (static_cast<double>(cum) >= want) return std::min(s.max, (b + 1) * s.range / kBins);
  }
  return s.max;
}

Result<std::map<std::string, float>> GroupScales(const QuantizationPlan& plan,
                                                 const ActivationRanges& ranges,
                                                 const QuantizeOptions& options) {
  if (options.method != "minmax" && options.method != "percentile")
    return InvalidArgument("unknown calibration method '" + options.method +
                           "' (minmax | percentile)");
  if (options.method == "percentile" && !(options.percentile > 0 && options.percentile <= 100))
    return InvalidArgument("percentile must be in (0, 100], got " +
                           std::to_string(options.percentile));
  std::map<std::string, float> scales;
  for (const auto& group : plan.groups) {
    double r = 0;
    for (const auto& name : group) {
      if (!ranges.Has(name))
        return InvalidArgument("tensor '" + name + "' was not observed during calibration");
      r = std::max(r, options.method == "minmax" ? ranges.MaxAbs(name)
                                                 : ranges.Percentile(name, options.percentile));
    }
    // An all-zero (or never finite) group gets an arbitrary positive scale: every value is 0.
    const float s = r > 0 && std::isfinite(r) ? static_cast<float>(r / 127.0) : 1.0f;
    for (const auto& name : group) scales[name] = s;
  }
  return scales;
}

Result<std::string> WriteQdqModel(const std::string& onnx_bytes, const std::string& where,
                                  const QuantizationPlan& plan,
                                  const std::map<std::string, float>& scales,
                                  const QuantizeOptions& options) {
  ::onnx::ModelProto m;
  VQI_RETURN_IF_ERROR(ParseModel(onnx_bytes, where, &m));
  return WriteQdqModel(m, where, plan, scales, options);
}

Result<std::string> WriteQdqModel(const ::onnx::ModelProto& model, const std::string& where,
                                  const QuantizationPlan& plan,
                                  const std::map<std::string, float>& scales,
                                  const QuantizeOptions& options) {
  ::onnx::ModelProto m = model;  // the writer edits a copy
  VQI_ASSIGN_OR_RETURN(QuantizationPlan fresh, Plan(m, where, plan.float_convs));
  if (fresh.groups != plan.groups || fresh.float_convs != plan.float_convs)
    return InvalidArgument(where + ": the quantization plan was made for another model");
  ::onnx::GraphProto* g = m.mutable_graph();
  const Analysis a = Analyze(*g);

  std::set<std::string> used;  // every name in the graph, to keep new names unique
  for (const auto& t : g->initializer()) used.insert(t.name());
  for (const auto& i : g->input()) used.insert(i.name());
  for (const auto& n : g->node())
    for (const auto& o : n.output()) used.insert(o);
  auto fresh_name = [&used](const std::string& base) {
    std::string n = base;
    for (int k = 1; used.count(n); ++k) n = base + "_" + std::to_string(k);
    used.insert(n);
    return n;
  };

  std::set<std::string> activations;
  for (const auto& name : plan.Activations()) {
    auto it = scales.find(name);
    if (it == scales.end()) return InvalidArgument("no scale for tensor '" + name + "'");
    if (!(it->second > 0) || !std::isfinite(it->second))
      return InvalidArgument("scale of tensor '" + name + "' is not a positive number");
    activations.insert(name);
  }

  // Weights: INT8 per output channel behind DequantizeLinear(axis 0), same tensor name.
  std::vector<::onnx::NodeProto> head;  // weight DQ nodes, and QDQ of graph inputs
  std::set<std::string> weights;
  const std::set<std::string> float_convs(plan.float_convs.begin(), plan.float_convs.end());
  for (const auto& n : g->node())
    if (n.op_type() == "Conv" && !float_convs.count(n.name())) weights.insert(n.input(1));
  std::vector<::onnx::TensorProto> new_inits;
  int64_t weight_bytes_in = 0, weight_bytes_out = 0;
  for (const auto& w : weights) {
    const ::onnx::TensorProto& t = *a.initializers.at(w);
    VQI_ASSIGN_OR_RETURN(std::vector<float> f, Floats(t, where));
    std::vector<int64_t> dims(t.dims().begin(), t.dims().end());
    const int64_t oc = dims[0], per = oc ? static_cast<int64_t>(f.size()) / oc : 0;
    std::vector<float> s(static_cast<size_t>(oc));
    std::vector<int8_t> q(f.size());
    for (int64_t o = 0; o < oc; ++o) {
      float mx = 0;
      for (int64_t k = 0; k < per; ++k) {
        const float v = f[o * per + k];
        if (!std::isfinite(v))
          return InvalidArgument(where + ": weights '" + w + "' hold a non-finite value");
        mx = std::max(mx, std::fabs(v));
      }
      s[o] = mx > 0 ? mx / 127.0f : 1.0f;
      for (int64_t k = 0; k < per; ++k)
        q[o * per + k] =
            static_cast<int8_t>(std::clamp(std::nearbyint(f[o * per + k] / s[o]), -127.0f, 127.0f));
    }
    weight_bytes_in += static_cast<int64_t>(f.size()) * 4;
    weight_bytes_out += static_cast<int64_t>(q.size()) + oc * 5;
    const std::string qn = fresh_name(w + "_quantized"), sn = fresh_name(w + "_scale"),
                      zn = fresh_name(w + "_zero_point");
    new_inits.push_back(Int8Tensor(qn, dims, q));
    new_inits.push_back(FloatTensor(sn, {oc}, s));
    new_inits.push_back(Int8Tensor(zn, {oc}, std::vector<int8_t>(static_cast<size_t>(oc), 0)));
    ::onnx::NodeProto dq;
    dq.set_op_type("DequantizeLinear");
    dq.set_name(fresh_name(w + "_DequantizeLinear"));
    dq.add_input(qn);
    dq.add_input(sn);
    dq.add_input(zn);
    dq.add_output(w);
    auto* axis = dq.add_attribute();
    axis->set_name("axis");
    axis->set_type(::onnx::AttributeProto::INT);
    axis->set_i(0);
    head.push_back(dq);
  }
  {  // drop the float weights (and their graph-input entries, as older IRs list them)
    auto* inits = g->mutable_initializer();
    inits->erase(
        std::remove_if(inits->begin(), inits->end(),
                       [&](const ::onnx::TensorProto& t) { return weights.count(t.name()); }),
        inits->end());
    auto* inputs = g->mutable_input();
    inputs->erase(
        std::remove_if(inputs->begin(), inputs->end(),
                       [&](const ::onnx::ValueInfoProto& v) { return weights.count(v.name()); }),
        inputs->end());
    for (auto& t : new_inits) *g->add_initializer() = std::move(t);
  }

  // Activations: X -> QuantizeLinear -> DequantizeLinear -> X_dq, emitted right after X's
  // producer; Convs and linking ops read X_dq.
  std::map<std::string, std::string> dq_name;
  auto qdq = [&](const std::string& x) {
    const float s = scales.at(x);
    const std::string sn = fresh_name(x + "_scale"), zn = fresh_name(x + "_zero_point"),
                      qn = fresh_name(x + "_quantized"), dn = fresh_name(x + "_dequantized");
    *g->add_initializer() = FloatTensor(sn, {}, {s});
    *g->add_initializer() = Int8Tensor(zn, {}, {0});
    std::vector<::onnx::NodeProto> out(2);
    out[0].set_op_type("QuantizeLinear");
    out[0].set_name(fresh_name(x + "_QuantizeLinear"));
    out[0].add_input(x);
    out[0].add_input(sn);
    out[0].add_input(zn);
    out[0].add_output(qn);
    out[1].set_op_type("DequantizeLinear");
    out[1].set_name(fresh_name(x + "_DequantizeLinear"));
    out[1].add_input(qn);
    out[1].add_input(sn);
    out[1].add_input(zn);
    out[1].add_output(dn);
    dq_name[x] = dn;
    return out;
  };
  for (const auto& in : g->input())
    if (activations.count(in.name()))
      for (auto& n : qdq(in.name())) head.push_back(std::move(n));
  std::vector<::onnx::NodeProto> nodes = std::move(head);
  for (const auto& n : g->node()) {
    nodes.push_back(n);
    for (const auto& o : n.output())
      if (activations.count(o))
        for (auto& x : qdq(o)) nodes.push_back(std::move(x));
  }
  for (auto& n : nodes) {
    const bool reads_dq =
        (n.op_type() == "Conv" && !float_convs.count(n.name())) || LinkOps().count(n.op_type());
    if (!reads_dq) continue;
    const int ins = n.op_type() == "Concat" ? n.input_size() : std::min(1, n.input_size());
    for (int i = 0; i < ins; ++i) {
      auto it = dq_name.find(n.input(i));
      if (it != dq_name.end()) n.set_input(i, it->second);
    }
  }
  g->clear_node();
  for (auto& n : nodes) *g->add_node() = std::move(n);

  Json info = {{"format", "QDQ, int8 symmetric (zero points 0), per-output-channel Conv weights"},
               {"method", options.method},
               {"activation_groups", plan.groups.size()},
               {"activations", activations.size()},
               {"convs", plan.convs},
               {"float_convs", plan.float_convs},
               {"weight_bytes_float32", weight_bytes_in},
               {"weight_bytes_int8", weight_bytes_out}};
  if (options.method == "percentile") info["percentile"] = options.percentile;
  if (!options.provenance.is_null()) info["calibration"] = options.provenance;
  bool set = false;
  for (auto& p : *m.mutable_metadata_props())
    if (p.key() == "vqi.quantization") {
      p.set_value(info.dump());
      set = true;
    }
  if (!set) {
    auto* p = m.add_metadata_props();
    p->set_key("vqi.quantization");
    p->set_value(info.dump());
  }
  VQI_RETURN_IF_ERROR(CheckModel(m, where).status());
  std::string out;
  if (!m.SerializeToString(&out)) return Internal(where + ": ONNX serialization failed");
  return out;
}

}  // namespace vqi::onnx
