// Image dimensions read from the file header alone (no decoding), so a file that claims an
// enormous size is refused before any pixel memory is allocated. Private to libs/dataset.
#pragma once

#include <string>
#include <string_view>

#include "vqi/base/status.h"

namespace vqi::dataset {

struct HeaderDims {
  int64_t width = 0, height = 0;
};

// `format` is what SniffFormat detected ("jpeg", "png", "bmp", "tiff", "webp").
// InvalidArgument naming what is wrong when the header is missing, truncated or malformed.
// Reads at most the bytes given; never allocates in proportion to the claimed size.
Result<HeaderDims> ReadHeaderDims(const std::string& format, std::string_view bytes);

}  // namespace vqi::dataset
