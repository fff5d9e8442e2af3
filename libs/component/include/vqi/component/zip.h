// ZIP artifacts (Unarchive: ZIP): entry checks and checked, atomic extraction (libzip).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vqi/base/status.h"
#include "vqi/component/limits.h"

namespace vqi::component {

struct ZipLimits {
  uint64_t max_entries = kMaxZipEntries;
  uint64_t max_uncompressed_bytes = kMaxZipUncompressedBytes;  // sum over all entries
};

struct ZipEntry {
  std::string name;   // relative path, '/'-separated; folders end in '/'
  uint64_t size = 0;  // declared uncompressed size
  bool directory = false;
  bool executable = false;  // Unix mode has an execute bit
};

// Reads the central directory of `zip_path` and refuses (InvalidArgument naming the entry):
// empty, absolute ("/x", "C:x") or backslash names, "." / ".." / empty path segments, control
// characters, names longer than kMaxZipEntryNameBytes, two entries with one path or a file
// where another entry needs a folder, symbolic links and other special files (Unix mode),
// encrypted entries. ResourceExhausted: more entries than `limits.max_entries`, or declared
// sizes summing above `limits.max_uncompressed_bytes`. NotFound / InvalidArgument when the file
// is missing or not a ZIP archive.
Result<std::vector<ZipEntry>> CheckZipEntries(const std::string& zip_path,
                                              const ZipLimits& limits = {});

// CheckZipEntries, then extracts into a fresh sibling folder `<dest_dir>.tmp-<pid>-<n>` and
// renames it to `dest_dir`: `dest_dir` appears complete or not at all. Bytes actually inflated
// are counted, so an entry whose header lies about its size cannot pass the limit
// (ResourceExhausted) and a corrupt entry is DataLoss. Files are 0644, or 0755 when the entry
// is executable; no symbolic link is ever created. AlreadyExists when `dest_dir` exists; on
// any error the temporary folder is removed.
Status ExtractZip(const std::string& zip_path, const std::string& dest_dir,
                  const ZipLimits& limits = {});

}  // namespace vqi::component
