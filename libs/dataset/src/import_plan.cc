#include "import_plan.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "text_formats.h"
#include "vqi/base/file.h"
#include "vqi/base/hash.h"
#include "vqi/base/progress.h"
#include "vqi/dataset/image.h"
#include "vqi/dataset/limits.h"

namespace vqi::dataset {
namespace fs = std::filesystem;

namespace {
std::string Num(float v) {
  std::ostringstream s;
  s << v;
  return s.str();
}
}  // namespace

bool FitsFloat(double v) { return std::isfinite(v) && std::fabs(v) <= 1e9; }

std::string FormatNumber(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

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

Result<std::string> ReadLabelFile(const std::string& path) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) return NotFound(EscapeNonUtf8(path) + ": no such file");
  if (!fs::is_regular_file(st))
    return InvalidArgument(EscapeNonUtf8(path) + ": not a regular file");
  const uintmax_t size = fs::file_size(path, ec);
  if (!ec && size > static_cast<uintmax_t>(kMaxLabelFileBytes))
    return ResourceExhausted(EscapeNonUtf8(path) + ": labels file is " + std::to_string(size) +
                             " bytes; the limit is " + std::to_string(kMaxLabelFileBytes) +
                             " (256 MiB)");
  return ReadFile(path);
}

Status ValidateClassNames(const std::vector<std::string>& names, const std::string& where) {
  if (names.size() > static_cast<size_t>(kMaxClasses))
    return ResourceExhausted(where + ": " + std::to_string(names.size()) +
                             " classes; the limit is " + std::to_string(kMaxClasses));
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string& n = names[i];
    const std::string at = where + ": class " + std::to_string(i);
    if (n.empty() || n.find_first_not_of(" \t") == std::string::npos)
      return InvalidArgument(at + " has an empty name");
    if (!IsValidUtf8(n))
      return InvalidArgument(at + " name '" + EscapeNonUtf8(n) + "' is not UTF-8");
    if (n.size() > kMaxClassNameBytes)
      return InvalidArgument(at + " name is " + std::to_string(n.size()) + " bytes; the limit is " +
                             std::to_string(kMaxClassNameBytes));
    auto [it, fresh] = seen.emplace(n, i);
    if (!fresh)
      return InvalidArgument(at + " has the same name '" + n + "' as class " +
                             std::to_string(it->second) + "; class names must be unique");
  }
  return Status::Ok();
}

Result<std::vector<std::string>> ListFiles(const std::string& root,
                                           std::vector<ImportIssue>* issues) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return NotFound(EscapeNonUtf8(root) + ": no such folder");
  fs::recursive_directory_iterator it(root, ec);
  if (ec) return Unavailable(EscapeNonUtf8(root) + ": " + ec.message());
  auto issue = [&](const fs::path& p, const std::string& what) {
    issues->push_back(ImportIssue{EscapeNonUtf8(RelativePath(p.string(), root)), 0, what});
  };
  const fs::recursive_directory_iterator end;
  while (it != end) {
    const fs::path p = it->path();
    const std::string name = p.filename().string();
    if (!name.empty() && name[0] == '.') {
      if (it->is_directory(ec)) it.disable_recursion_pending();
    } else {
      // status() follows symbolic links: a loop or a dangling link fails here.
      const fs::file_status st = it->status(ec);
      if (ec) {
        issue(p, "cannot follow: " + ec.message() + ", skipped");
      } else if (fs::is_regular_file(st)) {
        out.push_back(p.string());
      } else if (!fs::is_directory(st)) {
        issue(p, "not a regular file, skipped");
      }
    }
    it.increment(ec);
    if (ec) {
      // The entry just left could not be opened (e.g. an unreadable folder): report it and
      // go on with its siblings.
      issue(it == end ? p : it->path(), "cannot read this folder: " + ec.message() + ", skipped");
      ec.clear();
      if (it != end) {
        it.disable_recursion_pending();
        it.increment(ec);
        if (ec) return Unavailable(EscapeNonUtf8(root) + ": " + ec.message());
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string RelativePath(const std::string& path, const std::string& root) {
  return fs::path(path).lexically_relative(root).generic_string();
}

std::string ImportPlan::AddImageFile(const std::string& file, const std::string& display) {
  auto reject = [&](const std::string& message) {
    Error(display, 0, message);
    rejected_.insert(display);
    return std::string();
  };
  const std::string name = fs::path(file).filename().string();
  if (!IsValidUtf8(name))
    return reject("file name is not valid UTF-8 (shown with %XX for the bad bytes); rename it");
  if (name.size() > kMaxFileNameBytes)
    return reject("file name is " + std::to_string(name.size()) + " bytes; the limit is " +
                  std::to_string(kMaxFileNameBytes));
  std::error_code ec;
  const fs::file_status st = fs::status(file, ec);
  if (ec) return reject("cannot read: " + ec.message());
  if (!fs::is_regular_file(st)) return reject("not a regular file");
  const uintmax_t size = fs::file_size(file, ec);
  if (ec) return reject("cannot read: " + ec.message());
  if (size > static_cast<uintmax_t>(kMaxImageFileBytes))
    return reject("image file is " + std::to_string(size) + " bytes; the limit is " +
                  std::to_string(kMaxImageFileBytes) + " (64 MiB)");
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
  img.record.name = name;
  img.record.capture_id = CaptureIdOf(img.record.name);
  img.record.width = info->width;
  img.record.height = info->height;
  img.record.format = info->format;
  img.record.source = EscapeNonUtf8(file);
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
  errors_.push_back(ImportIssue{EscapeNonUtf8(file), line, EscapeNonUtf8(message)});
}

void ImportPlan::Errors(const std::vector<ImportIssue>& issues) {
  for (const ImportIssue& i : issues) Error(i.file, i.line, i.message);
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
