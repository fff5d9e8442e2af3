#include "import_plan.h"

namespace vqi::dataset {

Result<ImportReport> ImportYolo(Store& store, const std::string& dir,
                                const ImportOptions& options) {
  return Unimplemented("YOLO import");
}

}  // namespace vqi::dataset
