// libFuzzer: the YOLO importer. The input up to the first NUL byte is data.yaml (when there
// is a NUL), the rest the label file of images/a.jpg.
#include <cstddef>
#include <cstdint>
#include <string>

#include "dataset_fuzz_env.h"
#include "vqi/dataset/import.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto& env = vqi::dataset::fuzz::GetEnv("images");
  const std::string text(reinterpret_cast<const char*>(data), size);
  const size_t nul = text.find('\0');
  const std::string yaml =
      nul == std::string::npos ? "names: [scratch, dent]\n" : text.substr(0, nul);
  const std::string labels = nul == std::string::npos ? text : text.substr(nul + 1);
  if (!vqi::dataset::fuzz::WriteInput(env.data + "/data.yaml", yaml)) return 0;
  if (!vqi::dataset::fuzz::WriteInput(env.data + "/labels/a.txt", labels)) return 0;
  vqi::dataset::ImportOptions o;
  o.strict = true;
  (void)vqi::dataset::ImportYolo(*env.store, env.data, o);
  return 0;
}
