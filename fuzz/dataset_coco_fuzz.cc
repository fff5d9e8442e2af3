// libFuzzer: the COCO JSON importer (ids, categories, file names, boxes) on a folder with
// two real images.
#include <cstddef>
#include <cstdint>

#include "dataset_fuzz_env.h"
#include "vqi/dataset/import.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto& env = vqi::dataset::fuzz::GetEnv("images");
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (!vqi::dataset::fuzz::WriteInput(env.data + "/annotations.json", text)) return 0;
  vqi::dataset::ImportOptions o;
  o.strict = true;
  (void)vqi::dataset::ImportCoco(*env.store, env.data, o);
  return 0;
}
