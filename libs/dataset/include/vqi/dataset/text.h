// Text checks for names that come from outside (file names, class names, jobs). Names are
// stored as UTF-8; these let messages and JSON show anything else losslessly.
#pragma once

#include <string>
#include <string_view>

namespace vqi::dataset {

// True if `s` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool IsValidUtf8(std::string_view s);
// `s` as valid UTF-8 for messages and JSON: each byte that is not part of a well-formed UTF-8
// sequence becomes "%XX" (uppercase hex). Returns valid UTF-8 input unchanged. This is the
// documented representation of a legacy non-UTF-8 file name (docs/design/dataset.md).
std::string EscapeNonUtf8(std::string_view s);

}  // namespace vqi::dataset
