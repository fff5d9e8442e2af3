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
  // The image's size in its file: width x height unless the decoder reduced it (a JPEG DCT
  // scale, DecodeOptions). Boxes are reported in these coordinates.
  int source_width = 0, source_height = 0;
  ImageView View() const { return {data.get(), width, height, stride}; }
  bool empty() const { return !data; }
  bool reduced() const { return width != source_width || height != source_height; }
};

struct DecodeOptions {
  // When both > 0, the image is for a model input of this size: a JPEG may be decoded
  // reduced (libjpeg-turbo DCT scaling, k/8), never below its letterboxed size in that input
  // (vqi/yolo/jpeg.h). 0: full size.
  int fit_width = 0, fit_height = 0;
  // A JPEG with libjpeg-turbo's merged chroma upsampling (do_fancy_upsampling off: the chroma
  // of a 4:2:0 or 4:2:2 image replicated inside the colour conversion instead of filtered in a
  // pass of its own) rather than the exact decode OpenCV and training use: 7 % less decode time
  // on the tags (0.319 -> 0.296 ms), whose nearly flat chroma decodes to the same pixels; a few
  // levels off at colour edges elsewhere (docs/design/inference.md). Inference's reduced decode
  // turns it on.
  bool fast = false;
};

// Decodes by content (JPEG, PNG, BMP, TIFF or WebP, whatever the extension): JPEGs with
// libjpeg-turbo straight to BGR (vqi/yolo/jpeg.h; CMYK and EXIF-rotated ones, and the other
// formats, with OpenCV's imgcodecs). NotFound for a missing file, InvalidArgument naming
// `where` for a directory, empty, undecodable, truncated or other formats' bytes;
// ResourceExhausted naming `where` and the limit when the header claims more than
// kMaxImagePixels (vqi/yolo/image_header.h), checked before any decoding.
Result<Image> DecodeImageBytes(const std::string& bytes, const std::string& where,
                               const DecodeOptions& options = {});
Result<Image> DecodeImageFile(const std::string& path, const DecodeOptions& options = {});

// `what` WIDTHxHEIGHT is within kMaxImagePixels: ResourceExhausted naming `where` and the limit
// otherwise; InvalidArgument for a non-positive side.
Status CheckImagePixels(int64_t width, int64_t height, const std::string& where,
                        const std::string& what);

// An in-memory frame is usable: positive sides within kMaxImagePixels, pixels present, rows
// at least width x 3 bytes apart. Errors name `where`.
Status CheckImageView(const ImageView& view, const std::string& where);

}  // namespace vqi::yolo
