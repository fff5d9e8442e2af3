// YOLO text formats shared by the exporter, the importer and the synthesizer.
#pragma once

#include <string>
#include <vector>

#include "vqi/base/status.h"
#include "vqi/dataset/sample.h"

namespace vqi::dataset {

// True for extensions YOLO tools treat as images (.jpg, .jpeg, .png, .bmp, .tif, .tiff,
// .webp; any case).
bool HasImageExtension(const std::string& file_name);

// One "class cx cy w h" line per box, normalized, %.17g.
std::string YoloLabelText(const std::vector<Box>& boxes, int width, int height);

// Parses one label line into a pixel box. InvalidArgument naming the problem.
Result<Box> ParseYoloLine(const std::string& line, int width, int height);

// data.yaml with `names`, `nc` and, per part ("" = everything), the images folder.
Status WriteDataYaml(const std::string& dir, const std::vector<std::string>& names,
                     const std::vector<std::string>& parts);
// The class names of a data.yaml (a list, or a map from id to name).
Result<std::vector<std::string>> ReadDataYamlNames(const std::string& path);

}  // namespace vqi::dataset
