// A simulated camera for demos and tests: copies the files of one folder into the camera folder
// at a fixed rate, each written under a hidden temporary name and renamed into place, so a
// watcher never sees half a file (`vqi camera simulate`).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "vqi/base/clock.h"
#include "vqi/base/status.h"

namespace vqi::inspect {

struct CameraOptions {
  std::string from, to;
  double fps = 1;     // files per second, (0, 1000]
  int64_t count = 0;  // files to write; 0 = each source file once. More than the source holds
                      // cycles through it again, naming later rounds "r<k>-<name>".
};

struct CameraReport {
  int64_t files = 0, bytes = 0;
  double seconds = 0;
};

// Source files: the regular, non-hidden files of `from` (not recursive), by name; any content
// (a camera folder may receive junk too). InvalidArgument when `from` has none, when `from` and
// `to` are the same folder, for fps/count out of range; `to` is created. `on_file` (may be
// null) is called with each written name. Stops early when *cancel becomes true.
Result<CameraReport> SimulateCamera(const CameraOptions& options, Clock& clock,
                                    const std::function<void(const std::string&)>& on_file,
                                    const std::atomic<bool>* cancel = nullptr);

}  // namespace vqi::inspect
