// Labeled images as the rest of vqi sees them (training, evaluation, export).
#pragma once

#include <string>
#include <vector>

namespace vqi::dataset {

// An axis-aligned box in image pixels; (x, y) is the top-left corner.
struct Box {
  int class_id = 0;
  float x = 0, y = 0, w = 0, h = 0;
  bool operator==(const Box&) const = default;
};

struct Sample {
  std::string image_id;    // SHA-256 of the image bytes
  std::string path;        // absolute path of the image file (content-addressed blob)
  std::string name;        // original file name, e.g. image-...-cropped-left-top.jpg
  std::string capture_id;  // name prefix before "-cropped" (the whole stem if absent)
  int width = 0, height = 0;
  std::vector<Box> boxes;  // the current (latest APPROVED) label; empty = no defect
};

}  // namespace vqi::dataset
