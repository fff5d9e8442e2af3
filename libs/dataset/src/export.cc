#include "vqi/dataset/export.h"

#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <filesystem>
#include <set>

#include "vqi/base/file.h"
#include "vqi/base/json.h"
#include "yolo_format.h"

namespace vqi::dataset {
namespace fs = std::filesystem;

namespace {

struct Part {
  std::string name;  // "" when exporting everything
  std::vector<Sample> samples;
};

Result<std::vector<Part>> PartsToExport(const Store& store, const ExportOptions& o) {
  std::vector<Part> parts;
  if (o.split.empty()) {
    VQI_ASSIGN_OR_RETURN(std::vector<Sample> all, store.LabeledSamples());
    parts.push_back(Part{"", std::move(all)});
  } else {
    for (const char* p : {"train", "val", "test"}) {
      VQI_ASSIGN_OR_RETURN(std::vector<Sample> s, store.SplitSamples(o.split, p));
      parts.push_back(Part{p, std::move(s)});
    }
  }
  return parts;
}

// A file name unique within `used`, with an extension image tools recognise.
std::string ExportName(const Sample& s, std::set<std::string>& used) {
  std::string name = s.name;
  const std::string ext = fs::path(s.path).extension().string();  // the blob's format
  if (!HasImageExtension(name)) name += ext;
  if (!used.insert(name).second) {
    name = s.image_id.substr(0, 12) + "-" + name;
    used.insert(name);
  }
  return name;
}

Status CopyBlob(const Sample& s, const std::string& to) {
  VQI_ASSIGN_OR_RETURN(std::string bytes, ReadFile(s.path));
  return WriteFileAtomic(to, bytes);
}

}  // namespace

Result<ExportReport> ExportYolo(const Store& store, const std::string& out,
                                const ExportOptions& o) {
  VQI_ASSIGN_OR_RETURN(std::vector<Part> parts, PartsToExport(store, o));
  ExportReport report;
  std::vector<std::string> part_names;
  for (const Part& part : parts) {
    const std::string sub = part.name.empty() ? "" : "/" + part.name;
    VQI_RETURN_IF_ERROR(MakeDirs(out + "/images" + sub));
    VQI_RETURN_IF_ERROR(MakeDirs(out + "/labels" + sub));
    part_names.push_back(part.name);
    std::set<std::string> used;
    for (const Sample& s : part.samples) {
      const std::string name = ExportName(s, used);
      VQI_RETURN_IF_ERROR(CopyBlob(s, out + "/images" + sub + "/" + name));
      const std::string stem = fs::path(name).stem().string();
      VQI_RETURN_IF_ERROR(WriteFileAtomic(out + "/labels" + sub + "/" + stem + ".txt",
                                          YoloLabelText(s.boxes, s.width, s.height)));
      ++report.images;
      report.boxes += static_cast<int>(s.boxes.size());
    }
  }
  VQI_RETURN_IF_ERROR(WriteDataYaml(out, store.ClassNames(), part_names));
  return report;
}

Result<ExportReport> ExportCoco(const Store& store, const std::string& out,
                                const ExportOptions& o) {
  VQI_ASSIGN_OR_RETURN(std::vector<Part> parts, PartsToExport(store, o));
  const std::vector<std::string> classes = store.ClassNames();
  ExportReport report;
  for (const Part& part : parts) {
    const std::string dir = part.name.empty() ? out : out + "/" + part.name;
    VQI_RETURN_IF_ERROR(MakeDirs(dir + "/images"));
    OrderedJson j;
    j["info"] = {{"description", "exported by vqi"}, {"version", "1.0"}};
    j["images"] = OrderedJson::array();
    j["annotations"] = OrderedJson::array();
    j["categories"] = OrderedJson::array();
    for (size_t c = 0; c < classes.size(); ++c)
      j["categories"].push_back({{"id", c + 1}, {"name", classes[c]}, {"supercategory", "defect"}});
    std::set<std::string> used;
    int64_t image_id = 0, ann_id = 0;
    for (const Sample& s : part.samples) {
      const std::string name = ExportName(s, used);
      VQI_RETURN_IF_ERROR(CopyBlob(s, dir + "/images/" + name));
      ++image_id;
      j["images"].push_back(
          {{"id", image_id}, {"file_name", name}, {"width", s.width}, {"height", s.height}});
      for (const Box& b : s.boxes) {
        j["annotations"].push_back({{"id", ++ann_id},
                                    {"image_id", image_id},
                                    {"category_id", b.class_id + 1},
                                    {"bbox", {b.x, b.y, b.w, b.h}},
                                    {"area", static_cast<double>(b.w) * b.h},
                                    {"iscrowd", 0}});
      }
      ++report.images;
      report.boxes += static_cast<int>(s.boxes.size());
    }
    VQI_RETURN_IF_ERROR(WriteFileAtomic(dir + "/annotations.json", j.dump(1) + "\n"));
  }
  return report;
}

Result<ExportReport> Export(const Store& store, const std::string& format, const std::string& out,
                            const ExportOptions& options) {
  if (format == "yolo") return ExportYolo(store, out, options);
  if (format == "coco") return ExportCoco(store, out, options);
  return InvalidArgument("unknown export format '" + format + "' (expected yolo or coco)");
}

}  // namespace vqi::dataset
