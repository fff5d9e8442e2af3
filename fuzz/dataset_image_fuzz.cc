// libFuzzer: image validation (format sniffing, the header parsers for JPEG/PNG/BMP/TIFF/WebP
// that bound the decoder, the completeness checks, and OpenCV's decoder behind them).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "vqi/dataset/image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)vqi::dataset::ProbeImage(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
