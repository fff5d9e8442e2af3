#include "opencv_backend.h"

#include <cstring>
#include <opencv2/core/utility.hpp>
#include <opencv2/dnn.hpp>

#include "vqi/base/file.h"
#include "vqi/infer/model_check.h"
#include "vqi/onnx/float16.h"

namespace vqi::infer {

namespace {

int64_t Numel(const std::vector<int64_t>& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

class OpenCvBackend : public InferenceBackend {
 public:
  OpenCvBackend(cv::dnn::Net net, ModelInfo info, const BackendOptions& o)
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
    try {
      cv::setNumThreads(threads_);
      cv::Mat blob(static_cast<int>(dims_.size()), dims_.data(), CV_32F,
                   const_cast<float*>(input));
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

Result<std::unique_ptr<InferenceBackend>> OpenOpenCvBackend(const std::string& onnx_path,
                                                            const BackendOptions& options) {
  VQI_ASSIGN_OR_RETURN(ModelInfo info, InspectModel(onnx_path));
  // OpenCV 4.6 has no FLOAT16 tensors: float16-weight models are widened in memory first.
  VQI_ASSIGN_OR_RETURN(std::string bytes, ReadFile(onnx_path));
  VQI_ASSIGN_OR_RETURN(bytes, onnx::WidenFloat16Initializers(bytes, onnx_path));
  cv::dnn::Net net;
  try {
    net = cv::dnn::readNetFromONNX(bytes.data(), bytes.size());
    net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  } catch (const cv::Exception& e) {
    return InvalidArgument(onnx_path + ": OpenCV " CV_VERSION " DNN cannot import the model: " +
                           std::string(e.what()));
  }
  if (net.empty()) return InvalidArgument(onnx_path + ": OpenCV DNN imported an empty network");
  auto backend = std::make_unique<OpenCvBackend>(std::move(net), info, options);
  // Warm-up run: allocates OpenCV's buffers once and checks the output matches the contract.
  std::vector<float> in(static_cast<size_t>(Numel(info.input_shape)), 0.5f);
  std::vector<float> out(static_cast<size_t>(Numel(info.output_shape)));
  if (Status st = backend->Run(in.data(), out.data()); !st.ok())
    return InvalidArgument(onnx_path + ": " + st.message());
  return std::unique_ptr<InferenceBackend>(std::move(backend));
}

}  // namespace vqi::infer
