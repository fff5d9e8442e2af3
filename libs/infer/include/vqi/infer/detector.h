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

  const StageTimes& LastTimes() const { return times_; }
  // Detect() decodes JPEGs at a reduced DCT scale toward the model input (default true);
  // false decodes at full size (the reference path, for parity measurements).
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

  std::unique_ptr<InferenceBackend> backend_;
  std::vector<std::string> names_;
  std::string where_;  // the model file, for messages
  int in_w_ = 0, in_h_ = 0;
  int64_t anchors_ = 0;
  std::vector<float> input_, output_;
  std::vector<uint8_t> scratch_;
  StageTimes times_;
  bool reduced_decode_ = true;
};

}  // namespace vqi::infer
