// SageMaker Ground-Truth CSV (see ../shared/datasets/metal-tags/README.md):
//   source_ref,image_width,image_height,image_depth,annotations,event_time,labeling_job,status
#include <cmath>
#include <filesystem>

#include "import_plan.h"
#include "text_formats.h"
#include "vqi/base/file.h"
#include "vqi/dataset/limits.h"

namespace vqi::dataset {
namespace fs = std::filesystem;

namespace {

struct Columns {
  int source_ref = -1, width = -1, height = -1, annotations = -1, event_time = -1, job = -1,
      status = -1;
};

int Find(const std::vector<std::string>& header, const std::string& name) {
  for (size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return static_cast<int>(i);
  return -1;
}

bool ParseDouble(const std::string& s, double* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  *out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(*out);
}

// The key of a source_ref in the local folder: the part after "pipeline/assets/".
std::string LocalKey(const std::string& source_ref) {
  static const std::string kMarker = "pipeline/assets/";
  const size_t at = source_ref.find(kMarker);
  return at == std::string::npos ? "" : source_ref.substr(at + kMarker.size());
}

class GroundTruthReader {
 public:
  GroundTruthReader(ImportPlan& plan, std::string csv_name, int num_classes)
      : plan_(plan), csv_(std::move(csv_name)), num_classes_(num_classes) {}

  void IndexImages(const std::map<std::string, std::string>& ids) {
    by_path_ = ids;
    for (const auto& [display, id] : ids)
      by_name_[fs::path(display).filename().string()].push_back(id);
  }
  void AddRejected(const std::string& display) {
    rejected_names_.insert(fs::path(display).filename().string());
    rejected_paths_.insert(display);
  }

  Status Header(const CsvRecord& rec) {
    if (!rec.error.empty()) return InvalidArgument(csv_ + ":1: " + rec.error);
    header_size_ = rec.fields.size();
    for (size_t i = 0; i < rec.fields.size(); ++i)
      for (size_t k = 0; k < i; ++k)
        if (rec.fields[i] == rec.fields[k] && !rec.fields[i].empty())
          return InvalidArgument(csv_ + ":1: column '" + EscapeNonUtf8(rec.fields[i]) +
                                 "' appears twice (columns " + std::to_string(k + 1) + " and " +
                                 std::to_string(i + 1) + ")");
    c_.source_ref = Find(rec.fields, "source_ref");
    c_.annotations = Find(rec.fields, "annotations");
    c_.width = Find(rec.fields, "image_width");
    c_.height = Find(rec.fields, "image_height");
    c_.event_time = Find(rec.fields, "event_time");
    c_.job = Find(rec.fields, "labeling_job");
    c_.status = Find(rec.fields, "status");
    if (c_.source_ref < 0 || c_.annotations < 0)
      return InvalidArgument(csv_ + ":1: header needs the columns source_ref and annotations");
    return Status::Ok();
  }

  void Row(const CsvRecord& rec) {
    if (!rec.error.empty()) return plan_.Error(csv_, rec.line, "malformed row: " + rec.error);
    if (rec.fields.size() != header_size_)
      return plan_.Error(csv_, rec.line,
                         "malformed row: " + std::to_string(rec.fields.size()) +
                             " fields, the header has " + std::to_string(header_size_));
    const auto& f = rec.fields;
    const std::string& ref = f[c_.source_ref];
    // Resolve the image.
    const std::string key = LocalKey(ref);
    const std::string name = fs::path(ref).filename().string();
    std::string id;
    if (auto it = by_path_.find(key); !key.empty() && it != by_path_.end()) {
      id = it->second;
    } else if (rejected_paths_.count(key) || (key.empty() && rejected_names_.count(name))) {
      return;  // the image itself was reported
    } else if (auto n = by_name_.find(name); n != by_name_.end() && n->second.size() == 1) {
      id = n->second[0];
    } else if (rejected_names_.count(name)) {
      return;
    } else {
      return plan_.Error(csv_, rec.line,
                         "image file not found: " + (key.empty() ? ref : key) +
                             (n != by_name_.end() ? " (file name is ambiguous)" : ""));
    }
    const ImageRecord* img = plan_.Image(id);

    // Declared size, when present, must match the file.
    for (auto [col, what, actual] : {std::tuple{c_.width, "image_width", img->width},
                                     std::tuple{c_.height, "image_height", img->height}}) {
      if (col < 0 || f[col].empty()) continue;
      double v = 0;
      if (!ParseDouble(f[col], &v))
        return plan_.Error(csv_, rec.line, std::string(what) + " '" + f[col] + "' is not a number");
      if (v != actual)
        return plan_.Error(csv_, rec.line,
                           std::string(what) + " " + f[col] + " does not match the image (" +
                               std::to_string(img->width) + "x" + std::to_string(img->height) +
                               ")");
    }

    PlannedLabel label;
    label.image_id = id;
    label.has_time = true;
    if (c_.event_time >= 0 && !ParseDouble(f[c_.event_time], &label.event_time))
      return plan_.Error(csv_, rec.line, "event_time '" + f[c_.event_time] + "' is not a number");
    if (c_.job >= 0) label.job = f[c_.job];
    if (!IsValidUtf8(label.job))
      return plan_.Error(csv_, rec.line,
                         "labeling_job '" + EscapeNonUtf8(label.job) + "' is not valid UTF-8");
    if (c_.status >= 0) {
      auto s = ParseLabelStatus(f[c_.status]);
      if (!s.ok()) return plan_.Error(csv_, rec.line, "status: " + s.status().message());
      label.status = *s;
    }
    auto dicts = ParsePythonDictList(f[c_.annotations]);
    if (!dicts.ok()) return plan_.Error(csv_, rec.line, "annotations: " + dicts.status().message());
    if (dicts->size() > static_cast<size_t>(kMaxBoxesPerImage))
      return plan_.Error(csv_, rec.line,
                         std::to_string(dicts->size()) + " boxes; the limit is " +
                             std::to_string(kMaxBoxesPerImage) + " per image");
    for (size_t k = 0; k < dicts->size(); ++k) {
      const auto& d = (*dicts)[k];
      const std::string where = "annotation " + std::to_string(k + 1) + ": ";
      for (const char* field : {"class_id", "left", "top", "width", "height"})
        if (!d.count(field)) return plan_.Error(csv_, rec.line, where + "missing '" + field + "'");
      const double cls = d.at("class_id");
      if (cls != std::floor(cls))
        return plan_.Error(csv_, rec.line, where + "class_id is not an integer");
      if (cls < 0 || cls >= num_classes_)
        return plan_.Error(csv_, rec.line,
                           where + "unknown class id " + FormatNumber(cls) + " (known: 0.." +
                               std::to_string(num_classes_ - 1) + ")");
      for (const char* field : {"left", "top", "width", "height"})
        if (!FitsFloat(d.at(field)))
          return plan_.Error(
              csv_, rec.line,
              where + "'" + field + "' " + FormatNumber(d.at(field)) + " is out of range");
      Box b{static_cast<int>(cls), static_cast<float>(d.at("left")),
            static_cast<float>(d.at("top")), static_cast<float>(d.at("width")),
            static_cast<float>(d.at("height"))};
      if (Status st = ValidateBox(b, img->width, img->height, num_classes_); !st.ok())
        return plan_.Error(csv_, rec.line, where + st.message());
      label.boxes.push_back(b);
    }
    plan_.AddLabel(std::move(label));
  }

 private:
  ImportPlan& plan_;
  std::string csv_;
  int num_classes_;
  size_t header_size_ = 0;
  Columns c_;
  std::map<std::string, std::string> by_path_;
  std::map<std::string, std::vector<std::string>> by_name_;
  std::set<std::string> rejected_paths_, rejected_names_;
};

}  // namespace

Result<ImportReport> ImportGroundTruth(Store& store, const std::string& path_in,
                                       const ImportOptions& options_in) {
  std::error_code ec;
  const std::string path = fs::absolute(path_in, ec).lexically_normal().string();
  ImportOptions options = options_in;
  if (!options.images_dir.empty())
    options.images_dir = fs::absolute(options.images_dir, ec).lexically_normal().string();
  const bool is_dir = fs::is_directory(path, ec);
  const std::string csv = is_dir ? (fs::path(path) / "labels.csv").string() : path;
  const std::string root = is_dir ? path : fs::path(path).parent_path().string();
  VQI_ASSIGN_OR_RETURN(std::string text, ReadLabelFile(csv));
  const std::string csv_name = EscapeNonUtf8(fs::path(csv).filename().string());

  ImportPlan plan("groundtruth");
  plan.class_names = options.class_names;
  if (!plan.class_names.empty())
    VQI_RETURN_IF_ERROR(ValidateClassNames(plan.class_names, "--classes"));
  if (plan.class_names.empty()) plan.class_names = store.ClassNames();
  if (plan.class_names.empty()) plan.class_names = {"scratch"};
  GroundTruthReader reader(plan, csv_name, static_cast<int>(plan.class_names.size()));

  // The header first: a file that is not a Ground-Truth CSV fails before any image is read.
  const std::vector<CsvRecord> records = ParseCsv(text);
  if (records.empty()) return InvalidArgument(csv_name + ": empty file (no header)");
  VQI_RETURN_IF_ERROR(reader.Header(records[0]));

  // Images: options.images_dir, else everything under images/ if present, else beside the CSV.
  std::string image_root = options.images_dir;
  if (image_root.empty())
    image_root = fs::is_directory(fs::path(root) / "images", ec)
                     ? (fs::path(root) / "images").string()
                     : root;
  if (!fs::is_directory(image_root, ec)) return NotFound(image_root + ": no such folder");
  std::vector<ImportIssue> listing_issues;
  VQI_ASSIGN_OR_RETURN(std::vector<std::string> files, ListFiles(image_root, &listing_issues));
  plan.Errors(listing_issues);
  std::vector<std::string> kept, displays;
  for (const std::string& f : files) {
    const std::string name = fs::path(f).filename().string();
    if (fs::equivalent(f, csv, ec) || name.rfind("README", 0) == 0) continue;
    kept.push_back(f);
    // Relative to the CSV's folder (how source_ref keys are written) when the images lie
    // below it; otherwise to the image folder (rows then match by file name).
    std::string rel = RelativePath(f, root);
    if (rel.rfind("../", 0) == 0) rel = RelativePath(f, image_root);
    displays.push_back(rel);
  }
  reader.IndexImages(plan.AddImageFiles(kept, displays));
  for (const std::string& d : displays)
    if (plan.Rejected(d)) reader.AddRejected(d);
  for (size_t i = 1; i < records.size(); ++i) reader.Row(records[i]);
  return plan.Apply(store, options);
}

}  // namespace vqi::dataset
