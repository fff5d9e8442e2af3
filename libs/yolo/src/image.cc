#include "vqi/yolo/image.h"

#include <filesystem>
#include <opencv2/imgcodecs.hpp>

#include "vqi/base/file.h"
#include "vqi/yolo/image_header.h"
#include "vqi/yolo/jpeg.h"

namespace vqi::yolo {

Result<Image> DecodeImageBytes(const std::string& bytes, const std::string& where,
                               const DecodeOptions& options) {
  if (bytes.empty()) return InvalidArgument(where + ": cannot decode image: empty file");
  // Judged from the header before the decoder sees the bytes: an unknown format or a DICOM
  // signature would reach decoders we do not vet (GDCM aborts the process on malformed
  // input), and the claimed size bounds the decoder's allocation.
  const std::string format = SniffImageFormat(bytes);
  if (format.empty())
    return InvalidArgument(where +
                           ": cannot decode image: not a JPEG, PNG, BMP, TIFF or WebP file "
                           "(unrecognized content)");
  if (HasDicomSignature(bytes))
    return InvalidArgument(where + ": cannot decode image: ambiguous " + format +
                           " data (a DICOM signature at byte 128); refused");
  Result<HeaderDims> dims = ReadHeaderDims(format, bytes);
  if (!dims.ok())
    return InvalidArgument(where + ": cannot decode image: " + dims.status().message());
  VQI_RETURN_IF_ERROR(
      CheckImagePixels(dims->width, dims->height, where, format + " header claims"));
  if (format == "jpeg") {
    auto pixels = std::make_shared<std::vector<uint8_t>>();
    Result<JpegPixels> px =
        DecodeJpeg(bytes, where, options.fit_width, options.fit_height, pixels.get(), options.fast);
    if (px.ok()) {
      Image img;
      img.width = px->width;
      img.height = px->height;
      img.stride = static_cast<size_t>(px->width) * 3;
      img.source_width = px->source_width;
      img.source_height = px->source_height;
      img.data = std::shared_ptr<uint8_t>(pixels, pixels->data());
      return img;
    }
    if (px.status().code() != StatusCode::kUnimplemented) return px.status();
  }
  cv::Mat m;
  try {
    m = cv::imdecode(
        cv::Mat(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data())),
        cv::IMREAD_COLOR);
  } catch (const cv::Exception& e) {
    return InvalidArgument(where + ": cannot decode image: " + e.what());
  }
  if (m.empty() || m.type() != CV_8UC3)
    return InvalidArgument(where +
                           ": cannot decode image (not a supported image format, or "
                           "truncated)");
  Image img;
  img.width = m.cols;
  img.height = m.rows;
  img.stride = m.step;
  img.source_width = m.cols;
  img.source_height = m.rows;
  auto holder = std::make_shared<cv::Mat>(std::move(m));  // no copy: the pixels stay put
  img.data = std::shared_ptr<uint8_t>(holder, holder->data);
  return img;
}

Status CheckImagePixels(int64_t width, int64_t height, const std::string& where,
                        const std::string& what) {
  if (width <= 0 || height <= 0)
    return InvalidArgument(where + ": " + what + " " + std::to_string(width) + "x" +
                           std::to_string(height) + ": width and height must be positive");
  if (width > kMaxImagePixels / height)
    return ResourceExhausted(where + ": " + what + " " + std::to_string(width) + "x" +
                             std::to_string(height) + " = " + std::to_string(width * height) +
                             " pixels; the limit is " + std::to_string(kMaxImagePixels) +
                             " (8192x8192), refused before decoding");
  return Status::Ok();
}

Status CheckImageView(const ImageView& view, const std::string& where) {
  VQI_RETURN_IF_ERROR(CheckImagePixels(view.width, view.height, where, "frame of"));
  if (view.data == nullptr) return InvalidArgument(where + ": frame has no pixels (null data)");
  if (view.stride < static_cast<size_t>(view.width) * 3)
    return InvalidArgument(where + ": frame stride " + std::to_string(view.stride) +
                           " bytes is below width x 3 = " + std::to_string(view.width * 3));
  return Status::Ok();
}

Result<Image> DecodeImageFile(const std::string& path, const DecodeOptions& options) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return InvalidArgument(path + ": is a directory, not an image file");
  VQI_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  return DecodeImageBytes(bytes, path, options);
}

}  // namespace vqi::yolo
