#include "vqi/eval/predictions.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace vqi::eval {

namespace {

double Round3(double v) { return std::round(v * 1000) / 1000; }

std::string BaseName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

class ReplayDetector : public Detector {
 public:
  ReplayDetector(std::string path, std::string model, std::vector<std::string> classes,
                 std::map<std::string, std::vector<Detection>> by_path,
                 std::map<std::string, std::vector<std::string>> paths_by_name)
      : path_(std::move(path)),
        model_(std::move(model)),
        classes_(std::move(classes)),
        by_path_(std::move(by_path)),
        paths_by_name_(std::move(paths_by_name)) {}

  Result<std::vector<Detection>> Detect(const std::string& image_path,
                                        const DetectOptions& options) override {
    auto it = by_path_.find(image_path);
    if (it == by_path_.end()) {
      auto named = paths_by_name_.find(BaseName(image_path));
      if (named == paths_by_name_.end())
        return NotFound(image_path + ": no predictions for this image in " + path_);
      if (named->second.size() > 1)
        return NotFound(image_path + ": " + std::to_string(named->second.size()) +
                        " images named " + named->first + " in " + path_ + " (ambiguous)");
      it = by_path_.find(named->second.front());
    }
    std::vector<Detection> out;
    for (const Detection& d : it->second)
      if (d.score >= options.conf_threshold) out.push_back(d);
    std::stable_sort(out.begin(), out.end(),
                     [](const Detection& a, const Detection& b) { return a.score > b.score; });
    if (options.max_detections > 0 && static_cast<int>(out.size()) > options.max_detections)
      out.resize(options.max_detections);
    return out;
  }

  // The pixels are not needed: the image is looked up by `name` as Detect() does.
  Result<std::vector<Detection>> DetectImage(const ImageView&, const std::string& name,
                                             const DetectOptions& options) override {
    return Detect(name, options);
  }

  std::vector<std::string> ClassNames() const override { return classes_; }
  std::string Describe() const override { return "predictions file (" + model_ + ")"; }

 private:
  std::string path_, model_;
  std::vector<std::string> classes_;
  std::map<std::string, std::vector<Detection>> by_path_;
  std::map<std::string, std::vector<std::string>> paths_by_name_;
};

Result<Detection> ParseDetection(const Json& j, int classes) {
  if (!j.is_object() || !j.contains("box") || !j["box"].is_array() || j["box"].size() != 4)
    return InvalidArgument("needs \"box\": [x1, y1, x2, y2]");
  Detection d;
  float* v[4] = {&d.x1, &d.y1, &d.x2, &d.y2};
  for (int k = 0; k < 4; ++k) {
    if (!j["box"][k].is_number()) return InvalidArgument("box values must be numbers");
    *v[k] = j["box"][k].get<float>();
  }
  if (!j.contains("score") || !j["score"].is_number())
    return InvalidArgument("needs a numeric \"score\"");
  d.score = j["score"].get<float>();
  if (!j.contains("class_id") || !j["class_id"].is_number_integer())
    return InvalidArgument("needs an integer \"class_id\"");
  d.class_id = j["class_id"].get<int>();
  if (d.class_id < 0 || d.class_id >= classes)
    return InvalidArgument("class_id " + std::to_string(d.class_id) + " outside the " +
                           std::to_string(classes) + " classes");
  return d;
}

}  // namespace

OrderedJson PredictionToJson(const std::string& file, int width, int height,
                             std::span<const Detection> detections,
                             const std::vector<std::string>& class_names) {
  OrderedJson j;
  j["file"] = file;
  if (width > 0 && height > 0) {
    j["width"] = width;
    j["height"] = height;
  }
  OrderedJson dets = OrderedJson::array();
  for (const Detection& d : detections) {
    OrderedJson o;
    o["box"] = {Round3(d.x1), Round3(d.y1), Round3(d.x2), Round3(d.y2)};
    o["score"] = std::round(d.score * 1e5) / 1e5;
    o["class_id"] = d.class_id;
    o["class"] = d.class_id >= 0 && d.class_id < static_cast<int>(class_names.size())
                     ? class_names[d.class_id]
                     : std::to_string(d.class_id);
    dets.push_back(o);
  }
  j["detections"] = dets;
  return j;
}

OrderedJson PredictionsFileJson(const std::string& model,
                                const std::vector<std::string>& class_names,
                                std::vector<OrderedJson> images) {
  OrderedJson j;
  j["model"] = model;
  j["classes"] = class_names;
  j["images"] = std::move(images);
  return j;
}

Result<std::unique_ptr<Detector>> OpenPredictionsFile(const std::string& path) {
  VQI_ASSIGN_OR_RETURN(Json j, ReadJsonFile(path));
  if (!j.is_object() || !j.contains("classes") || !j["classes"].is_array() ||
      !j.contains("images") || !j["images"].is_array())
    return InvalidArgument(path + ": expected an object with \"classes\" and \"images\" arrays");
  std::vector<std::string> classes;
  for (const Json& c : j["classes"]) {
    if (!c.is_string()) return InvalidArgument(path + ": \"classes\" must hold strings");
    classes.push_back(c.get<std::string>());
  }
  std::map<std::string, std::vector<Detection>> by_path;
  std::map<std::string, std::vector<std::string>> paths_by_name;
  for (size_t i = 0; i < j["images"].size(); ++i) {
    const Json& im = j["images"][i];
    const std::string at = path + ": images[" + std::to_string(i) + "]";
    if (!im.is_object() || !im.contains("file") || !im["file"].is_string())
      return InvalidArgument(at + ": needs a string \"file\"");
    const std::string file = im["file"].get<std::string>();
    if (by_path.count(file)) return InvalidArgument(at + ": duplicate file " + file);
    std::vector<Detection>& dets = by_path[file];
    paths_by_name[BaseName(file)].push_back(file);
    if (!im.contains("detections") || !im["detections"].is_array())
      return InvalidArgument(at + ": needs a \"detections\" array");
    for (size_t k = 0; k < im["detections"].size(); ++k) {
      Result<Detection> d = ParseDetection(im["detections"][k], static_cast<int>(classes.size()));
      if (!d.ok())
        return InvalidArgument(at + ".detections[" + std::to_string(k) +
                               "]: " + d.status().message());
      dets.push_back(*d);
    }
  }
  std::string model = j.contains("model") && j["model"].is_string() ? j["model"].get<std::string>()
                                                                    : std::string("unknown model");
  return std::unique_ptr<Detector>(std::make_unique<ReplayDetector>(
      path, std::move(model), std::move(classes), std::move(by_path), std::move(paths_by_name)));
}

}  // namespace vqi::eval
