// Test helpers: a valid vqi.inspect.result/1 payload for a thing.
#pragma once

#include <cstdint>
#include <cstdio>
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

// A small valid 24-bit BMP (width x height), its pixels distinct per `seed`: an image the
// dataset accepts (ProbeImage decodes it), made without OpenCV.
inline std::string BmpBytes(int width, int height, int seed) {
  const int row = (width * 3 + 3) / 4 * 4;
  const uint32_t data = static_cast<uint32_t>(row * height), size = 54 + data;
  std::string b(size, '\0');
  auto put32 = [&](size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) b[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
  };
  b[0] = 'B';
  b[1] = 'M';
  put32(2, size);
  put32(10, 54);
  put32(14, 40);
  put32(18, static_cast<uint32_t>(width));
  put32(22, static_cast<uint32_t>(height));
  b[26] = 1;   // planes
  b[28] = 24;  // bits per pixel
  put32(34, data);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width * 3; ++x)
      b[54 + y * row + x] = static_cast<char>((x * 7 + y * 13 + seed * 31) & 0xff);
  return b;
}

inline std::string Topic(const std::string& thing, const std::string& component = "vqi.inspect") {
  return transport::topics::ResultsTopic(thing, component);
}

}  // namespace vqi::results::testing
