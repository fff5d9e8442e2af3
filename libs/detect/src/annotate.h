// Annotated copies of images for `predict --out` (OpenCV imgproc/imgcodecs). Private.
#pragma once

#include <string>
#include <vector>

#include "vqi/base/status.h"
#include "vqi/yolo/image.h"

namespace vqi::detect {

// Draws boxes with "class score" tags onto `img` and writes it to `out_path` (format from the
// extension). Unavailable when the file cannot be written.
Status WriteAnnotated(yolo::Image& img, const std::vector<eval::Detection>& dets,
                      const std::vector<std::string>& names, const std::string& out_path);

}  // namespace vqi::detect
