// Where the agent gets a component version's recipe and artifact files: the one interface
// between the engine and the ways of obtaining components (local folders now; the server
// downloader in src/fetch* implements it too).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vqi/base/status.h"
#include "vqi/component/recipe.h"

namespace vqi::agent {

// One artifact of a manifest as a verified local file.
struct LocalArtifact {
  std::string uri;        // as in the recipe
  std::string file_name;  // the name it gets in the install folder (last URI segment)
  std::string path;       // a readable local file whose digest has been checked
};

// Thread-compatible. Implementations verify before they return: a file is only returned when
// its SHA-256 (and, for signed sources, the publisher's signature) matched.
class ArtifactSource {
 public:
  virtual ~ArtifactSource() = default;
  // The recipe of `name` at exactly `version`. NotFound names both.
  virtual Result<component::Recipe> GetRecipe(std::string_view name, std::string_view version) = 0;
  // The verified files of `manifest.artifacts`, in the same order. NotFound when one is
  // missing, DataLoss when a digest differs (naming the artifact, expected and actual digest).
  virtual Result<std::vector<LocalArtifact>> GetArtifacts(const component::Recipe& recipe,
                                                          const component::Manifest& manifest) = 0;
};

// The last '/'-separated segment of an artifact URI ("s3://b/k/model.zip" → "model.zip");
// InvalidArgument when it is empty, "." or "..".
Result<std::string> ArtifactFileName(std::string_view uri);

// Greengrass's local development layout (`greengrass-cli deployment create --recipeDir
// --artifactDir`): every *.json / *.yaml / *.yml file of `recipes_dir` is a recipe, and an
// artifact of component N version V is `artifacts_dir/N/V/<file name>`.
class LocalArtifactSource : public ArtifactSource {
 public:
  // Parses every recipe (errors name the file and line). InvalidArgument for two recipes of
  // one component version.
  static Result<std::unique_ptr<LocalArtifactSource>> Open(const std::string& recipes_dir,
                                                           const std::string& artifacts_dir);
  const std::vector<component::Recipe>& recipes() const { return recipes_; }
  Result<component::Recipe> GetRecipe(std::string_view name, std::string_view version) override;
  Result<std::vector<LocalArtifact>> GetArtifacts(const component::Recipe& recipe,
                                                  const component::Manifest& manifest) override;

 private:
  std::vector<component::Recipe> recipes_;
  std::string artifacts_dir_;
};

}  // namespace vqi::agent
