// Image files judged from their first bytes alone (no decoding): the format by signature and
// the dimensions from the header, so a file that claims an enormous size is refused before any
// pixel memory is allocated. The one header reader of the project (libs/dataset's import and
// libs/yolo's decode both use it); each caller applies its own limit.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "vqi/base/status.h"

namespace vqi::yolo {

// Pixels (width x height) of one image decoded for a model (predict, eval, bench, calibration,
// an in-memory frame). Documented in docs/limits.md, "### Inference".
inline constexpr int64_t kMaxImagePixels = int64_t{8192} * 8192;  // 67,108,864

struct HeaderDims {
  int64_t width = 0, height = 0;
};

// "jpeg", "png", "bmp", "tiff", "webp" by signature; "" for anything else.
std::string SniffImageFormat(std::string_view bytes);

// True when "DICM" sits at byte 128: OpenCV then hands the bytes to GDCM, which aborts the
// process on malformed input. Such bytes are never a valid file of the formats above in practice.
bool HasDicomSignature(std::string_view bytes);

// `format` is what SniffImageFormat detected. InvalidArgument naming what is wrong when the
// header is missing, truncated or malformed. Reads at most the bytes given; never allocates in
// proportion to the claimed size.
Result<HeaderDims> ReadHeaderDims(const std::string& format, std::string_view bytes);

}  // namespace vqi::yolo
