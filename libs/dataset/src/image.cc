#include "vqi/dataset/image.h"

#include <opencv2/imgcodecs.hpp>

#include "vqi/dataset/limits.h"
#include "vqi/yolo/image_header.h"

namespace vqi::dataset {
namespace {

using yolo::HeaderDims;

// libjpeg and libpng "successfully" decode truncated files by padding them, so check the
// terminators ourselves.
Status CheckComplete(const std::string& format, std::string_view b) {
  if (format == "jpeg") {
    size_t end = b.size();
    while (end > 0 && (b[end - 1] == '\0' || b[end - 1] == '\n' || b[end - 1] == '\r')) --end;
    if (end < 4 || b.substr(end - 2, 2) != "\xFF\xD9")
      return InvalidArgument("truncated JPEG (no end-of-image marker)");
  } else if (format == "png") {
    if (b.find("IEND") == std::string_view::npos)
      return InvalidArgument("truncated PNG (no IEND chunk)");
  }
  return Status::Ok();
}

}  // namespace

Result<ImageInfo> ProbeImage(std::string_view bytes) {
  ImageInfo info;
  info.format = yolo::SniffImageFormat(bytes);
  if (info.format.empty()) return InvalidArgument("not an image (unrecognized content)");
  VQI_RETURN_IF_ERROR(CheckComplete(info.format, bytes));
  // OpenCV picks its decoder by signature, and GDCM's (DICOM: "DICM" at byte 128) is tried
  // before some of ours; GDCM then aborts the process on malformed input. Such a file is
  // never a valid JPEG/PNG/BMP/TIFF/WebP in practice: refuse it (found by dataset_image_fuzz).
  if (yolo::HasDicomSignature(bytes))
    return InvalidArgument("ambiguous " + info.format +
                           " data (a DICOM signature at byte 128); refused");
  // The size claimed by the header bounds the decoder's allocation: check it first.
  VQI_ASSIGN_OR_RETURN(HeaderDims dims, yolo::ReadHeaderDims(info.format, bytes));
  if (dims.width * dims.height > kMaxImagePixels)
    return ResourceExhausted(info.format + " header claims " + std::to_string(dims.width) + "x" +
                             std::to_string(dims.height) + " = " +
                             std::to_string(dims.width * dims.height) + " pixels; the limit is " +
                             std::to_string(kMaxImagePixels) +
                             " (8192x8192), refused before decoding");
  cv::Mat img;
  try {
    const cv::Mat buf(1, static_cast<int>(bytes.size()), CV_8U, const_cast<char*>(bytes.data()));
    img = cv::imdecode(buf, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    return InvalidArgument("corrupt " + info.format + " data (" + e.msg + ")");
  }
  if (img.empty() || img.cols <= 0 || img.rows <= 0)
    return InvalidArgument("corrupt " + info.format + " data (cannot decode)");
  if (img.cols != dims.width || img.rows != dims.height)
    return InvalidArgument("corrupt " + info.format + " data (header says " +
                           std::to_string(dims.width) + "x" + std::to_string(dims.height) +
                           ", decoded " + std::to_string(img.cols) + "x" +
                           std::to_string(img.rows) + ")");
  info.width = img.cols;
  info.height = img.rows;
  return info;
}

}  // namespace vqi::dataset
