// VersionLess: semantic-version order of stored versions (the semver library's precedence).
#include "vqi/component/semver.h"
#include "vqi/component/store.h"

namespace vqi::component {

bool VersionLess(const std::string& a, const std::string& b) {
  auto pa = ParseVersion(a, "version"), pb = ParseVersion(b, "version");
  if (!pa.ok() || !pb.ok()) {
    if (pa.ok() != pb.ok()) return pa.ok();  // versions before anything else
    return a < b;
  }
  if (int c = Compare(*pa, *pb); c != 0) return c < 0;
  return a < b;  // equal precedence (build metadata): a stable order by text
}

}  // namespace vqi::component
