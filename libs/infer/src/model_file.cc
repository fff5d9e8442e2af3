#include "vqi/infer/model_file.h"

#include <onnx/onnx_pb.h>

#include <filesystem>
#include <set>
#include <unordered_set>

#include "vqi/base/file.h"

namespace vqi::infer {

namespace {

std::string DimsStr(const std::vector<int64_t>& d) {
  std::string r = "[";
  for (size_t i = 0; i < d.size(); ++i) r += (i ? ", " : "") + std::to_string(d[i]);
  return r + "]";
}

std::vector<int64_t> Dims(const ::onnx::ValueInfoProto& v) {
  std::vector<int64_t> d;
  for (const auto& dim : v.type().tensor_type().shape().dim())
    d.push_back(dim.has_dim_value() ? dim.dim_value() : -1);
  return d;
}

// The operators of the default ONNX domain (ai.onnx, opsets 1-21). A node outside this set
// (and outside any other domain the file imports) is refused before a backend tries it.
// clang-format off
const std::unordered_set<std::string>& StandardOps() {
  static const std::unordered_set<std::string> kOps = {
      "Abs", "Acos", "Acosh", "Add", "AffineGrid", "And", "ArgMax", "ArgMin", "Asin", "Asinh",
      "Atan", "Atanh", "AveragePool", "BatchNormalization", "Bernoulli", "BitShift",
      "BitwiseAnd", "BitwiseNot", "BitwiseOr", "BitwiseXor", "BlackmanWindow", "Cast",
      "CastLike", "Ceil", "Celu", "CenterCropPad", "Clip", "Col2Im", "Compress", "Concat",
      "ConcatFromSequence", "Constant", "ConstantOfShape", "Conv", "ConvInteger",
      "ConvTranspose", "Cos", "Cosh", "CumSum", "DFT", "DeformConv", "DepthToSpace",
      "DequantizeLinear", "Det", "Div", "Dropout", "DynamicQuantizeLinear", "Einsum", "Elu",
      "Equal", "Erf", "Exp", "Expand", "EyeLike", "Flatten", "Floor", "GRU", "Gather",
      "GatherElements", "GatherND", "Gelu", "Gemm", "GlobalAveragePool", "GlobalLpPool",
      "GlobalMaxPool", "Greater", "GreaterOrEqual", "GridSample", "GroupNormalization",
      "HammingWindow", "HannWindow", "HardSigmoid", "HardSwish", "Hardmax", "Identity", "If",
      "ImageDecoder", "InstanceNormalization", "IsInf", "IsNaN", "LRN", "LSTM",
      "LayerNormalization", "LeakyRelu", "Less", "LessOrEqual", "Log", "LogSoftmax", "Loop",
      "LpNormalization", "LpPool", "MatMul", "MatMulInteger", "Max", "MaxPool", "MaxRoiPool",
      "MaxUnpool", "Mean", "MeanVarianceNormalization", "MelWeightMatrix", "Min", "Mish", "Mod",
      "Mul", "Multinomial", "Neg", "NegativeLogLikelihoodLoss", "NonMaxSuppression", "NonZero",
      "Not", "OneHot", "Optional", "OptionalGetElement", "OptionalHasElement", "Or", "PRelu",
      "Pad", "Pow", "QLinearConv", "QLinearMatMul", "QuantizeLinear", "RNN", "RandomNormal",
      "RandomNormalLike", "RandomUniform", "RandomUniformLike", "Range", "Reciprocal",
      "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMean",
      "ReduceMin", "ReduceProd", "ReduceSum", "ReduceSumSquare", "RegexFullMatch", "Relu",
      "Reshape", "Resize", "ReverseSequence", "RoiAlign", "Round", "STFT", "Scan", "Scatter",
      "ScatterElements", "ScatterND", "Selu", "SequenceAt", "SequenceConstruct",
      "SequenceEmpty", "SequenceErase", "SequenceInsert", "SequenceLength", "SequenceMap",
      "Shape", "Shrink", "Sigmoid", "Sign", "Sin", "Sinh", "Size", "Slice", "Softmax",
      "SoftmaxCrossEntropyLoss", "Softplus", "Softsign", "SpaceToDepth", "Split",
      "SplitToSequence", "Sqrt", "Squeeze", "StringConcat", "StringNormalizer", "StringSplit",
      "Sub", "Sum", "Tan", "Tanh", "TfIdfVectorizer", "ThresholdedRelu", "Tile", "TopK",
      "Transpose", "Trilu", "Unique", "Unsqueeze", "Upsample", "Where", "Xor"};
  return kOps;
}
// clang-format on

// Structure: every node is a known operator and reads only names that exist.
Status CheckGraph(const ::onnx::ModelProto& m, const std::string& where) {
  const ::onnx::GraphProto& g = m.graph();
  std::set<std::string> domains;
  for (const auto& op : m.opset_import())
    if (!op.domain().empty() && op.domain() != "ai.onnx") domains.insert(op.domain());
  std::unordered_set<std::string> defined;
  for (const auto& t : g.initializer()) defined.insert(t.name());
  for (const auto& v : g.input()) defined.insert(v.name());
  for (const auto& n : g.node())
    for (const auto& o : n.output()) defined.insert(o);
  for (int i = 0; i < g.node_size(); ++i) {
    const ::onnx::NodeProto& n = g.node(i);
    const std::string node =
        "node '" + (n.name().empty() ? std::to_string(i) : n.name()) + "' (" + n.op_type() + ")";
    const bool standard = n.domain().empty() || n.domain() == "ai.onnx";
    if (standard && !StandardOps().count(n.op_type()))
      return InvalidArgument(where + ": " + node + ": '" + n.op_type() +
                             "' is not an ONNX operator");
    if (!standard && !domains.count(n.domain()))
      return InvalidArgument(where + ": " + node + ": domain '" + n.domain() +
                             "' is not imported by the model");
    for (const auto& in : n.input())
      if (!in.empty() && !defined.count(in))
        return DataLoss(where + ": " + node + " reads '" + in +
                        "', which nothing defines (truncated or damaged file)");
  }
  for (const auto& o : g.output())
    if (!defined.count(o.name()))
      return DataLoss(where + ": output '" + o.name() + "' is never computed");
  return Status::Ok();
}

constexpr int32_t kFloat = ::onnx::TensorProto::FLOAT;
constexpr int32_t kDouble = ::onnx::TensorProto::DOUBLE;
constexpr int32_t kInt64 = ::onnx::TensorProto::INT64;

// Element types a detector may declare at its boundary. float32 is the contract; float64 at
// either end and int64 outputs are common in third-party exports (ONNX Runtime runs them), so
// they are accepted here and a backend converts them at its boundary or names what it cannot.
bool AcceptedInputType(int32_t t) { return t == kFloat || t == kDouble; }
bool AcceptedOutputType(int32_t t) { return t == kFloat || t == kDouble || t == kInt64; }
std::string TypeName(int32_t t) {
  return ::onnx::TensorProto::DataType_IsValid(t)
             ? ::onnx::TensorProto::DataType_Name(static_cast<::onnx::TensorProto::DataType>(t))
             : "type " + std::to_string(t);
}

Result<ModelInfo> CheckContract(const ::onnx::ModelProto& m, const std::string& where) {
  const ::onnx::GraphProto& g = m.graph();
  std::unordered_set<std::string> inits;
  for (const auto& t : g.initializer()) inits.insert(t.name());
  const ::onnx::ValueInfoProto* input = nullptr;
  for (const auto& v : g.input())
    if (!inits.count(v.name())) {
      if (input)
        return InvalidArgument(where + ": the model has more than one input ('" + input->name() +
                               "', '" + v.name() + "'), expected one [1, 3, H, W]");
      input = &v;
    }
  if (!input) return InvalidArgument(where + ": the model has no input");
  if (g.output_size() != 1)
    return InvalidArgument(where + ": the model has " + std::to_string(g.output_size()) +
                           " outputs, expected one [1, 4 + nc, N]");
  const std::string in_name = input->name(), out_name = g.output(0).name();
  const std::vector<int64_t> in = Dims(*input), out = Dims(g.output(0));
  if (in.size() != 4)
    return InvalidArgument(where + ": input '" + in_name + "' has rank " +
                           std::to_string(in.size()) + " " + DimsStr(in) +
                           ", expected rank 4 [1, 3, H, W]");
  for (int64_t d : in)
    if (d <= 0)
      return InvalidArgument(where + ": input '" + in_name + "' has dynamic shape " + DimsStr(in) +
                             "; export with static shapes [1, 3, H, W]");
  if (in[0] != 1 || in[1] != 3)
    return InvalidArgument(where + ": input '" + in_name + "' has shape " + DimsStr(in) +
                           ", expected [1, 3, H, W]");
  if (in[2] > kMaxInputSide || in[3] > kMaxInputSide)
    return ResourceExhausted(where + ": input '" + in_name + "' has shape " + DimsStr(in) +
                             ": larger than the limit of 8192 x 8192 (docs/limits.md)");
  if (int32_t t = input->type().tensor_type().elem_type(); !AcceptedInputType(t))
    return InvalidArgument(where + ": input '" + in_name + "' is " + TypeName(t) +
                           "; accepted: float32, float64");
  if (out.size() != 3 || out[0] != 1 || out[1] < 5 || out[2] <= 0)
    return InvalidArgument(where + ": output '" + out_name + "' has shape " + DimsStr(out) +
                           ", expected [1, 4 + nc, N]");
  if (out[1] > kMaxOutputValues / out[2])
    return ResourceExhausted(where + ": output '" + out_name + "' has shape " + DimsStr(out) +
                             ": more than the limit of 2^28 values (docs/limits.md)");
  if (int32_t t = g.output(0).type().tensor_type().elem_type(); !AcceptedOutputType(t))
    return InvalidArgument(where + ": output '" + out_name + "' is " + TypeName(t) +
                           "; accepted: float32, float64, int64");
  ModelInfo info;
  info.input_shape = in;
  info.output_shape = out;
  for (const auto& p : m.metadata_props()) info.metadata[p.key()] = p.value();
  return info;
}

}  // namespace

Result<OnnxModel> ParseOnnxModel(std::string bytes, const std::string& where) {
  if (bytes.empty()) return DataLoss(where + ": empty file, not an ONNX model");
  if (static_cast<int64_t>(bytes.size()) > kMaxModelBytes)
    return ResourceExhausted(where + ": " + std::to_string(bytes.size()) +
                             " bytes, more than the 2 GiB an ONNX file can hold (docs/limits.md)");
  auto proto = std::make_shared<::onnx::ModelProto>();
  if (!proto->ParseFromString(bytes))
    return DataLoss(where + ": not an ONNX model (protobuf parse failed: truncated or not ONNX)");
  if (!proto->has_graph() || proto->graph().node_size() == 0)
    return DataLoss(where + ": not an ONNX model (no graph)");
  VQI_RETURN_IF_ERROR(CheckGraph(*proto, where));
  VQI_ASSIGN_OR_RETURN(ModelInfo info, CheckContract(*proto, where));
  OnnxModel m;
  m.path = where;
  m.bytes = std::make_shared<const std::string>(std::move(bytes));
  m.proto = std::move(proto);
  m.info = std::move(info);
  return m;
}

Result<OnnxModel> LoadOnnxModel(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return InvalidArgument(path + ": is a directory, not a model file");
  if (!FileExists(path)) return NotFound(path + ": model file not found");
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && static_cast<int64_t>(size) > kMaxModelBytes)
    return ResourceExhausted(path + ": " + std::to_string(size) +
                             " bytes, more than the 2 GiB an ONNX file can hold (docs/limits.md)");
  VQI_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  return ParseOnnxModel(std::move(bytes), path);
}

Result<ModelInfo> InspectModel(const std::string& onnx_path) {
  VQI_ASSIGN_OR_RETURN(OnnxModel m, LoadOnnxModel(onnx_path));
  return m.info;
}

}  // namespace vqi::infer
