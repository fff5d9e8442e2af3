// An ONNX detection model as an eval::Detector: decode -> letterbox -> backend -> decode
// output0 -> confidence threshold -> NMS (libs/eval) -> boxes in original pixels. The YOLO
// pre/post-processing is libs/yolo's (the same code training validates with).
// One model is loaded once and reused; buffers are reused across calls.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "vqi/eval/detector.h"
#include "vqi/infer/backend.h"
#include "vqi/yolo/image.h"
#include "vqi/yolo/letterbox.h"

namespace vqi::infer {

// Wall-clock milliseconds of each stage of the last call.
struct StageTimes {
  double read_ms = 0;    // read the image file (Detect only)
  double decode_ms = 0;  // decode the image (Detect only)
  double pre_ms = 0;     // letterbox, RGB, /255, NCHW into the model input (one pass)
  double model_ms = 0;   // backend Run()
  double post_ms = 0;    // decode output0, threshold, NMS, map back
};

// Thread-compatible (one call at a time), like eval::Detector.
class OnnxDetector : public eval::Detector {
 public:
  // backend: "opencv", "onednn" or "auto" (see OpenBackend). Errors as OpenBackend, plus
  // InvalidArgument when the metadata holds no class names matching the output width.
  static Result<std::unique_ptr<OnnxDetector>> Open(const OnnxModel& model,
                                                    const std::string& backend,
                                                    const BackendOptions& options);
  static Result<std::unique_ptr<OnnxDetector>> Open(const std::string& onnx_path,
                                                    const std::string& backend,
                                                    const BackendOptions& options);

  // Reads and decodes the file (a JPEG reduced by DCT scaling toward the model input, see
  // SetReducedDecode), then as DetectDecoded.
  Result<std::vector<eval::Detection>> Detect(const std::string& image_path,
                                              const eval::DetectOptions& options) override;
  // Runs on a decoded image, reduced or not (yolo::Image::source_width/height: boxes are in
  // the file's pixels). decode_ms is 0.
  Result<std::vector<eval::Detection>> DetectDecoded(const yolo::Image& image,
                                                     const std::string& name,
                                                     const eval::DetectOptions& options);
  // Runs on an already decoded image (decode_ms is 0). DataLoss when the model's output holds
  // inf/NaN (no detections are reported from a broken model).
  Result<std::vector<eval::Detection>> DetectImage(const yolo::ImageView& bgr,
                                                   const std::string& name,
                                                   const eval::DetectOptions& options) override;
  std::vector<std::string> ClassNames() const override { return names_; }
  std::string Describe() const override;

  // Throughput mode: the stages before the model apart from the model, so a caller can prepare
  // frame i + 1 on another thread while the model runs frame i (bench infer --pipeline).
  // Prepare reads, decodes (as Detect) and letterboxes `path` into `slot`; it only reads the
  // detector's configuration, so one Prepare may run concurrently with RunPrepared on another
  // slot. RunPrepared runs the model and post-processing on a prepared slot (times: the
  // slot's read/decode/pre, this call's model/post).
  struct Prepared {
    std::string name;
    std::vector<float> input;
    std::vector<uint8_t> scratch;
    yolo::Letterbox lb;
    StageTimes times;
  };
  Status Prepare(const std::string& path, Prepared* slot) const;
  Result<std::vector<eval::Detection>> RunPrepared(const Prepared& slot,
                                                   const eval::DetectOptions& options);

  // Batch mode (issue 22: throughput over latency). Open with BackendOptions::batch = N > 1
  // and the detector holds the model compiled twice, for batch N and for batch 1. DetectBatch
  // takes up to N decoded images: exactly N run as ONE model run (letterboxed back to back into
  // its input, post-processed one by one); fewer run one at a time at batch 1, so a camera
  // with a short queue keeps its latency. Each image's result is what DetectDecoded gives it
  // alone up to float rounding (onednn: bit for bit except where the batch-1 model runs a
  // batch-1-only fusion, the detect decode: scores within ~1e-7; docs/design/inference.md).
  // LastBatchTimes(): per image, pre and post its own, model the batch run / images in it.
  // REQUIRES: images.size() == names.size() <= Batch().
  int Batch() const { return batch_; }
  // The batch-N model (nullptr at batch 1); Backend() is the batch-1 one.
  InferenceBackend* BatchBackend() { return batch_backend_.get(); }
  std::vector<Result<std::vector<eval::Detection>>> DetectBatch(
      const std::vector<const yolo::Image*>& images, const std::vector<std::string>& names,
      const eval::DetectOptions& options);
  const std::vector<StageTimes>& LastBatchTimes() const { return batch_times_; }

  const StageTimes& LastTimes() const { return times_; }
  // Detect() decodes JPEGs at a reduced DCT scale toward the model input, with the fast IDCT
  // and chroma upsampling (yolo::DecodeOptions::fast) (default true); false decodes exactly at
  // full size, as training does (the reference path, for parity measurements).
  void SetReducedDecode(bool on) { reduced_decode_ = on; }
  // What Detect() passes to the decoder: the model input size, or 0 x 0 for full size.
  yolo::DecodeOptions DecodeHint() const;
  int InputWidth() const { return in_w_; }
  int InputHeight() const { return in_h_; }
  InferenceBackend& Backend() { return *backend_; }
  // The model input of the last call ([3, H, W] RGB planes) and its raw output0 ([4 + nc, N]).
  const std::vector<float>& LastInput() const { return input_; }
  const std::vector<float>& LastOutput() const { return output_; }

 private:
  OnnxDetector(std::unique_ptr<InferenceBackend> b, std::vector<std::string> names,
               std::string where);
  Result<std::vector<eval::Detection>> Run(const yolo::ImageView& pixels, int src_w, int src_h,
                                           const std::string& name,
                                           const eval::DetectOptions& options);
  // Model + post on `input` placed by `lb`; sets times_.model_ms and post_ms.
  Result<std::vector<eval::Detection>> RunModel(const float* input, const yolo::Letterbox& lb,
                                                const std::string& name,
                                                const eval::DetectOptions& options);
  // output0 of one image -> detections (threshold, inf/NaN refusal, NMS).
  Result<std::vector<eval::Detection>> Post(const float* output, const yolo::Letterbox& lb,
                                            const std::string& name,
                                            const eval::DetectOptions& options) const;

  std::unique_ptr<InferenceBackend> backend_;
  std::vector<std::string> names_;
  std::string where_;  // the model file, for messages
  int in_w_ = 0, in_h_ = 0;
  int64_t anchors_ = 0;
  std::vector<float> input_, output_;
  std::vector<uint8_t> scratch_;
  StageTimes times_;
  bool reduced_decode_ = true;
  // Batch mode: the model compiled for batch_ images, its input and output buffers.
  int batch_ = 1;
  std::unique_ptr<InferenceBackend> batch_backend_;
  std::vector<float> batch_input_, batch_output_;
  std::vector<StageTimes> batch_times_;
};

}  // namespace vqi::infer
