// An upload from a device (docs/design/results.md "Uploads"): the message the agent's spool
// sends for an IPC UploadFile (docs/design/ipc.md "Uploads") on
// vqi/v1/results/<thing>/<component>/upload, parsed defensively. Pure functions, thread-safe.
//
//   {"kind": "upload", "thing", "component", "name", "contentType", "size", "sha256",
//    "metadata": {...}, "dataBase64", "vqiMessageId"}
//
// `metadata` is the uploader's (vqi-inspect: the uncertain image's result); the fields read from
// it are all optional: `model.name` / `modelName`, `model.version` / `modelVersion`, `resultId`
// / `result_id` / `id`, `bestScore` / `best_score`, `image.name` / `imageName` / `image_name`,
// `image.id` / `imageId`, and `thing` / `component` (must then equal the topic's).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "vqi/base/status.h"

namespace vqi::results {

inline constexpr size_t kDefaultMaxUploadBytes = 256 * 1024;  // decoded file (= the agent's)
// The whole message: base64 of the file (4/3) plus the JSON around it.
inline constexpr size_t kMaxUploadMessageOverhead = 64 * 1024;

struct ParsedUpload {
  std::string thing, component;  // the topic's (= the payload's)
  std::string name;              // the file name on the device
  std::string content_type;
  std::string sha256;      // checked against `bytes`
  std::string bytes;       // the decoded file
  std::string message_id;  // vqiMessageId
  // From metadata ("" / -1 when absent):
  std::string model_name, model_version, result_id, image_name;
  double best_score = -1;
};

// InvalidArgument naming the field for anything malformed, the size or sha256 that does not
// match the decoded bytes included (both values named); PermissionDenied when the payload or
// its metadata names another thing or component (or a result id of another thing);
// ResourceExhausted when the message or the decoded file is larger than allowed (checked before
// parsing and before decoding).
Result<ParsedUpload> ParseUploadMessage(std::string_view topic, std::string_view payload,
                                        size_t max_file_bytes = kDefaultMaxUploadBytes);

}  // namespace vqi::results
