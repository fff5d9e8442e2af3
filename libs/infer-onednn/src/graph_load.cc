// ONNX protobuf -> graph IR.
#include <onnx/onnx_pb.h>

#include <cstring>
#include <fstream>
#include <limits>
#include <queue>
#include <set>
#include <sstream>
#include <unordered_map>

#include "graph.h"
#include "onednn_limits.h"

namespace vqi::infer::onednn {

int64_t NumElements(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s)
    if (__builtin_mul_overflow(n, d, &n)) return std::numeric_limits<int64_t>::max();
  return n;
}

std::string ShapeString(const Shape& s) {
  std::string r = "[";
  for (size_t k = 0; k < s.size(); ++k) r += (k ? "," : "") + std::to_string(s[k]);
  return r + "]";
}

int64_t Node::Int(const std::string& k, int64_t def) const {
  auto it = attrs.find(k);
  return it == attrs.end() ? def : it->second.i;
}
float Node::Float(const std::string& k, float def) const {
  auto it = attrs.find(k);
  return it == attrs.end() ? def : it->second.f;
}
std::string Node::Str(const std::string& k, const std::string& def) const {
  auto it = attrs.find(k);
  return it == attrs.end() ? def : it->second.s;
}
std::vector<int64_t> Node::Ints(const std::string& k) const {
  auto it = attrs.find(k);
  return it == attrs.end() ? std::vector<int64_t>{} : it->second.ints;
}
std::string Node::Where() const { return "node '" + name + "' (" + op + ")"; }

int Graph::AddTensor(Tensor t) {
  tensors.push_back(std::move(t));
  return static_cast<int>(tensors.size()) - 1;
}

std::vector<int> Graph::Consumers(int t) const {
  std::vector<int> r;
  for (size_t n = 0; n < nodes.size(); ++n) {
    if (nodes[n].dead) continue;
    for (int x : nodes[n].in)
      if (x == t) r.push_back(static_cast<int>(n));
  }
  return r;
}

