#include "vqi/dataset/import.h"

#include <filesystem>

namespace vqi::dataset {
namespace fs = std::filesystem;

Result<ImportReport> Import(Store& store, const std::string& path, const std::string& format,
                            const ImportOptions& options) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return NotFound(path + ": no such file or folder");
  std::string f = format;
  if (f.empty() || f == "auto") {
    const fs::path p(path);
    if (fs::is_directory(p, ec)) {
      if (fs::exists(p / "labels.csv", ec))
        f = "groundtruth";
      else if (fs::exists(p / "data.yaml", ec))
        f = "yolo";
      else if (fs::exists(p / "annotations.json", ec))
        f = "coco";
    } else if (p.extension() == ".csv") {
      f = "groundtruth";
    } else if (p.extension() == ".json") {
      f = "coco";
    } else if (p.extension() == ".yaml" || p.extension() == ".yml") {
      return ImportYolo(store, p.parent_path().string(), options);
    }
    if (f.empty() || f == "auto")
      return InvalidArgument(path +
                             ": cannot tell the format (expected labels.csv, data.yaml or "
                             "annotations.json); pass --format");
  }
  if (f == "groundtruth") return ImportGroundTruth(store, path, options);
  if (f == "yolo") return ImportYolo(store, path, options);
  if (f == "coco") return ImportCoco(store, path, options);
  return InvalidArgument("unknown import format '" + format +
                         "' (expected auto, groundtruth, yolo or coco)");
}

}  // namespace vqi::dataset
