// JPEG decoding with libjpeg-turbo (Debian libjpeg62-turbo), straight to BGR and, when the
// image is for a smaller model input, at a reduced DCT scale (k/8: the decoder skips the
// high frequencies instead of computing pixels the letterbox would throw away). The fast path
// behind yolo::DecodeImageBytes for JPEG files; other formats and the JPEGs it does not take
// (below) stay with the general decoder.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vqi/base/status.h"

namespace vqi::yolo {

// The EXIF orientation (1..8) of a JPEG's APP1 segment, 1 when there is none or it is
// unreadable. Only the markers before the image data are read.
int JpegExifOrientation(std::string_view bytes);

// The DCT scale numerator k (of 8) to decode a `width` x `height` JPEG for a `fit_w` x `fit_h`
// model input: the smallest k in {1, 2, 4} whose output (ceil(side * k / 8), libjpeg's
// rounding) is still at least the image's letterboxed size in that input, so the letterbox
// only ever shrinks; else 8 (full size). 3/8, 5/8, 6/8 and 7/8 are never chosen: libjpeg-turbo
// has no SIMD IDCT for them and they decode slower than full size (measured, jpeg.cc).
int JpegScaleFor(int width, int height, int fit_w, int fit_h);

struct JpegPixels {
  int width = 0, height = 0;                // decoded (scaled) size; rows are width * 3 bytes
  int source_width = 0, source_height = 0;  // the image's size in the file
  int scale_num = 8;                        // decoded at scale_num / 8
};

// Decodes a JPEG into `out` (resized, reused by the caller) as BGR at the scale JpegScaleFor
// picks (fit_w/fit_h <= 0: full size). Refuses with kUnimplemented (the caller then uses the
// general decoder) what this path does not reproduce exactly: CMYK/YCCK colour and EXIF
// orientations other than 1. InvalidArgument naming `where` for corrupt or truncated data
// (libjpeg's message: its errors longjmp back here, never exit()); the header's size is
// checked against kMaxImagePixels before any pixel memory is allocated. `fast`: merged chroma
// upsampling (DecodeOptions::fast).
Result<JpegPixels> DecodeJpeg(std::string_view bytes, const std::string& where, int fit_w,
                              int fit_h, std::vector<uint8_t>* out, bool fast = false);

}  // namespace vqi::yolo
