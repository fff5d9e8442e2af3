// Test helpers: a valid vqi.inspect.result/1 payload for a thing.
#pragma once

#include <string>

#include "vqi/base/json.h"
#include "vqi/transport/topics.h"

namespace vqi::results::testing {

// A 64-hex image id derived from `n` (distinct n, distinct ids).
inline std::string ImageId(int n) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016x", n);
  return std::string(48, 'a') + buf;
}

inline Json ResultDoc(const std::string& thing, int n, const std::string& verdict = "pass",
                      double model_ms = 10, const std::string& component = "vqi.inspect") {
  return Json{{"schema", "vqi.inspect.result/1"},
              {"id", thing + ":" + ImageId(n)},
              {"thing", thing},
              {"component", component},
              {"topic", transport::topics::ResultsTopic(thing, component)},
              {"model", {{"name", "tags"}, {"version", "1.2.0"}, {"file", "model.onnx"}}},
              {"image", {{"id", ImageId(n)}, {"name", "img" + std::to_string(n) + ".jpg"}}},
              {"timestamp", "2026-12-06T10:00:00.123Z"},
              {"verdict", verdict},
              {"uncertain", n % 5 == 0},
              {"best_score", 0.1},
              {"detections", Json::array()},
              {"timings_ms", {{"model", model_ms}, {"total", model_ms + 2}}},
              {"image_name", "img" + std::to_string(n) + ".jpg"}};
}

inline std::string Topic(const std::string& thing, const std::string& component = "vqi.inspect") {
  return transport::topics::ResultsTopic(thing, component);
}

}  // namespace vqi::results::testing
