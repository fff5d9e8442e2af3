// Files: whole-file reads and crash-safe (atomic) writes.
#pragma once

#include <string>
#include <string_view>

#include "vqi/base/status.h"

namespace vqi {

Result<std::string> ReadFile(const std::string& path);

// Writes to `path.tmp-<pid>`, fsyncs, renames over `path` and fsyncs the directory:
// after a crash `path` holds either the old or the new content, never a mix.
Status WriteFileAtomic(const std::string& path, std::string_view data);

// mkdir -p.
Status MakeDirs(const std::string& path);

bool FileExists(const std::string& path);

}  // namespace vqi
