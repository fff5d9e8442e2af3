// Images as plain pixels: what every model of the YOLO contract consumes, without an OpenCV type
// in sight. Pixels are 8-bit, 3 channels, BGR order (what image decoders produce), rows `stride`
// bytes apart.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "vqi/base/status.h"
#include "vqi/eval/detector.h"

namespace vqi::yolo {

// A borrowed view; the caller keeps the pixels alive (defined with the Detector interface).
using ImageView = eval::ImageView;

// An owned, tightly packed image.
struct Image {
  int width = 0, height = 0;
  std::vector<uint8_t> bgr;  // height * width * 3
  ImageView View() const {
    return {bgr.data(), width, height, static_cast<size_t>(width) * 3};
  }
  bool empty() const { return bgr.empty(); }
};

// Decodes by content (JPEG, PNG, BMP, TIFF, WebP, ... whatever the extension). NotFound for a
// missing file, InvalidArgument naming `where` for a directory, empty or undecodable bytes.
Result<Image> DecodeImageBytes(const std::string& bytes, const std::string& where);
Result<Image> DecodeImageFile(const std::string& path);

}  // namespace vqi::yolo
