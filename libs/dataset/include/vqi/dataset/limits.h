// Every limit the dataset engine enforces, in one place (documented in docs/limits.md,
// section "Datasets"). A hit is reported as ResourceExhausted (whole file refused) or as an
// import issue naming the file (that record skipped, the rest imported).
#pragma once

#include <cstddef>
#include <cstdint>

namespace vqi::dataset {

// Bytes of one image file; checked with stat() before the file is read.
inline constexpr int64_t kMaxImageFileBytes = int64_t{64} << 20;  // 64 MiB
// Pixels (width x height) of one image, read from the file header before any decoding.
inline constexpr int64_t kMaxImagePixels = int64_t{8192} * 8192;  // 67,108,864
// Bytes of one labels file (Ground-Truth CSV, COCO JSON, data.yaml, one YOLO .txt).
inline constexpr int64_t kMaxLabelFileBytes = int64_t{256} << 20;  // 256 MiB
// Boxes in one image's label.
inline constexpr int kMaxBoxesPerImage = 10000;
// Classes in a dataset and bytes of one class name.
inline constexpr int kMaxClasses = 1000;
inline constexpr size_t kMaxClassNameBytes = 256;
// Bytes of one image file name (a path component on Linux holds at most 255).
inline constexpr size_t kMaxFileNameBytes = 255;

// `vqi dataset synth`: images per run and scratches per tag.
inline constexpr int kMaxSynthCount = 100000;
inline constexpr int kMaxSynthScratches = 100;

}  // namespace vqi::dataset
