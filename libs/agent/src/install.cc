#include "vqi/agent/install.h"

#include <fcntl.h>
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

Status SyncPath(const std::string& path, bool dir) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (dir ? O_DIRECTORY : 0));
  if (fd < 0) return Unavailable("open " + path + " to sync it failed");
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Unavailable("fsync " + path + " failed");
  return Status::Ok();
}

// Every file and folder under `dir`, then `dir`: a folder renamed into place after a power loss
// holds whole files, never empty or short ones (kill -9 cannot show this; a power cut can).
// `files` false: only the folders (the caller synced the files before making them read-only).
Status SyncTree(const std::string& dir, bool files) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_symlink(ec)) continue;
    const bool is_dir = it->is_directory(ec);
    if (is_dir || files) VQI_RETURN_IF_ERROR(SyncPath(it->path().string(), is_dir));
  }
  if (ec) return Fail("walk " + dir, ec);
  return SyncPath(dir, true);
}

// tmp → final, durably: contents synced first, the parent folder after the rename.
Status CommitFolder(const std::string& tmp, const std::string& final_path, bool sync_files) {
  std::error_code ec;
  Status st = SyncTree(tmp, sync_files);
  if (st.ok()) {
    fs::rename(tmp, final_path, ec);
    if (ec) st = Fail("rename to " + final_path, ec);
  }
  if (!st.ok()) {
    fs::remove_all(tmp, ec);
    return st;
  }
  return SyncPath(fs::path(final_path).parent_path().string(), true);
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
      if (Status st = SyncPath(dest, false); !st.ok()) {
        fs::remove_all(tmp, ec);
        return st;
      }
      // Owner write is kept off: install folders are read-only, as Greengrass makes them.
      if (::chmod(dest.c_str(), ModeOf(c.manifest.artifacts[i])) != 0)
        return Unavailable("chmod " + dest + " failed");
    }
    VQI_RETURN_IF_ERROR(CommitFolder(tmp, ctx.artifacts_path, /*sync_files=*/false));
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
    VQI_RETURN_IF_ERROR(CommitFolder(tmp, ctx.decompressed_path, /*sync_files=*/true));
  }
  return Status::Ok();
}

}  // namespace vqi::agent
