// The two-phase import shared by all importers: collect and validate into an ImportPlan, then
// Apply it to the store in one transaction (or not at all under --strict with errors).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "vqi/dataset/import.h"

namespace vqi::dataset {

struct PlannedImage {
  std::string file;     // absolute path, re-read (and re-hashed) when applying
  std::string display;  // path for messages
  ImageRecord record;
};

struct PlannedLabel {
  std::string image_id;
  std::vector<Box> boxes;  // class ids index ImportPlan::class_names
  LabelStatus status = LabelStatus::kApproved;
  bool has_time = false;  // false: stamped at apply time, skipped if equal to the current label
  double event_time = 0;
  std::string job;
};

class ImportPlan {
 public:
  explicit ImportPlan(std::string format) : format_(std::move(format)) {}

  // Reads and validates one image file. Returns its id, or "" after recording an issue (not an
  // image, truncated, corrupt, unreadable, or a duplicate of an image already in the plan).
  std::string AddImageFile(const std::string& file, const std::string& display);
  // Reads many files with a progress bar; returns display path -> id of the valid ones.
  std::map<std::string, std::string> AddImageFiles(const std::vector<std::string>& files,
                                                   const std::vector<std::string>& displays);
  const ImageRecord* Image(const std::string& id) const;
  // True if `display` was seen but rejected (so labels for it need no second error).
  bool Rejected(const std::string& display) const { return rejected_.count(display) > 0; }

  void AddLabel(PlannedLabel label) { labels_.push_back(std::move(label)); }
  void Error(const std::string& file, int line, const std::string& message);
  void Errors(const std::vector<ImportIssue>& issues);
  bool has_errors() const { return !errors_.empty(); }

  // Class ids used in planned boxes -> names; mapped onto the store's classes by name.
  std::vector<std::string> class_names;

  Result<ImportReport> Apply(Store& store, const ImportOptions& options);

 private:
  std::string format_;
  std::vector<PlannedImage> images_;
  std::map<std::string, size_t> by_id_;
  std::set<std::string> rejected_;
  std::vector<PlannedLabel> labels_;
  std::vector<ImportIssue> errors_;
};

// True if `v` is finite and small enough (|v| <= 1e9) to convert to float or int without
// overflow; a coordinate past that cannot lie inside any image the limits admit.
bool FitsFloat(double v);
// A number for messages ("3", "0.5", "1e+300").
std::string FormatNumber(double v);

// InvalidArgument ("zero-size box ...", "box ... outside the WxH image", "unknown class id ...")
// for a box an importer must reject.
Status ValidateBox(const Box& box, int width, int height, int num_classes);

// A labels file (CSV, JSON, YAML, YOLO .txt): NotFound, InvalidArgument if it is not a
// regular file, ResourceExhausted past kMaxLabelFileBytes (checked before reading).
Result<std::string> ReadLabelFile(const std::string& path);

// Class names of one file: each non-empty, valid UTF-8, at most kMaxClassNameBytes, all
// distinct (two ids with one name would merge two classes), at most kMaxClasses of them.
// InvalidArgument naming `where` and the offending name otherwise.
Status ValidateClassNames(const std::vector<std::string>& names, const std::string& where);

// Regular files under `root` (recursive, sorted), skipping hidden ones. An entry that cannot
// be listed or followed (symbolic-link loop, dangling link, unreadable folder, fifo, device)
// is reported in `issues` by its path relative to `root`, and the listing goes on.
Result<std::vector<std::string>> ListFiles(const std::string& root,
                                           std::vector<ImportIssue>* issues);
// `path` relative to `root`, with '/' separators.
std::string RelativePath(const std::string& path, const std::string& root);

}  // namespace vqi::dataset
