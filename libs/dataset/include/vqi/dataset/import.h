// Importers (SageMaker Ground-Truth CSV, YOLO, COCO) into a Store.
//
// Every importer first reads and validates everything into a plan, reporting each problem
// with its file and row and skipping only the bad record; then it writes the plan in one
// Store transaction. With `strict`, any problem makes the import fail with nothing written.
// Re-importing the same data adds nothing (images are deduplicated by content, identical
// label events are skipped, and a label equal to an image's current label is not repeated).
#pragma once

#include <string>
#include <vector>

#include "vqi/base/status.h"
#include "vqi/dataset/store.h"

namespace vqi::dataset {

struct ImportIssue {
  std::string file;  // path as given or relative to the imported folder
  int line = 0;      // 1-based row/line, 0 when the problem is the whole file
  std::string message;
  std::string ToString() const;  // "file:line: message"
};

struct ImportReport {
  std::string format;    // "groundtruth", "yolo" or "coco"
  int images = 0;        // valid, distinct images found
  int new_images = 0;    // of those, not yet in the store
  int labeled = 0;       // images with an approved label in this import
  int boxes = 0;         // boxes in those labels
  int empty_labels = 0;  // labeled images with no box ("no defect")
  int unlabeled = 0;     // images without an approved label in this import
  int new_label_events = 0;
  std::vector<ImportIssue> errors;
  bool committed = false;       // false: nothing was written (strict mode with errors)
  std::string Summary() const;  // one line, e.g. "193 images (193 new), 180 labeled ..."
};

struct ImportOptions {
  bool strict = false;
  // Ground-Truth CSV only: names of class ids 0..n-1 (default: the store's classes, else
  // {"scratch"}).
  std::vector<std::string> class_names;
  // Ground-Truth and COCO: where the image files are (default: beside / below the labels).
  std::string images_dir;
};

// A folder with labels.csv (or `path` = the CSV itself) and the images under it.
Result<ImportReport> ImportGroundTruth(Store& store, const std::string& path,
                                       const ImportOptions& options);
// A folder with data.yaml, images/ and labels/ (any depth, Ultralytics layout).
Result<ImportReport> ImportYolo(Store& store, const std::string& dir, const ImportOptions& options);
// A COCO JSON file (images resolved relative to it, then to its images/ folder), or a folder
// holding annotations.json.
Result<ImportReport> ImportCoco(Store& store, const std::string& path,
                                const ImportOptions& options);

// Detects the format: labels.csv -> groundtruth, data.yaml -> yolo, *.json / annotations.json
// -> coco. `format` may force one ("auto", "groundtruth", "yolo", "coco").
Result<ImportReport> Import(Store& store, const std::string& path, const std::string& format,
                            const ImportOptions& options);

}  // namespace vqi::dataset
