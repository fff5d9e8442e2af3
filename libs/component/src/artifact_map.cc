// MapArtifactUris: s3:// and bare-name URIs → content addresses of uploaded files.
#include <string>

#include "vqi/component/artifacts.h"

namespace vqi::component {

Status MapArtifactUris(Recipe* recipe, const std::map<std::string, UploadedArtifact>& uploaded) {
  for (const auto& [name, up] : uploaded) {
    if (Status st = CheckPlainFileName(name); !st.ok())
      return InvalidArgument("uploaded artifact: " + st.message());
    auto hex = NormalizeSha256Digest(up.digest);
    if (!hex.ok() || *hex != up.digest)
      return InvalidArgument("uploaded artifact " + name + ": digest '" + up.digest +
                             "' is not a lowercase hex SHA-256");
  }
  auto list = [&] {
    std::string out;
    for (const auto& [name, up] : uploaded) out += (out.empty() ? "" : ", ") + name;
    return out.empty() ? std::string("none") : out;
  };
  for (size_t i = 0; i < recipe->manifests.size(); ++i) {
    auto& artifacts = recipe->manifests[i].artifacts;
    for (size_t j = 0; j < artifacts.size(); ++j) {
      Artifact& a = artifacts[j];
      const std::string field =
          "Manifests[" + std::to_string(i) + "].Artifacts[" + std::to_string(j) + "]";
      auto name = ArtifactFileName(a.uri);
      if (!name.ok()) return InvalidArgument(field + ".Uri: " + name.status().message());
      if (a.uri.rfind(kContentUriPrefix, 0) == 0) {
        const std::string digest = a.uri.substr(kContentUriPrefix.size(), 64);
        if (!a.digest.empty() && a.digest != digest)
          return InvalidArgument(field + ".Digest: " + a.digest + " differs from the digest in " +
                                 a.uri);
        a.digest = digest;
        a.algorithm = "SHA-256";
        continue;
      }
      if (a.uri.rfind("s3://", 0) != 0 && a.uri.find(':') != std::string::npos) continue;
      auto it = uploaded.find(*name);
      if (it == uploaded.end())
        return NotFound(field + ".Uri: '" + a.uri + "' refers to the file '" + *name +
                        "', which was not uploaded (uploaded: " + list() + ")");
      if (!a.digest.empty() && a.digest != it->second.digest)
        return InvalidArgument(field + ".Digest: the recipe gives " + a.digest + " for '" + a.uri +
                               "', but the uploaded " + *name + " has " + it->second.digest);
      a.uri = std::string(kContentUriPrefix) + it->second.digest + "/" + *name;
      a.digest = it->second.digest;
      a.algorithm = "SHA-256";
    }
  }
  return Status::Ok();
}

}  // namespace vqi::component
