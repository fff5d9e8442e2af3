// Writing synthetic tags (see synth.h) into a store or a YOLO folder. Deterministic: the same
// options and count give the same files, so re-running adds nothing to a store.
#pragma once

#include <string>

#include "vqi/base/status.h"
#include "vqi/dataset/store.h"
#include "vqi/dataset/synth.h"

namespace vqi::dataset {

struct SynthRunReport {
  int images = 0;
  int new_images = 0;
  int boxes = 0;
  int defective = 0;  // images with at least one scratch
};

// Images "synth-s<seed>-<index>.jpg" (JPEG quality 95), each its own capture, labeled
// APPROVED by job "synth:seed=<seed>". One transaction for the whole run.
Result<SynthRunReport> SynthesizeToStore(Store& store, const SynthOptions& options, int count);
// <dir>/images/, <dir>/labels/, <dir>/data.yaml (class 0 = "scratch").
Result<SynthRunReport> SynthesizeToYolo(const std::string& dir, const SynthOptions& options,
                                        int count);

}  // namespace vqi::dataset
