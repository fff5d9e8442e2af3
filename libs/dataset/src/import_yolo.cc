// YOLO (Ultralytics layout): data.yaml with the class names; every image below a folder named
// "images" has its labels at the same place below "labels", extension ".txt". An image without
// a label file is unlabeled; an empty label file means "no defect".
#include <filesystem>
#include <set>
#include <sstream>

#include "import_plan.h"
#include "text_formats.h"
#include "vqi/base/file.h"
#include "vqi/dataset/limits.h"
#include "yolo_format.h"

namespace vqi::dataset {
namespace fs = std::filesystem;

namespace {

// The label path of an image path (relative, '/'-separated), or "" if not under images/.
std::string LabelPathOf(const std::string& rel) {
  const std::string key = "images/";
  size_t at = rel.rfind("/" + key);
  if (at != std::string::npos) {
    ++at;
  } else if (rel.rfind(key, 0) == 0) {
    at = 0;
  } else {
    return "";
  }
  std::string out = rel.substr(0, at) + "labels/" + rel.substr(at + key.size());
  const size_t slash = out.rfind('/'), dot = out.rfind('.');
  if (dot != std::string::npos && dot > slash) out.resize(dot);
  return out + ".txt";
}

void PlanLabels(ImportPlan& plan, const std::string& dir, const std::string& label_rel,
                const std::string& id, int num_classes) {
  auto text = ReadLabelFile(dir + "/" + label_rel);
  if (!text.ok()) return plan.Error(label_rel, 0, text.status().message());
  const ImageRecord* img = plan.Image(id);
  PlannedLabel label;
  label.image_id = id;
  label.job = "import:yolo";
  const std::vector<std::string_view> lines = SplitLines(*text);
  bool ok = true;
  for (int n = 1; n <= static_cast<int>(lines.size()); ++n) {
    const std::string line(lines[n - 1]);
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    auto box = ParseYoloLine(line, img->width, img->height);
    Status st = box.ok() ? ValidateBox(*box, img->width, img->height, num_classes) : box.status();
    if (!st.ok()) {
      plan.Error(label_rel, n, st.message());
      ok = false;
      continue;
    }
    if (label.boxes.size() >= static_cast<size_t>(kMaxBoxesPerImage)) {
      plan.Error(label_rel, n,
                 "more than " + std::to_string(kMaxBoxesPerImage) + " boxes; the limit is " +
                     std::to_string(kMaxBoxesPerImage) + " per image");
      return;
    }
    label.boxes.push_back(*box);
  }
  if (ok) plan.AddLabel(std::move(label));
}

}  // namespace

Result<ImportReport> ImportYolo(Store& store, const std::string& dir_in,
                                const ImportOptions& options) {
  const std::string dir = fs::path(dir_in).lexically_normal().string();
  ImportPlan plan("yolo");
  VQI_ASSIGN_OR_RETURN(plan.class_names, ReadDataYamlNames(dir + "/data.yaml"));
  std::vector<ImportIssue> listing_issues;
  VQI_ASSIGN_OR_RETURN(std::vector<std::string> files, ListFiles(dir, &listing_issues));
  plan.Errors(listing_issues);
  std::vector<std::string> images, displays;
  std::set<std::string> label_files;
  for (const std::string& f : files) {
    const std::string rel = RelativePath(f, dir);
    if (!LabelPathOf(rel).empty()) {
      images.push_back(f);
      displays.push_back(rel);
    } else if (rel.size() > 4 && rel.substr(rel.size() - 4) == ".txt" &&
               (rel.rfind("labels/", 0) == 0 || rel.find("/labels/") != std::string::npos)) {
      label_files.insert(rel);
    }
  }
  const std::map<std::string, std::string> ids = plan.AddImageFiles(images, displays);
  std::set<std::string> claimed;
  for (const std::string& rel : displays) {
    const std::string label_rel = LabelPathOf(rel);
    if (label_files.count(label_rel) == 0) continue;  // unlabeled
    claimed.insert(label_rel);
    auto it = ids.find(rel);
    if (it == ids.end()) continue;  // the image itself was reported
    PlanLabels(plan, dir, label_rel, it->second, static_cast<int>(plan.class_names.size()));
  }
  for (const std::string& l : label_files)
    if (!claimed.count(l)) plan.Error(l, 0, "missing image file for this label file");
  return plan.Apply(store, options);
}

}  // namespace vqi::dataset
