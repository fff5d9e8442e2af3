// The label side of the YOLO contract: ground truth from YOLO label files (one "class cx cy w h"
// line per box, normalized to the image size), where they sit beside images, and which files
// count as images.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "vqi/base/status.h"
#include "vqi/eval/metrics.h"

namespace vqi::yolo {

// Parses a label file's text for an image of `width` x `height` pixels. Blank lines are
// skipped. InvalidArgument naming `where`, the line and the field for a line without exactly
// five numbers, a non-integer or negative class, a non-finite value, a negative size, or a
// centre outside [0, 1]. Boxes are clipped to the image.
Result<std::vector<eval::GtBox>> ParseYoloLabels(std::string_view text, int width, int height,
                                                 const std::string& where);

// Where the label file of an image may be, in order: `.../images/x.jpg` ->
// `.../labels/x.txt` (when the path has an `images` folder), then `x.txt` beside the image.
std::vector<std::string> YoloLabelCandidates(const std::string& image_path);

// The image file name extensions of the contract (lower case, with the dot): .jpg .jpeg .png
// .bmp .tif .tiff .webp. Decoding goes by content; the extension only selects files in folders.
const std::vector<std::string>& ImageExtensions();
bool HasImageExtension(const std::string& path);  // any case

// The image files directly in `dir`, sorted; if there are none but `dir`/images exists, those.
// InvalidArgument if `dir` is not a folder or holds no images (the message lists the extensions).
Result<std::vector<std::string>> ListImages(const std::string& dir);

}  // namespace vqi::yolo
