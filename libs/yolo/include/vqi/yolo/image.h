// Images as plain pixels: what every model of the YOLO contract consumes, without an OpenCV type
// in sight. Pixels are 8-bit, 3 channels, BGR order (what image decoders produce), rows `stride`
// bytes apart.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "vqi/base/status.h"
#include "vqi/eval/detector.h"

namespace vqi::yolo {

// A borrowed view; the caller keeps the pixels alive (defined with the Detector interface).
using ImageView = eval::ImageView;

// An owned image (the decoder's buffer, shared: copies of an Image share the pixels).
struct Image {
  int width = 0, height = 0;
  size_t stride = 0;              // bytes per row
  std::shared_ptr<uint8_t> data;  // height rows of `stride` bytes, BGR
  ImageView View() const { return {data.get(), width, height, stride}; }
  bool empty() const { return !data; }
};

// Decodes by content (JPEG, PNG, BMP, TIFF or WebP, whatever the extension). NotFound for a
// missing file, InvalidArgument naming `where` for a directory, empty, undecodable or other
// formats' bytes; ResourceExhausted naming `where` and the limit when the header claims more
// than kMaxImagePixels (vqi/yolo/image_header.h), checked before any decoding.
Result<Image> DecodeImageBytes(const std::string& bytes, const std::string& where);
Result<Image> DecodeImageFile(const std::string& path);

// `what` WIDTHxHEIGHT is within kMaxImagePixels: ResourceExhausted naming `where` and the limit
// otherwise; InvalidArgument for a non-positive side.
Status CheckImagePixels(int64_t width, int64_t height, const std::string& where,
                        const std::string& what);

// An in-memory frame is usable: positive sides within kMaxImagePixels, pixels present, rows
// at least width x 3 bytes apart. Errors name `where`.
Status CheckImageView(const ImageView& view, const std::string& where);

}  // namespace vqi::yolo
