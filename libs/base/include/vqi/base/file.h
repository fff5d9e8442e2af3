// Files: whole-file reads and crash-safe (atomic) writes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "vqi/base/status.h"

namespace vqi {

// The whole file. NotFound when it does not exist, InvalidArgument when `path` is a directory
// ("is a directory, not a file"), PermissionDenied, ResourceExhausted when it holds more than
// `max_bytes` (checked before reading for a regular file), Unavailable for other errors.
// Errors start with `path`.
Result<std::string> ReadFile(const std::string& path, uint64_t max_bytes = UINT64_MAX);

// Writes to `path.tmp-<pid>`, fsyncs, renames over `path` and fsyncs the directory:
// after a crash `path` holds either the old or the new content, never a mix.
Status WriteFileAtomic(const std::string& path, std::string_view data);

// mkdir -p.
Status MakeDirs(const std::string& path);

bool FileExists(const std::string& path);

}  // namespace vqi
