// Helpers shared by the version and range parsers (not part of the public API).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vqi::component::internal {

// `text` in single quotes for an error message: bytes outside printable ASCII as \xNN, cut
// after 80 characters with "...".
std::string Quote(std::string_view text);

// Parses a MAJOR/MINOR/PATCH number (`name` is "MAJOR", ...). Returns "" on success, else
// what is wrong ("MAJOR '01' has a leading zero").
std::string ParseNumber(std::string_view text, const char* name, uint64_t* out);

// Parses dot-separated pre-release (`prerelease` true) or build identifiers. Returns "" on
// success, else what is wrong.
std::string ParseIdentifiers(std::string_view text, bool prerelease, std::vector<std::string>* out);

}  // namespace vqi::component::internal
