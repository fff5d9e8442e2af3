#include <onnx/onnx_pb.h>

#include <cstring>
#include <mutex>
#include <opencv2/core/utility.hpp>
#include <opencv2/dnn.hpp>

#include "vqi/infer/opencv.h"

namespace vqi::infer {

namespace {

int64_t Numel(const std::vector<int64_t>& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

// Serializes every OpenCV DNN run in the process: cv::setNumThreads is global.
std::mutex& RunMutex() {
  static std::mutex* mu = new std::mutex();
  return *mu;
}

// IEEE 754 binary16 -> binary32 (exact).
float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  int32_t exp = (h >> 10) & 0x1f;
  uint32_t man = h & 0x3ff;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (man << 13);  // inf / NaN
  } else if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else {  // subnormal: normalize
      exp = 1;
      while (!(man & 0x400)) man <<= 1, --exp;
      bits = sign | static_cast<uint32_t>(exp + 112) << 23 | (man & 0x3ff) << 13;
    }
  } else {
    bits = sign | static_cast<uint32_t>(exp + 112) << 23 | man << 13;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// The model bytes OpenCV reads: the file as is, or with FLOAT16 initializers widened to FLOAT
// (OpenCV 4.6 has no FLOAT16 tensors; the Cast(to=FLOAT) nodes after them become no-ops).
Result<std::shared_ptr<const std::string>> OpencvBytes(const OnnxModel& model) {
  bool has_half = false;
  for (const auto& t : model.proto->graph().initializer())
    has_half = has_half || t.data_type() == ::onnx::TensorProto::FLOAT16;
  if (!has_half) return model.bytes;
  ::onnx::ModelProto m = *model.proto;
  for (auto& t : *m.mutable_graph()->mutable_initializer()) {
    if (t.data_type() != ::onnx::TensorProto::FLOAT16) continue;
    std::vector<uint16_t> h;
    if (t.has_raw_data()) {
      h.resize(t.raw_data().size() / 2);
      std::memcpy(h.data(), t.raw_data().data(), h.size() * 2);
    } else {
      for (int32_t v : t.int32_data()) h.push_back(static_cast<uint16_t>(v));
    }
    std::string raw(h.size() * 4, '\0');
    for (size_t i = 0; i < h.size(); ++i) {
      const float f = HalfToFloat(h[i]);
      std::memcpy(&raw[i * 4], &f, 4);
    }
    t.clear_int32_data();
    t.set_data_type(::onnx::TensorProto::FLOAT);
    t.set_raw_data(raw);
  }
  auto out = std::make_shared<std::string>();
  if (!m.SerializeToString(out.get())) return Internal(model.path + ": ONNX serialization failed");
  return std::shared_ptr<const std::string>(std::move(out));
}

class OpencvBackend : public InferenceBackend {
 public:
  OpencvBackend(cv::dnn::Net net, ModelInfo info, const BackendOptions& o)
      : net_(std::move(net)), info_(std::move(info)), threads_(std::max(1, o.threads)) {
    for (int64_t d : info_.input_shape) dims_.push_back(static_cast<int>(d));
    out_names_ = net_.getUnconnectedOutLayersNames();
  }

  std::string Name() const override { return "opencv"; }
  const ModelInfo& Info() const override { return info_; }
  std::string Details() const override {
    return "OpenCV " CV_VERSION " DNN, CPU, " + std::to_string(threads_) + " thread(s)";
  }

  Status Run(const float* input, float* output) override {
    std::lock_guard<std::mutex> lock(RunMutex());
    try {
      cv::setNumThreads(threads_);
      cv::Mat blob(static_cast<int>(dims_.size()), dims_.data(), CV_32F, const_cast<float*>(input));
      net_.setInput(blob);
      net_.forward(outs_, out_names_);
    } catch (const cv::Exception& e) {
      return Internal("opencv backend: inference failed: " + std::string(e.what()));
    }
    if (outs_.size() != 1)
      return Internal("opencv backend: model has " + std::to_string(outs_.size()) +
                      " outputs, expected 1");
    const cv::Mat& o = outs_[0];
    const int64_t want = Numel(info_.output_shape);
    if (o.type() != CV_32F || static_cast<int64_t>(o.total()) != want)
      return Internal("opencv backend: output has " + std::to_string(o.total()) +
                      " values, expected " + std::to_string(want));
    const cv::Mat c = o.isContinuous() ? o : o.clone();
    std::memcpy(output, c.ptr<float>(), static_cast<size_t>(want) * sizeof(float));
    return Status::Ok();
  }

 private:
  cv::dnn::Net net_;
  ModelInfo info_;
  int threads_;
  std::vector<int> dims_;
  std::vector<cv::String> out_names_;
  std::vector<cv::Mat> outs_;
};

}  // namespace

Result<std::unique_ptr<InferenceBackend>> OpenOpencvBackend(const OnnxModel& model,
                                                            const BackendOptions& options) {
  if (options.precision == Precision::kBf16)
    return InvalidArgument(model.path +
                           ": precision bf16 runs on the onednn backend only (opencv runs the "
                           "file as it is: fp32, or int8 for a QDQ file)");
  // OpenCV DNN runs the file's own shapes; the batch-1 constants of an export's Reshapes would
  // make a larger input wrong or fail, so batching is refused here rather than emulated.
  if (options.batch != 1)
    return Unimplemented(model.path + ": batch " + std::to_string(options.batch) +
                         ": the opencv backend runs one image per run (batch 1); batch N "
                         "runs on the onednn backend");
  VQI_ASSIGN_OR_RETURN(std::shared_ptr<const std::string> bytes, OpencvBytes(model));
  cv::dnn::Net net;
  try {
    net = cv::dnn::readNetFromONNX(bytes->data(), bytes->size());
    net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  } catch (const cv::Exception& e) {
    return InvalidArgument(model.path + ": OpenCV " CV_VERSION " DNN cannot import the model: " +
                           std::string(e.what()));
  }
  if (net.empty()) return InvalidArgument(model.path + ": OpenCV DNN imported an empty network");
  auto backend = std::make_unique<OpencvBackend>(std::move(net), model.info, options);
  // Warm-up run: allocates OpenCV's buffers once and checks the output matches the contract.
  std::vector<float> in(static_cast<size_t>(Numel(model.info.input_shape)), 0.5f);
  std::vector<float> out(static_cast<size_t>(Numel(model.info.output_shape)));
  if (Status st = backend->Run(in.data(), out.data()); !st.ok())
    return InvalidArgument(model.path + ": " + st.message());
  return std::unique_ptr<InferenceBackend>(std::move(backend));
}

void RegisterOpencvBackend() { RegisterBackend("opencv", OpenOpencvBackend); }

}  // namespace vqi::infer
