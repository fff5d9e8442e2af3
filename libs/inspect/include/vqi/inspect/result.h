// One inspection result: what is published per image (docs/design/inspect.md documents every
// field of the JSON envelope, including the keys AWS's sample inference components publish).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "vqi/base/json.h"
#include "vqi/base/status.h"
#include "vqi/eval/detector.h"

namespace vqi::inspect {

enum class Verdict { kPass, kFail, kError };
const char* VerdictName(Verdict v);  // "pass", "fail", "error"

struct Timings {
  double queue_ms = 0, read_ms = 0, decode_ms = 0, pre_ms = 0, model_ms = 0, post_ms = 0,
         total_ms = 0;
};

struct DriftReport {
  double score = 0;     // max over features of D / D_crit (1 = at the alert threshold)
  bool alert = false;   // score > 1
  std::string feature;  // the feature with the largest score
  int window = 0;       // images in the window
  std::map<std::string, double> scores;  // D / D_crit of each compared feature (not in results)
};

struct InspectResult {
  std::string thing, component, topic;
  std::string model_name, model_version, model_file, backend;
  std::string image_id;  // SHA-256 of the file's bytes ("" when it could not be read)
  std::string image_name;
  int width = 0, height = 0;
  int64_t bytes = 0;
  int64_t timestamp_ms = 0;  // Unix milliseconds
  Verdict verdict = Verdict::kError;
  bool uncertain = false;
  float best_score = 0;
  float score_threshold = 0;
  std::vector<eval::Detection> detections;  // >= score_threshold, highest first
  std::vector<std::string> class_names;     // names of class ids
  Timings timings;
  std::optional<DriftReport> drift;
  std::optional<OrderedJson> shadow;  // the candidate's view of this image (shadow.h)
  Status error;                       // set when verdict is kError

  // The idempotency key: "<thing>:<image_id>" (or the name when the bytes were unreadable).
  std::string Id() const;
  OrderedJson ToJson() const;
};

// "2026-12-06T10:00:00.123Z".
std::string FormatTimestampMs(int64_t unix_ms);

}  // namespace vqi::inspect
