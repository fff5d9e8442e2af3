// Artifact URIs, file names and digests (docs/design/component.md, "Placeholders and s3://").
//
// Accepted URIs: `s3://<bucket>/<key>` (mapped to uploaded files by MapArtifactUris),
// `vqi://artifacts/<sha256>/<file name>` (content address in the vqi blob store), `https://…`,
// and a bare file name. `docker:` and `greengrass:` URIs are refused with the reason.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "vqi/base/status.h"
#include "vqi/component/recipe.h"

namespace vqi::component {

inline constexpr std::string_view kContentUriPrefix = "vqi://artifacts/";

// A name that is safe as one path component: non-empty, at most 255 bytes, no '/', '\\',
// NUL or control characters, not "." or "..". InvalidArgument naming the problem.
Status CheckPlainFileName(std::string_view name);

// The scheme is accepted and the file name (the last path segment, before any '?') is plain.
// Returns that file name.
Result<std::string> ArtifactFileName(std::string_view uri);

// A SHA-256 digest as 64 hex digits (any case) or base64 (as Greengrass writes it) →
// lowercase hex. InvalidArgument otherwise.
Result<std::string> NormalizeSha256Digest(std::string_view digest);

// An uploaded local file an s3:// or bare-name URI refers to.
struct UploadedArtifact {
  std::string digest;  // lowercase hex SHA-256
  int64_t size = 0;
};

// Rewrites every `s3://…/<file>` and bare `<file>` URI of every manifest to
// `vqi://artifacts/<digest>/<file>` using `uploaded` (file name → digest and size) and fills
// Digest/Algorithm. A digest already in the recipe must equal the upload's (InvalidArgument
// naming the URI and both digests). A URI whose file was not uploaded: NotFound naming it.
// `vqi://` URIs are checked against their digest; https:// URIs are left unchanged.
Status MapArtifactUris(Recipe* recipe, const std::map<std::string, UploadedArtifact>& uploaded);

}  // namespace vqi::component
