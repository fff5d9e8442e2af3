// Ground truth from YOLO label files (one "class cx cy w h" line per box, normalized to the
// image size), for evaluating on a plain folder of images.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "vqi/base/status.h"
#include "vqi/eval/metrics.h"

namespace vqi::eval {

// Parses a label file's text for an image of `width` x `height` pixels. Blank lines are
// skipped. InvalidArgument naming `where`, the line and the field for a line without exactly
// five numbers, a non-integer or negative class, a non-finite value, a negative size, or a
// centre outside [0, 1]. Boxes are clipped to the image.
Result<std::vector<GtBox>> ParseYoloLabels(std::string_view text, int width, int height,
                                           const std::string& where);

// Where the label file of an image may be, in order: `.../images/x.jpg` ->
// `.../labels/x.txt` (when the path has an `images` folder), then `x.txt` beside the image.
std::vector<std::string> YoloLabelCandidates(const std::string& image_path);

}  // namespace vqi::eval