namespace {

float HalfToFloat(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
  if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else {  // subnormal: normalize
      int e = -1;
      do {
        ++e;
        man <<= 1;
      } while (!(man & 0x400));
      bits = sign | (static_cast<uint32_t>(127 - 15 - e) << 23) | ((man & 0x3ff) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (man << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

template <typename T>
bool ReadRaw(const std::string& raw, int64_t n, std::vector<T>* out) {
  if (raw.size() != static_cast<size_t>(n) * sizeof(T)) return false;
  out->resize(n);
  if (n) std::memcpy(out->data(), raw.data(), raw.size());
  return true;
}

// Converts a TensorProto (initializer or Constant value) into `t`.
Status ReadTensor(const onnx::TensorProto& p, const std::string& where, Tensor* t) {
  t->is_const = true;
  t->shape_known = true;
  t->shape.clear();
  if (p.dims_size() > kMaxTensorRank)
    return InvalidArgument(where + ": rank " + std::to_string(p.dims_size()) + " above " +
                           std::to_string(kMaxTensorRank));
  for (int64_t d : p.dims()) {
    if (d < 0) return InvalidArgument(where + ": negative dimension");
    t->shape.push_back(d);
  }
  const int64_t n = NumElements(t->shape);
  if (n > kMaxTensorElements)
    return ResourceExhausted(where + ": shape " + ShapeString(t->shape) + " exceeds the limit of " +
                             std::to_string(kMaxTensorElements) + " elements per tensor" + kLimitsDoc);
  if (p.data_location() == onnx::TensorProto::EXTERNAL)
    return Unimplemented(where + ": external tensor data is not supported");
  const std::string& raw = p.raw_data();
  t->elem_type = p.data_type();
  bool ok = true;
  switch (p.data_type()) {
    case onnx::TensorProto::FLOAT:
      t->dtype = DType::kFloat;
      if (!raw.empty() || p.float_data_size() == 0) {
        ok = ReadRaw(raw, n, &t->f);
      } else {
        ok = p.float_data_size() == n;
        t->f.assign(p.float_data().begin(), p.float_data().end());
      }
      break;
    case onnx::TensorProto::DOUBLE: {
      t->dtype = DType::kFloat;
      std::vector<double> d;
      if (!raw.empty() || p.double_data_size() == 0) {
        ok = ReadRaw(raw, n, &d);
      } else {
        ok = p.double_data_size() == n;
        d.assign(p.double_data().begin(), p.double_data().end());
      }
      t->f.assign(d.begin(), d.end());
      break;
    }
    case onnx::TensorProto::FLOAT16: {  // widened to float at load
      t->dtype = DType::kFloat;
      std::vector<uint16_t> h;
      if (!raw.empty() || p.int32_data_size() == 0) {
        ok = ReadRaw(raw, n, &h);
      } else {
        ok = p.int32_data_size() == n;
        for (int32_t v : p.int32_data()) h.push_back(static_cast<uint16_t>(v));
      }
      t->f.resize(h.size());
      for (size_t k = 0; k < h.size(); ++k) t->f[k] = HalfToFloat(h[k]);
      break;
    }
    case onnx::TensorProto::INT64:
      t->dtype = DType::kInt64;
      if (!raw.empty() || p.int64_data_size() == 0) {
        ok = ReadRaw(raw, n, &t->i);
      } else {
        ok = p.int64_data_size() == n;
        t->i.assign(p.int64_data().begin(), p.int64_data().end());
      }
      break;
    case onnx::TensorProto::INT32:
    case onnx::TensorProto::INT8:
    case onnx::TensorProto::UINT8:
    case onnx::TensorProto::BOOL: {
      t->dtype = DType::kInt64;
      int dt = p.data_type();
      if (!raw.empty() || p.int32_data_size() == 0) {
        if (dt == onnx::TensorProto::INT32) {
          std::vector<int32_t> v;
          ok = ReadRaw(raw, n, &v);
          t->i.assign(v.begin(), v.end());
        } else if (dt == onnx::TensorProto::INT8) {
          std::vector<int8_t> v;
          ok = ReadRaw(raw, n, &v);
          t->i.assign(v.begin(), v.end());
        } else {
          std::vector<uint8_t> v;
          ok = ReadRaw(raw, n, &v);
          t->i.assign(v.begin(), v.end());
        }
      } else {
        ok = p.int32_data_size() == n;
        t->i.assign(p.int32_data().begin(), p.int32_data().end());
      }
      break;
    }
    default:
      return Unimplemented(where + ": tensor data type " + std::to_string(p.data_type()) +
                           " is not supported");
  }
  if (!ok)
    return InvalidArgument(where + ": data size does not match shape " + ShapeString(t->shape));
  return Status::Ok();
}

Status ReadAttr(const onnx::AttributeProto& a, const std::string& where, Attr* out) {
  switch (a.type()) {
    case onnx::AttributeProto::INT:
      out->kind = Attr::kInt;
      out->i = a.i();
      break;
    case onnx::AttributeProto::FLOAT:
      out->kind = Attr::kFloat;
      out->f = a.f();
      break;
    case onnx::AttributeProto::STRING:
      out->kind = Attr::kString;
      out->s = a.s();
      break;
    case onnx::AttributeProto::INTS:
      out->kind = Attr::kInts;
      out->ints.assign(a.ints().begin(), a.ints().end());
      break;
    case onnx::AttributeProto::FLOATS:
      out->kind = Attr::kFloats;
      out->floats.assign(a.floats().begin(), a.floats().end());
      break;
    case onnx::AttributeProto::TENSOR:
      out->kind = Attr::kTensor;
      return ReadTensor(a.t(), where + " attribute '" + a.name() + "'", &out->t);
    default:
      // Graph/sparse attributes: keep the name so the op check reports the node.
      out->kind = Attr::kString;
      break;
  }
  return Status::Ok();
}

}  // namespace

Result<Graph> LoadOnnxGraph(const std::string& bytes, const std::string& source,
                            const LoadOptions& options) {
  onnx::ModelProto model;
  if (bytes.empty()) return InvalidArgument(source + ": empty file, not an ONNX model");
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()) ||
      !model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return DataLoss(source + ": not an ONNX model (protobuf parse failed; truncated?)");
  return LoadOnnxModel(model, source, options);
}

Result<Graph> LoadOnnxModel(const onnx::ModelProto& model, const std::string& source,
                            const LoadOptions& options) {
  if (!model.has_graph() || model.graph().node_size() == 0)
    return InvalidArgument(source + ": model has no graph nodes");
  if (model.graph().node_size() > kMaxNodes)
    return ResourceExhausted(source + ": graph has " + std::to_string(model.graph().node_size()) +
                             " nodes, above the limit of " + std::to_string(kMaxNodes) + kLimitsDoc);

  Graph g;
  g.opset = 0;
  for (const auto& o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") g.opset = o.version();
  if (g.opset == 0) g.opset = 13;
  for (const auto& m : model.metadata_props()) g.metadata[m.key()] = m.value();

  const onnx::GraphProto& gp = model.graph();
  std::unordered_map<std::string, int> ids;
  for (const auto& init : gp.initializer()) {
    Tensor t;
    t.name = init.name();
    VQI_RETURN_IF_ERROR(ReadTensor(init, source + ": initializer '" + init.name() + "'", &t));
    int id = g.AddTensor(std::move(t));
    ids[init.name()] = id;
  }
  // Graph inputs that are not initializers: exactly one, float, static (batch may be symbolic).
  for (const auto& vi : gp.input()) {
    if (ids.count(vi.name())) continue;
    if (g.input >= 0) return InvalidArgument(source + ": more than one graph input");
    Tensor t;
    t.name = vi.name();
    const auto& tt = vi.type().tensor_type();
    // float64 inputs are fed float32 values (converted at the boundary, like ONNX Runtime's
    // callers do); the graph's own Cast to float is then a copy.
    if (tt.elem_type() != onnx::TensorProto::FLOAT && tt.elem_type() != onnx::TensorProto::DOUBLE)
      return InvalidArgument(source + ": input '" + t.name + "' has element type " +
                             std::to_string(tt.elem_type()) + " (accepted: float32, float64)");
    if (!tt.has_shape()) return InvalidArgument(source + ": input '" + t.name + "' has no shape");
    if (tt.shape().dim_size() > kMaxTensorRank)
      return InvalidArgument(source + ": input '" + t.name + "' has rank " +
                             std::to_string(tt.shape().dim_size()) + " above " +
                             std::to_string(kMaxTensorRank));
    for (int k = 0; k < tt.shape().dim_size(); ++k) {
      const auto& d = tt.shape().dim(k);
      if (d.has_dim_value() && d.dim_value() > 0) {
        t.shape.push_back(d.dim_value());
      } else if (k == 0) {
        t.shape.push_back(options.batch);
      } else {
        return InvalidArgument(source + ": input '" + t.name + "' dimension " + std::to_string(k) +
                               " ('" + d.dim_param() +
                               "') cannot be resolved statically; export with a fixed size");
      }
    }
    t.shape_known = true;
    if (NumElements(t.shape) > kMaxTensorElements)
      return ResourceExhausted(source + ": input '" + t.name + "' of shape " +
                               ShapeString(t.shape) + " exceeds the limit of " +
                               std::to_string(kMaxTensorElements) + " elements per tensor" + kLimitsDoc);
    std::string name = t.name;
    g.input = g.AddTensor(std::move(t));
    ids[name] = g.input;
  }
  if (g.input < 0) return InvalidArgument(source + ": model has no non-constant input");
  if (gp.output_size() != 1)
    return InvalidArgument(source + ": expected exactly one graph output, found " +
                           std::to_string(gp.output_size()));

  // Nodes; outputs get fresh tensors. Sorted topologically below.
  std::vector<Node> pending;
  for (int k = 0; k < gp.node_size(); ++k) {
    const auto& np = gp.node(k);
    Node n;
    n.name = np.name().empty() ? "#" + std::to_string(k) : np.name();
    n.op = np.op_type();
    if (!np.domain().empty() && np.domain() != "ai.onnx")
      return Unimplemented(source + ": " + n.Where() + ": operator domain '" + np.domain() +
                           "' is not supported");
    for (const auto& a : np.attribute()) {
      Attr at;
      VQI_RETURN_IF_ERROR(ReadAttr(a, source + ": " + n.Where(), &at));
      n.attrs[a.name()] = std::move(at);
    }
    pending.push_back(std::move(n));
  }
  // Topological sort (Kahn, O(E log N)): a node is scheduled once every input name is
  // available; `waiting` maps a missing name to the nodes that wait for it. The order is the
  // one of repeated sweeps over the file (what earlier versions did, quadratically): key
  // (sweep, index), where a node made ready by a later node in the file waits for the next
  // sweep. Sorted files keep their order; fusions depend on producer-before-consumer indices.
  std::unordered_map<std::string, std::vector<size_t>> waiting;
  std::vector<int> missing(pending.size(), 0);
  std::vector<int64_t> sweep(pending.size(), 0);
  using Key = std::pair<int64_t, size_t>;
  std::priority_queue<Key, std::vector<Key>, std::greater<Key>> ready;
  for (size_t k = 0; k < pending.size(); ++k) {
    std::set<std::string> seen;
    for (const auto& in : gp.node(static_cast<int>(k)).input())
      if (!in.empty() && !ids.count(in) && seen.insert(in).second) {
        waiting[in].push_back(k);
        ++missing[k];
      }
    if (missing[k] == 0) ready.push({0, k});
  }
  while (!ready.empty()) {
    const size_t k = ready.top().second;
    ready.pop();
    const auto& np = gp.node(static_cast<int>(k));
    Node n = std::move(pending[k]);
    for (const auto& in : np.input()) n.in.push_back(in.empty() ? -1 : ids.at(in));
    for (const auto& out : np.output()) {
      if (out.empty()) {
        n.out.push_back(-1);
        continue;
      }
      if (ids.count(out))
        return InvalidArgument(source + ": " + n.Where() + ": output '" + out +
                               "' is defined twice");
      Tensor t;
      t.name = out;
      t.producer = static_cast<int>(g.nodes.size());
      int id = g.AddTensor(std::move(t));
      ids[out] = id;
      n.out.push_back(id);
      auto w = waiting.find(out);
      if (w == waiting.end()) continue;
      for (size_t j : w->second) {
        sweep[j] = std::max(sweep[j], sweep[k] + (j < k ? 1 : 0));
        if (--missing[j] == 0) ready.push({sweep[j], j});
      }
      waiting.erase(w);
    }
    g.nodes.push_back(std::move(n));
  }
  if (g.nodes.size() < pending.size()) {
    for (size_t k = 0; k < pending.size(); ++k) {
      if (missing[k] == 0) continue;
      for (const auto& in : gp.node(static_cast<int>(k)).input())
        if (!in.empty() && !ids.count(in))
          return InvalidArgument(source + ": " + pending[k].Where() + ": input '" + in +
                                 "' is never produced (or the graph has a cycle)");
    }
  }
  const std::string& out_name = gp.output(0).name();
  if (!ids.count(out_name))
    return InvalidArgument(source + ": graph output '" + out_name + "' is never produced");
  g.output = ids[out_name];
  return g;
}

Result<Graph> LoadOnnxFile(const std::string& path, const LoadOptions& options) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return NotFound(path + ": cannot open model file");
  std::stringstream ss;
  ss << f.rdbuf();
  return LoadOnnxGraph(ss.str(), path, options);
}

}  // namespace vqi::infer::onednn
