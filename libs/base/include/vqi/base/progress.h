// A one-line progress bar with rate and ETA on stderr. Silent when stderr is not a
// terminal (CI, pipes) unless forced. Not thread-safe: update from one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace vqi {

class ProgressBar {
 public:
  ProgressBar(int64_t total, std::string label, bool force = false);
  ~ProgressBar();
  // Sets the absolute position; `suffix` is shown after the bar (e.g. loss parts).
  void Update(int64_t done, const std::string& suffix = "");
  void Finish();
  bool enabled() const { return enabled_; }

 private:
  int64_t total_;
  std::string label_;
  bool enabled_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace vqi
