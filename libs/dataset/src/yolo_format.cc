#include "yolo_format.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

#include "import_plan.h"
#include "vqi/base/file.h"

namespace vqi::dataset {

bool HasImageExtension(const std::string& file_name) {
  const size_t dot = file_name.rfind('.');
  if (dot == std::string::npos) return false;
  std::string ext = file_name.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  for (const char* e : {"jpg", "jpeg", "png", "bmp", "tif", "tiff", "webp"})
    if (ext == e) return true;
  return false;
}

std::string YoloLabelText(const std::vector<Box>& boxes, int width, int height) {
  std::string out;
  char buf[160];
  for (const Box& b : boxes) {
    const double w = static_cast<double>(b.w) / width, h = static_cast<double>(b.h) / height;
    const double cx = (static_cast<double>(b.x) + b.w / 2.0) / width;
    const double cy = (static_cast<double>(b.y) + b.h / 2.0) / height;
    std::snprintf(buf, sizeof buf, "%d %.17g %.17g %.17g %.17g\n", b.class_id, cx, cy, w, h);
    out += buf;
  }
  return out;
}

Result<Box> ParseYoloLine(const std::string& line, int width, int height) {
  std::istringstream in(line);
  std::vector<std::string> tok;
  for (std::string t; in >> t;) tok.push_back(t);
  if (tok.size() != 5)
    return InvalidArgument("expected 5 values (class cx cy w h), got " +
                           std::to_string(tok.size()));
  double v[5];
  for (int i = 0; i < 5; ++i) {
    char* end = nullptr;
    v[i] = std::strtod(tok[i].c_str(), &end);
    if (end != tok[i].c_str() + tok[i].size() || !std::isfinite(v[i]))
      return InvalidArgument("'" + tok[i] + "' is not a number");
  }
  if (v[0] != std::floor(v[0]) || v[0] < 0 || v[0] > 1e9)
    return InvalidArgument("class id '" + tok[0] + "' is not a non-negative integer");
  for (int i = 1; i < 5; ++i)
    if (std::fabs(v[i]) > 1e3)  // normalized: anything near [0, 1]; far beyond is garbage
      return InvalidArgument("'" + tok[i] +
                             "' is out of range (coordinates are normalized to 0..1)");
  const double w = v[3] * width, h = v[4] * height;
  double x = v[1] * width - w / 2, y = v[2] * height - h / 2;
  // Tolerate sub-pixel overshoot from rounded coordinates by clipping it.
  if (x < 0 && x > -0.5) x = 0;
  if (y < 0 && y > -0.5) y = 0;
  Box b{static_cast<int>(v[0]), static_cast<float>(x), static_cast<float>(y), static_cast<float>(w),
        static_cast<float>(h)};
  if (b.x + b.w > width && b.x + b.w < width + 0.5) b.w = static_cast<float>(width - x);
  if (b.y + b.h > height && b.y + b.h < height + 0.5) b.h = static_cast<float>(height - y);
  return b;
}

Status WriteDataYaml(const std::string& dir, const std::vector<std::string>& names,
                     const std::vector<std::string>& parts) {
  YAML::Emitter y;
  y << YAML::BeginMap;
  // No `path`: Ultralytics then resolves the folders against this file's directory.
  const bool flat = parts.size() == 1 && parts[0].empty();
  for (const char* p : {"train", "val", "test"}) {
    if (flat) {
      if (std::string(p) != "test") y << YAML::Key << p << YAML::Value << "images";
    } else if (std::find(parts.begin(), parts.end(), p) != parts.end()) {
      y << YAML::Key << p << YAML::Value << std::string("images/") + p;
    }
  }
  y << YAML::Key << "nc" << YAML::Value << names.size();
  y << YAML::Key << "names" << YAML::Value << YAML::BeginMap;
  for (size_t i = 0; i < names.size(); ++i) y << YAML::Key << i << YAML::Value << names[i];
  y << YAML::EndMap << YAML::EndMap;
  return WriteFileAtomic(dir + "/data.yaml",
                         std::string("# YOLO dataset exported by vqi\n") + y.c_str() + "\n");
}

Result<std::vector<std::string>> ReadDataYamlNames(const std::string& path) {
  VQI_ASSIGN_OR_RETURN(std::string text, ReadLabelFile(path));
  try {
    const YAML::Node root = YAML::Load(text);
    const YAML::Node names = root["names"];
    if (!names) return InvalidArgument(path + ": no 'names' (the class names)");
    std::vector<std::string> out;
    if (names.IsSequence()) {
      for (const auto& n : names) out.push_back(n.as<std::string>());
    } else if (names.IsMap()) {
      std::map<int, std::string> by_id;
      for (const auto& kv : names) {
        const int id = kv.first.as<int>();
        if (!by_id.emplace(id, kv.second.as<std::string>()).second)
          return InvalidArgument(path + ": 'names' lists id " + std::to_string(id) + " twice");
      }
      int expect = 0;
      for (const auto& [id, name] : by_id) {
        if (id != expect++)
          return InvalidArgument(path + ": 'names' ids must be 0..n-1 without gaps");
        out.push_back(name);
      }
    } else {
      return InvalidArgument(path + ": 'names' must be a list or a map");
    }
    VQI_RETURN_IF_ERROR(ValidateClassNames(out, path + ": names"));
    if (root["nc"] && root["nc"].as<size_t>() != out.size())
      return InvalidArgument(path + ": nc " + root["nc"].as<std::string>() + " but " +
                             std::to_string(out.size()) + " names");
    return out;
  } catch (const YAML::Exception& e) {
    return InvalidArgument(path + ": " + e.what());
  }
}

}  // namespace vqi::dataset
