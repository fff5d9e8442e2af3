#include "import_plan.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "vqi/base/file.h"
#include "vqi/base/hash.h"
#include "vqi/base/progress.h"
#include "vqi/dataset/image.h"

namespace vqi::dataset {
namespace fs = std::filesystem;

namespace {
std::string Num(float v) {
  std::ostringstream s;
  s << v;
  return s.str();
}
}  // namespace

std::string ImportIssue::ToString() const {
  std::ostringstream s;
  s << file;
  if (line > 0) s << ':' << line;
  s << ": " << message;
  return s.str();
}

std::string ImportReport::Summary() const {
  std::ostringstream s;
  s << images << " images (" << new_images << " new), " << labeled << " labeled (" << boxes
    << " boxes, " << empty_labels << " with no defect), " << unlabeled << " unlabeled, "
    << errors.size() << " errors";
  if (!committed) s << "; nothing written";
  return s.str();
}

Status ValidateBox(const Box& b, int width, int height, int num_classes) {
  if (b.class_id < 0 || b.class_id >= num_classes)
    return InvalidArgument("unknown class id " + std::to_string(b.class_id) + " (known: 0.." +
                           std::to_string(num_classes - 1) + ")");
  if (!std::isfinite(b.x) || !std::isfinite(b.y) || !std::isfinite(b.w) || !std::isfinite(b.h))
    return InvalidArgument("box has a non-finite coordinate");
  if (b.w <= 0 || b.h <= 0)
    return InvalidArgument("zero-size box (width " + Num(b.w) + ", height " + Num(b.h) + ")");
  if (b.x < 0 || b.y < 0 || b.x + b.w > width || b.y + b.h > height)
    return InvalidArgument("box (x " + Num(b.x) + ", y " + Num(b.y) + ", width " + Num(b.w) +
                           ", height " + Num(b.h) + ") lies outside the " + std::to_string(width) +
                           "x" + std::to_string(height) + " image");
  return Status::Ok();
}

Result<std::vector<std::string>> ListFiles(const std::string& root) {
  std::vector<std::string> out;
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
  if (ec) return NotFound(root + ": " + ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return Unavailable(root + ": " + ec.message());
    const std::string name = it->path().filename().string();
    if (!name.empty() && name[0] == '.') {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file()) out.push_back(it->path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string RelativePath(const std::string& path, const std::string& root) {
  return fs::path(path).lexically_relative(root).generic_string();
}

std::string ImportPlan::AddImageFile(const std::string& file, const std::string& display) {
  auto bytes = ReadFile(file);
  if (!bytes.ok()) {
    Error(display, 0, "cannot read: " + bytes.status().message());
    rejected_.insert(display);
    return "";
  }
  auto info = ProbeImage(*bytes);
  if (!info.ok()) {
    Error(display, 0, info.status().message());
    rejected_.insert(display);
    return "";
  }
  const std::string id = Sha256Hex(*bytes);
  if (auto it = by_id_.find(id); it != by_id_.end()) {
    Error(display, 0, "duplicate image: same content as " + images_[it->second].display);
    rejected_.insert(display);
    return "";
  }
  PlannedImage img;
  img.file = file;
  img.display = display;
  img.record.image_id = id;
  img.record.name = fs::path(file).filename().string();
  img.record.capture_id = CaptureIdOf(img.record.name);
  img.record.width = info->width;
  img.record.height = info->height;
  img.record.format = info->format;
  img.record.source = file;
  by_id_[id] = images_.size();
  images_.push_back(std::move(img));
  return id;
}

std::map<std::string, std::string> ImportPlan::AddImageFiles(
    const std::vector<std::string>& files, const std::vector<std::string>& displays) {
  std::map<std::string, std::string> ids;
  ProgressBar bar(static_cast<int64_t>(files.size()), "reading images");
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string id = AddImageFile(files[i], displays[i]);
    if (!id.empty()) ids[displays[i]] = id;
    bar.Update(static_cast<int64_t>(i + 1));
  }
  bar.Finish();
  return ids;
}

const ImageRecord* ImportPlan::Image(const std::string& id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &images_[it->second].record;
}

void ImportPlan::Error(const std::string& file, int line, const std::string& message) {
  errors_.push_back(ImportIssue{file, line, message});
}

Result<ImportReport> ImportPlan::Apply(Store& store, const ImportOptions& options) {
  ImportReport report;
  report.format = format_;
  report.errors = errors_;
  report.images = static_cast<int>(images_.size());

  // The label each image ends up with from this import: its latest approved planned event.
  std::map<std::string, const PlannedLabel*> current;
  for (const PlannedLabel& l : labels_) {
    if (l.status != LabelStatus::kApproved) continue;
    auto& slot = current[l.image_id];
    if (slot == nullptr || !l.has_time || l.event_time >= slot->event_time) slot = &l;
  }
  for (const auto& [id, label] : current) {
    ++report.labeled;
    report.boxes += static_cast<int>(label->boxes.size());
    if (label->boxes.empty()) ++report.empty_labels;
  }
  report.unlabeled = report.images - report.labeled;
  if (options.strict && !errors_.empty()) return report;

  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  Status st = store.Transaction([&]() -> Status {
    std::vector<int> class_map;
    for (const std::string& name : class_names) {
      VQI_ASSIGN_OR_RETURN(int id, store.EnsureClass(name));
      class_map.push_back(id);
    }
    ProgressBar bar(static_cast<int64_t>(images_.size()), "storing images");
    int done = 0;
    for (const PlannedImage& img : images_) {
      bar.Update(++done);
      if (store.HasImage(img.record.image_id)) continue;
      VQI_ASSIGN_OR_RETURN(std::string bytes, ReadFile(img.file));
      if (Sha256Hex(bytes) != img.record.image_id)
        return Unavailable(img.display + ": file changed during import; retry");
      VQI_ASSIGN_OR_RETURN(bool added, store.AddImage(img.record, bytes));
      if (added) ++report.new_images;
    }
    bar.Finish();
    for (const PlannedLabel& l : labels_) {
      LabelEvent e;
      e.image_id = l.image_id;
      e.status = l.status;
      e.job = l.job;
      e.event_time = l.event_time;
      for (Box b : l.boxes) {
        if (b.class_id < 0 || b.class_id >= static_cast<int>(class_map.size()))
          return Internal("planned box with unmapped class id");
        b.class_id = class_map[b.class_id];
        e.boxes.push_back(b);
      }
      if (!l.has_time) {
        VQI_ASSIGN_OR_RETURN(auto cur, store.CurrentLabel(l.image_id));
        if (l.status == LabelStatus::kApproved && cur && cur->boxes == e.boxes) continue;
        e.event_time = now;
      }
      VQI_ASSIGN_OR_RETURN(bool added, store.AppendLabel(e));
      if (added) ++report.new_label_events;
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  report.committed = true;
  return report;
}

}  // namespace vqi::dataset
