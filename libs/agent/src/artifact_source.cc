#include "vqi/agent/artifact_source.h"

#include <algorithm>
#include <filesystem>

#include "vqi/base/file.h"
#include "vqi/base/hash.h"
#include "vqi/component/limits.h"

namespace vqi::agent {
namespace fs = std::filesystem;

Result<std::string> ArtifactFileName(std::string_view uri) {
  const size_t slash = uri.find_last_of('/');
  std::string name(slash == std::string_view::npos ? uri : uri.substr(slash + 1));
  if (name.empty() || name == "." || name == "..")
    return InvalidArgument("artifact URI '" + std::string(uri) + "' names no file");
  return name;
}

Result<std::unique_ptr<LocalArtifactSource>> LocalArtifactSource::Open(
    const std::string& recipes_dir, const std::string& artifacts_dir) {
  auto src = std::unique_ptr<LocalArtifactSource>(new LocalArtifactSource());
  src->artifacts_dir_ = artifacts_dir;
  std::error_code ec;
  if (!fs::is_directory(recipes_dir, ec))
    return NotFound("--recipes " + recipes_dir + ": not a folder");
  if (!fs::is_directory(artifacts_dir, ec))
    return NotFound("--artifacts " + artifacts_dir + ": not a folder");
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(recipes_dir, ec)) {
    const std::string ext = e.path().extension().string();
    if (e.is_regular_file() && (ext == ".json" || ext == ".yaml" || ext == ".yml"))
      files.push_back(e.path().string());
  }
  if (ec) return Unavailable("--recipes " + recipes_dir + ": " + ec.message());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    VQI_ASSIGN_OR_RETURN(std::string text, ReadFile(f, component::kMaxRecipeBytes));
    VQI_ASSIGN_OR_RETURN(component::Recipe r, component::ParseRecipe(text, f));
    for (const auto& o : src->recipes_)
      if (o.name == r.name && o.version == r.version)
        return InvalidArgument(f + ": a second recipe of " + r.name + " " + r.version);
    src->recipes_.push_back(std::move(r));
  }
  return src;
}

Result<component::Recipe> LocalArtifactSource::GetRecipe(std::string_view name,
                                                         std::string_view version) {
  for (const auto& r : recipes_)
    if (r.name == name && r.version == version) return r;
  return NotFound("no recipe of component " + std::string(name) + " version " +
                  std::string(version) + " in --recipes");
}

Result<std::vector<LocalArtifact>> LocalArtifactSource::GetArtifacts(
    const component::Recipe& recipe, const component::Manifest& manifest) {
  std::vector<LocalArtifact> out;
  for (const auto& a : manifest.artifacts) {
    LocalArtifact la;
    la.uri = a.uri;
    VQI_ASSIGN_OR_RETURN(la.file_name, ArtifactFileName(a.uri));
    la.path = artifacts_dir_ + "/" + recipe.name + "/" + recipe.version + "/" + la.file_name;
    std::error_code ec;
    if (!fs::is_regular_file(la.path, ec))
      return NotFound("artifact " + a.uri + " of " + recipe.name + " " + recipe.version +
                      ": no file " + la.path);
    if (!a.digest.empty()) {
      VQI_ASSIGN_OR_RETURN(std::string got, Sha256File(la.path));
      if (got != a.digest)
        return DataLoss("artifact " + a.uri + " of " + recipe.name + " " + recipe.version + " (" +
                        la.path + "): SHA-256 " + got + ", the recipe says " + a.digest);
    }
    out.push_back(std::move(la));
  }
  return out;
}

}  // namespace vqi::agent
