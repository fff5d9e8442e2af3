// JSON forms of the unlabeled pool (`vqi dataset unlabeled --json`, GET
// /v1/datasets/{name}/unlabeled; docs/api.md "Datasets"). Pure functions.
#pragma once

#include "vqi/base/json.h"
#include "vqi/dataset/store.h"

namespace vqi::dataset {

// {"thing", "component", "model": {"name", "version"}, "resultId", "bestScore" (null when
// unknown), "imageName", "received", "vqiMessageId"}
Json ImageOriginToJson(const ImageOrigin& o);
// {"image_id", "name", "capture_id", "width", "height", "format", "origins": [...]}, plus
// "path" (the blob on this machine) when `with_path`.
Json PoolImageToJson(const PoolImage& p, bool with_path);

}  // namespace vqi::dataset
