// Exporters: the labeled images of a store (or of one split snapshot) as YOLO or COCO.
// Images are written with their original bytes; unlabeled images are left out (in YOLO an
// image without a label file would read as "no defect").
#pragma once

#include <string>

#include "vqi/base/status.h"
#include "vqi/dataset/store.h"

namespace vqi::dataset {

struct ExportOptions {
  std::string split;  // a split snapshot name: one subfolder per part; empty = all labeled
};

struct ExportReport {
  int images = 0;
  int boxes = 0;
};

// <out>/data.yaml, <out>/images[/<part>]/<file>, <out>/labels[/<part>]/<stem>.txt with
// "class cx cy w h" normalized to the image size (17 significant digits, so boxes survive a
// round trip exactly). A file name whose extension is not one YOLO tools recognise gets the
// format's extension appended ("x.jpg_3" -> "x.jpg_3.jpg").
Result<ExportReport> ExportYolo(const Store& store, const std::string& out,
                                const ExportOptions& options);
// <out>[/<part>]/annotations.json and images/ beside it; category id = class id + 1.
Result<ExportReport> ExportCoco(const Store& store, const std::string& out,
                                const ExportOptions& options);
// `format`: "yolo" or "coco".
Result<ExportReport> Export(const Store& store, const std::string& format, const std::string& out,
                            const ExportOptions& options);

}  // namespace vqi::dataset
