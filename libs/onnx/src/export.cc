#include "vqi/onnx/export.h"

#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>

#include <set>

#include "graph_builder.h"
#include "proto_util.h"
#include "vqi/base/file.h"
#include "vqi/onnx/weights.h"
#include "yolo_graph.h"

namespace vqi::onnx {

namespace {

void SetTensorType(::onnx::ValueInfoProto* v, const std::string& name,
                   const std::vector<int64_t>& dims) {
  v->set_name(name);
  auto* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(::onnx::TensorProto::FLOAT);
  for (int64_t d : dims) t->mutable_shape()->add_dim()->set_dim_value(d);
}

// Python's repr of a str, as Ultralytics' str(dict) writes class names.
std::string PyRepr(const std::string& s) {
  const bool dq = s.find('\'') != std::string::npos && s.find('"') == std::string::npos;
  const char q = dq ? '"' : '\'';
  std::string r(1, q);
  for (char c : s) {
    if (c == '\\' || c == q) r += '\\';
    r += c;
  }
  return r + q;
}

void AddMeta(::onnx::ModelProto* m, const std::string& k, const std::string& v) {
  auto* p = m->add_metadata_props();
  p->set_key(k);
  p->set_value(v);
}

std::vector<int64_t> Dims(const ::onnx::ValueInfoProto& v) {
  std::vector<int64_t> d;
  for (const auto& dim : v.type().tensor_type().shape().dim())
    d.push_back(dim.has_dim_value() ? dim.dim_value() : -1);
  return d;
}

}  // namespace

Status ParseModel(const std::string& bytes, const std::string& where, ::onnx::ModelProto* m) {
  if (bytes.empty()) return DataLoss(where + ": empty file, not an ONNX model");
  if (!m->ParseFromString(bytes))
    return DataLoss(where + ": not an ONNX model (protobuf parse failed: truncated or not ONNX)");
  if (!m->has_graph() || m->graph().node_size() == 0)
    return DataLoss(where + ": not an ONNX model (no graph)");
  return Status::Ok();
}

Result<OnnxSummary> CheckModel(const ::onnx::ModelProto& m, const std::string& where) {
  ::onnx::ModelProto inferred = m;
  try {
    ::onnx::checker::check_model(m);
    ::onnx::shape_inference::InferShapes(inferred, ::onnx::OpSchemaRegistry::Instance(),
                                         ::onnx::ShapeInferenceOptions(true, 1, false));
  } catch (const std::exception& e) {
    return InvalidArgument(where + ": ONNX check failed: " + e.what());
  }
  OnnxSummary s;
  const ::onnx::GraphProto& g = inferred.graph();
  std::set<std::string> inits;
  for (const auto& t : g.initializer()) {
    inits.insert(t.name());
    int64_t bytes = t.has_raw_data() ? static_cast<int64_t>(t.raw_data().size()) : 0;
    s.initializer_bytes[::onnx::TensorProto::DataType_Name(
        static_cast<::onnx::TensorProto::DataType>(t.data_type()))] += bytes;
  }
  for (const auto& in : g.input()) {
    if (inits.count(in.name())) continue;
    s.input_name = in.name();
    s.input_shape = Dims(in);
    s.input_dtype = in.type().tensor_type().elem_type();
    break;
  }
  if (g.output_size() > 0) {
    s.output_name = g.output(0).name();
    s.output_shape = Dims(g.output(0));
    s.output_dtype = g.output(0).type().tensor_type().elem_type();
  }
  for (const auto& op : m.opset_import())
    if (op.domain().empty() || op.domain() == "ai.onnx") s.opset = op.version();
  s.node_count = g.node_size();
  for (const auto& n : g.node()) s.op_counts[n.op_type()]++;
  for (const auto& p : m.metadata_props()) s.metadata[p.key()] = p.value();
  return s;
}

Result<OnnxSummary> CheckOnnx(const std::string& bytes, const std::string& where) {
  ::onnx::ModelProto m;
  VQI_RETURN_IF_ERROR(ParseModel(bytes, where, &m));
  return CheckModel(m, where);
}

Result<OnnxSummary> CheckOnnxFile(const std::string& path) {
  VQI_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  return CheckOnnx(bytes, path);
}

Result<std::string> ExportOnnx(const model::Checkpoint& ckpt, const ExportOptions& options,
                               const std::string& where) {
  VQI_RETURN_IF_ERROR(ckpt.model.Validate());
  VQI_RETURN_IF_ERROR(CheckWeights(ckpt, where));
  const model::ModelConfig& cfg = ckpt.model;
  ::onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("vqi");
  m.set_producer_version("0.1.0");
  m.set_model_version(1);
  auto* opset = m.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOpset);
  ::onnx::GraphProto* g = m.mutable_graph();
  g->set_name("vqi_yolov8_detect");
  SetTensorType(g->add_input(), kInputName, {1, 3, cfg.input_h, cfg.input_w});
  SetTensorType(g->add_output(), kOutputName, {1, 4 + cfg.nc(), model::NumAnchors(cfg)});
  GraphBuilder b(g);
  VQI_RETURN_IF_ERROR(EmitYolo(ckpt, b, kInputName, kOutputName));
  if (options.float16_weights) ConvertConvWeightsToFloat16(&m);

  std::string names = "{";
  for (int i = 0; i < cfg.nc(); ++i)
    names += (i ? ", " : "") + std::to_string(i) + ": " + PyRepr(cfg.class_names[i]);
  names += "}";
  AddMeta(&m, "description", "vqi YOLOv8-" + cfg.scale + " detector " + cfg.name);
  AddMeta(&m, "author", "vqi");
  AddMeta(&m, "version", "0.1.0");
  AddMeta(&m, "stride", std::to_string(cfg.strides.back()));
  AddMeta(&m, "task", "detect");
  AddMeta(&m, "batch", "1");
  AddMeta(&m, "imgsz", "[" + std::to_string(cfg.input_h) + ", " + std::to_string(cfg.input_w) + "]");
  AddMeta(&m, "names", names);
  AddMeta(&m, "vqi.model_name", cfg.name);
  AddMeta(&m, "vqi.model_version", options.model_version);
  AddMeta(&m, "vqi.scale", cfg.scale);
  AddMeta(&m, "vqi.run_id", ckpt.run_id);
  AddMeta(&m, "vqi.split_digest", ckpt.split_digest);
  AddMeta(&m, "vqi.epoch", std::to_string(ckpt.epoch));
  AddMeta(&m, "vqi.class_names", Json(cfg.class_names).dump());
  AddMeta(&m, "vqi.weights", options.float16_weights ? "float16" : "float32");
  AddMeta(&m, "vqi.metrics", ckpt.metrics.dump());

  VQI_ASSIGN_OR_RETURN(OnnxSummary s, CheckModel(m, where + " (exported)"));
  (void)s;
  std::string bytes;
  if (!m.SerializeToString(&bytes)) return Internal(where + ": ONNX serialization failed");
  return bytes;
}

Status ExportOnnxFile(const std::string& checkpoint_path, const std::string& out_path,
                      const ExportOptions& options) {
  VQI_ASSIGN_OR_RETURN(model::Checkpoint ck, model::ReadCheckpoint(checkpoint_path));
  VQI_ASSIGN_OR_RETURN(std::string bytes, ExportOnnx(ck, options, checkpoint_path));
  return WriteFileAtomic(out_path, bytes);
}

}  // namespace vqi::onnx
