// One entry of a manifest's Artifacts.
#include "decoder.h"
#include "vqi/component/artifacts.h"

namespace vqi::component::internal {

Status Decoder::DecodeArtifact(const Json& a, const std::string& path, Artifact* out) const {
  VQI_ASSIGN_OR_RETURN(
      Fields f, ReadFields(a, path, {"Uri", "Digest", "Algorithm", "Unarchive", "Permission"}));
  if (!f.count("Uri")) return Fail(path, "missing required key 'Uri'");
  VQI_ASSIGN_OR_RETURN(out->uri, String(f["Uri"], true));
  if (auto name = ArtifactFileName(out->uri); !name.ok())
    return Fail(f["Uri"].path, name.status().message());
  if (f.count("Digest")) {
    VQI_ASSIGN_OR_RETURN(std::string d, String(f["Digest"], true));
    auto hex = NormalizeSha256Digest(d);
    if (!hex.ok()) return Fail(f["Digest"].path, hex.status().message());
    out->digest = *hex;
    out->algorithm = "SHA-256";
  }
  if (f.count("Algorithm")) {
    VQI_ASSIGN_OR_RETURN(std::string alg, String(f["Algorithm"]));
    if (alg != "SHA-256")
      return Fail(f["Algorithm"].path,
                  "must be SHA-256 (the only digest vqi verifies), not '" + alg + "'");
    if (out->digest.empty()) return Fail(f["Algorithm"].path, "is given without a Digest");
  }
  if (f.count("Unarchive")) {
    VQI_ASSIGN_OR_RETURN(size_t u, Enum(f["Unarchive"], {"NONE", "ZIP"}));
    out->unarchive = u == 0 ? Unarchive::kNone : Unarchive::kZip;
  }
  if (f.count("Permission")) {
    const Field& p = f["Permission"];
    VQI_ASSIGN_OR_RETURN(Fields perm, ReadFields(*p.value, p.path, {"Read", "Execute"}));
    static constexpr Permission kPerms[] = {Permission::kNone, Permission::kOwner,
                                            Permission::kAll};
    if (perm.count("Read")) {
      VQI_ASSIGN_OR_RETURN(size_t r, Enum(perm["Read"], {"NONE", "OWNER", "ALL"}));
      out->read = kPerms[r];
    }
    if (perm.count("Execute")) {
      VQI_ASSIGN_OR_RETURN(size_t x, Enum(perm["Execute"], {"NONE", "OWNER", "ALL"}));
      out->execute = kPerms[x];
    }
  }
  return Status::Ok();
}

}  // namespace vqi::component::internal
