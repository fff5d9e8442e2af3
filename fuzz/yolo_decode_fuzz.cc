// libFuzzer: the inference core's image decode (libs/yolo DecodeImageBytes): libjpeg-turbo
// straight to BGR with and without DCT scaling, the header bound before decoding, and OpenCV
// for the other formats. The first byte picks the model input it decodes toward (none, or a
// size below, near or above the image's), as vqi-inspect and vqi model predict do, and
// whether it takes the fast IDCT and upsampling.
#include <cstddef>
#include <cstdint>
#include <string>

#include "vqi/yolo/image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static constexpr int kFits[][2] = {{0, 0}, {32, 32}, {96, 64}, {320, 224}, {640, 640}};
  const auto& fit = kFits[data[0] % (sizeof kFits / sizeof kFits[0])];
  vqi::yolo::DecodeOptions options;
  options.fit_width = fit[0];
  options.fit_height = fit[1];
  options.fast = (data[0] / 8) % 2 == 1;
  auto image = vqi::yolo::DecodeImageBytes(
      std::string(reinterpret_cast<const char*>(data + 1), size - 1), "fuzz", options);
  if (image.ok()) (void)image->View();
  return 0;
}
