#include "import_plan.h"

namespace vqi::dataset {

Result<ImportReport> ImportCoco(Store& store, const std::string& path,
                                const ImportOptions& options) {
  return Unimplemented("COCO import");
}

}  // namespace vqi::dataset
