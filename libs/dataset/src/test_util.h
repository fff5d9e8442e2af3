// Helpers for dataset tests: temporary folders and small distinct images.
#pragma once

#include <string>

namespace vqi::dataset::testing {

// A fresh folder under $TMPDIR, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

// Encoded image bytes, distinct per `seed`. `ext` picks the codec (".jpg", ".png").
std::string ImageBytes(int width, int height, int seed, const std::string& ext = ".jpg");
// Writes ImageBytes to `path`, creating parent folders.
void WriteImage(const std::string& path, int width, int height, int seed,
                const std::string& ext = ".jpg");
void WriteText(const std::string& path, const std::string& text);

}  // namespace vqi::dataset::testing
