#include "vqi/agent/install.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "vqi/base/file.h"
#include "vqi/component/interpolate.h"
#include "vqi/component/zip.h"

namespace vqi::agent {
namespace fs = std::filesystem;
namespace {

mode_t ModeOf(const component::Artifact& a) {
  mode_t m = 0;
  if (a.read == component::Permission::kOwner) m |= 0400;
  if (a.read == component::Permission::kAll) m |= 0444;
  if (a.execute == component::Permission::kOwner) m |= 0100;
  if (a.execute == component::Permission::kAll) m |= 0111;
  return m;
}

std::string TempName(const std::string& dir) {
  static int n = 0;
  return dir + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(++n);
}

Status Fail(const std::string& what, const std::error_code& ec) {
  return Unavailable(what + ": " + ec.message());
}

}  // namespace

Status InstallArtifacts(const std::string& root, const PlannedComponent& c,
                        const std::vector<LocalArtifact>& files) {
  const component::ComponentContext ctx = component::GreengrassLayout(root, c.name, c.version);
  VQI_RETURN_IF_ERROR(MakeDirs(ctx.work_path));
  if (files.size() != c.manifest.artifacts.size())
    return Internal("artifact source returned " + std::to_string(files.size()) + " files for " +
                    std::to_string(c.manifest.artifacts.size()) + " artifacts");
  std::error_code ec;
  bool any_zip = false;
  for (const auto& a : c.manifest.artifacts) any_zip |= a.unarchive == component::Unarchive::kZip;

  if (!fs::exists(ctx.artifacts_path, ec)) {
    VQI_RETURN_IF_ERROR(MakeDirs(fs::path(ctx.artifacts_path).parent_path().string()));
    const std::string tmp = TempName(ctx.artifacts_path);
    VQI_RETURN_IF_ERROR(MakeDirs(tmp));
    for (size_t i = 0; i < files.size(); ++i) {
      const std::string dest = tmp + "/" + files[i].file_name;
      fs::copy_file(files[i].path, dest, fs::copy_options::overwrite_existing, ec);
      if (ec) {
        fs::remove_all(tmp, ec);
        return Fail("copy " + files[i].path + " to " + dest, ec);
      }
      // Owner write is kept off: install folders are read-only, as Greengrass makes them.
      if (::chmod(dest.c_str(), ModeOf(c.manifest.artifacts[i])) != 0)
        return Unavailable("chmod " + dest + " failed");
    }
    fs::rename(tmp, ctx.artifacts_path, ec);
    if (ec) {
      fs::remove_all(tmp, ec);
      return Fail("rename to " + ctx.artifacts_path, ec);
    }
  }
  if (any_zip && !fs::exists(ctx.decompressed_path, ec)) {
    VQI_RETURN_IF_ERROR(MakeDirs(fs::path(ctx.decompressed_path).parent_path().string()));
    const std::string tmp = TempName(ctx.decompressed_path);
    VQI_RETURN_IF_ERROR(MakeDirs(tmp));
    component::ComponentContext tctx = ctx;
    tctx.decompressed_path = tmp;
    for (size_t i = 0; i < files.size(); ++i) {
      if (c.manifest.artifacts[i].unarchive != component::Unarchive::kZip) continue;
      Status st = component::ExtractZip(ctx.artifacts_path + "/" + files[i].file_name,
                                        component::UnarchivedDir(tctx, files[i].file_name));
      if (!st.ok()) {
        fs::remove_all(tmp, ec);
        return st.WithContext(c.name + " " + c.version + ": artifact " + files[i].uri);
      }
    }
    fs::rename(tmp, ctx.decompressed_path, ec);
    if (ec) {
      fs::remove_all(tmp, ec);
      return Fail("rename to " + ctx.decompressed_path, ec);
    }
  }
  return Status::Ok();
}

}  // namespace vqi::agent
