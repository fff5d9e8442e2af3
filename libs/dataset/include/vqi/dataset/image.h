// Image validation: the format is detected from the bytes (never the file extension), and the
// image must decode completely.
#pragma once

#include <string>
#include <string_view>

#include "vqi/base/status.h"

namespace vqi::dataset {

struct ImageInfo {
  std::string format;  // "jpeg", "png", "bmp", "tiff", "webp"
  int width = 0, height = 0;
};

// InvalidArgument with a reason ("not an image (unrecognized content)", "truncated JPEG (no
// end-of-image marker)", "corrupt png data (cannot decode)", ...) for anything else, and
// ResourceExhausted when the header claims more than kMaxImagePixels (checked before
// decoding, so the claim costs nothing).
Result<ImageInfo> ProbeImage(std::string_view bytes);

}  // namespace vqi::dataset
