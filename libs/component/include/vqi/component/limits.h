// Limits on recipes and component archives (docs/limits.md, "Components"). One place in code.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vqi::component {

// Recipe text (JSON or YAML), checked before parsing.
inline constexpr size_t kMaxRecipeBytes = size_t{1} << 20;  // 1 MiB
// Nesting of objects/arrays (JSON and YAML, incl. DefaultConfiguration).
inline constexpr int kMaxRecipeDepth = 64;
// YAML nodes after alias expansion, and the bytes of their scalars: `*alias` repeated
// many times cannot grow one megabyte of text into gigabytes.
inline constexpr size_t kMaxRecipeNodes = 100'000;
inline constexpr size_t kMaxRecipeExpandedBytes = size_t{4} << 20;  // 4 MiB
inline constexpr size_t kMaxManifests = 64;
inline constexpr size_t kMaxArtifactsPerManifest = 256;
inline constexpr size_t kMaxDependencies = 256;
inline constexpr size_t kMaxComponentNameBytes = 128;
// Lifecycle step timeout, seconds (Greengrass gives none; one day is plenty for an install).
inline constexpr int64_t kMaxStepTimeoutSeconds = 86'400;
// The longest string Interpolate returns.
inline constexpr size_t kMaxInterpolatedBytes = size_t{1} << 20;

// ZIP archives (CheckZipEntries / ExtractZip defaults).
inline constexpr uint64_t kMaxZipEntries = 10'000;
inline constexpr uint64_t kMaxZipUncompressedBytes = uint64_t{4} << 30;  // 4 GiB
inline constexpr size_t kMaxZipEntryNameBytes = 1024;

}  // namespace vqi::component
