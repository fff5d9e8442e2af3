// Transitional (see libs/infer/CMakeLists.txt): the oneDNN engine's own tests and bench (linked
// with vqi_onednn_testing) open "onednn" through the registry; until they call
// RegisterOnednnBackend() themselves, this registers it for them. Never in a product target.
#include "vqi/infer/onednn.h"

namespace {
[[maybe_unused]] const bool kRegistered = [] {
  vqi::infer::RegisterOnednnBackend();
  return true;
}();
}  // namespace
