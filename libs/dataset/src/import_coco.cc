// COCO detection JSON: images[] (id, file_name, width, height), annotations[] (image_id,
// category_id, bbox [x, y, w, h] in pixels), categories[] (id, name). An image listed without
// annotations is labeled "no defect". Records are named by their array index.
//
// Whole-file refusals (nothing imported): not JSON or too deep, no images array, a duplicate
// image, annotation or category id, a duplicate or invalid category name, an id that is
// neither an integer nor a string. Per-record problems skip that record (or that image's
// label) and are reported. Every step is linear in the file (hash maps keyed by id).
#include <filesystem>
#include <unordered_map>
#include <unordered_set>

#include "import_plan.h"
#include "vqi/base/json.h"
#include "vqi/dataset/limits.h"

namespace vqi::dataset {
namespace fs = std::filesystem;

namespace {

// A COCO id as a map key: integers as their decimal text, strings quoted, so 1 and "1" differ.
Result<std::string> IdKey(const Json& id, const std::string& where) {
  if (id.is_number_integer()) return id.dump();
  if (id.is_string()) return id.dump();
  if (id.is_number_float() && id.get<double>() == static_cast<double>(static_cast<int64_t>(
                                                      std::clamp(id.get<double>(), -9e18, 9e18))))
    return Json(static_cast<int64_t>(id.get<double>())).dump();  // 3.0 is 3
  return InvalidArgument(where + " must be an integer or a string, not " + id.dump().substr(0, 40));
}

// file_name must stay inside the folder it is resolved against.
Status CheckFileName(const std::string& file) {
  if (file.empty()) return InvalidArgument("file_name is empty");
  if (file.find('\0') != std::string::npos) return InvalidArgument("file_name contains a NUL byte");
  const fs::path p(file);
  if (p.is_absolute()) return InvalidArgument("file_name '" + file + "' is an absolute path");
  for (const auto& part : p)
    if (part == "..") return InvalidArgument("file_name '" + file + "' leaves the dataset folder");
  if (p.filename().string().size() > kMaxFileNameBytes)
    return InvalidArgument("file_name is longer than " + std::to_string(kMaxFileNameBytes) +
                           " bytes");
  return Status::Ok();
}

}  // namespace

Result<ImportReport> ImportCoco(Store& store, const std::string& path,
                                const ImportOptions& options) {
  std::error_code ec;
  const std::string json_path =
      fs::is_directory(path, ec) ? (fs::path(path) / "annotations.json").string() : path;
  const fs::path base = fs::path(json_path).parent_path();
  const std::string where = fs::path(json_path).filename().string();
  VQI_ASSIGN_OR_RETURN(std::string text, ReadLabelFile(json_path));
  VQI_ASSIGN_OR_RETURN(Json j, ParseJson(text, where));
  text = std::string();
  if (!j.is_object() || !j.contains("images") || !j["images"].is_array())
    return InvalidArgument(where + ": not a COCO file (no 'images' array)");
  const Json empty = Json::array();
  const Json& images = j["images"];
  const Json& anns =
      j.contains("annotations") && j["annotations"].is_array() ? j["annotations"] : empty;
  if (j.contains("annotations") && !j["annotations"].is_array())
    return InvalidArgument(where + ": 'annotations' must be an array");

  // Categories: unique ids and unique, valid names, or the file is refused.
  ImportPlan plan("coco");
  std::unordered_map<std::string, int> category;  // COCO category id -> class index
  std::unordered_map<std::string, size_t> category_at;
  if (j.contains("categories")) {
    if (!j["categories"].is_array())
      return InvalidArgument(where + ": 'categories' must be an array");
    for (size_t i = 0; i < j["categories"].size(); ++i) {
      const Json& c = j["categories"][i];
      const std::string rec = where + ": categories[" + std::to_string(i) + "]";
      if (!c.is_object() || !c.contains("id") || !c.contains("name") || !c["name"].is_string())
        return InvalidArgument(rec + " needs an id and a name");
      VQI_ASSIGN_OR_RETURN(std::string key, IdKey(c["id"], rec + ": id"));
      if (auto [it, fresh] = category_at.emplace(key, i); !fresh)
        return InvalidArgument(rec + ": duplicate category id " + key + " (also categories[" +
                               std::to_string(it->second) + "])");
      category[key] = static_cast<int>(plan.class_names.size());
      plan.class_names.push_back(c["name"].get<std::string>());
    }
    VQI_RETURN_IF_ERROR(ValidateClassNames(plan.class_names, where + ": categories"));
  }

  // Ids first, so a file with a duplicate is refused before any image is read.
  std::unordered_map<std::string, size_t> image_at;  // COCO image id -> index in images[]
  std::vector<std::string> image_key(images.size());
  for (size_t i = 0; i < images.size(); ++i) {
    const Json& im = images[i];
    const std::string rec = where + ": images[" + std::to_string(i) + "]";
    if (!im.is_object() || !im.contains("id")) continue;  // reported below
    VQI_ASSIGN_OR_RETURN(image_key[i], IdKey(im["id"], rec + ": id"));
    if (auto [it, fresh] = image_at.emplace(image_key[i], i); !fresh)
      return InvalidArgument(rec + ": duplicate image id " + image_key[i] + " (also images[" +
                             std::to_string(it->second) + "]); ids must be unique");
  }
  std::unordered_map<std::string, size_t> ann_at;
  for (size_t i = 0; i < anns.size(); ++i) {
    const Json& a = anns[i];
    if (!a.is_object() || !a.contains("id")) continue;  // ids are optional on annotations
    const std::string rec = where + ": annotations[" + std::to_string(i) + "]";
    VQI_ASSIGN_OR_RETURN(std::string key, IdKey(a["id"], rec + ": id"));
    if (auto [it, fresh] = ann_at.emplace(key, i); !fresh)
      return InvalidArgument(rec + ": duplicate annotation id " + key + " (also annotations[" +
                             std::to_string(it->second) + "]); ids must be unique");
  }

  // Images.
  std::unordered_map<std::string, std::string> image_of;  // COCO image id -> our id
  std::unordered_map<std::string, std::vector<Box>> boxes;
  std::unordered_set<std::string> bad_label;
  std::vector<std::string> order;  // our ids in file order
  for (size_t i = 0; i < images.size(); ++i) {
    const Json& im = images[i];
    const std::string rec = "images[" + std::to_string(i) + "]: ";
    if (!im.is_object() || !im.contains("id") || !im.contains("file_name") ||
        !im["file_name"].is_string()) {
      plan.Error(where, 0, rec + "needs an id and a file_name");
      continue;
    }
    const std::string file = im["file_name"].get<std::string>();
    if (Status st = CheckFileName(file); !st.ok()) {
      plan.Error(where, 0, rec + st.message());
      continue;
    }
    fs::path p = options.images_dir.empty() ? base / file : fs::path(options.images_dir) / file;
    if (!fs::exists(p, ec) && options.images_dir.empty()) p = base / "images" / file;
    if (!fs::exists(p, ec)) {
      plan.Error(where, 0, rec + "image file not found: " + file);
      continue;
    }
    const std::string id = plan.AddImageFile(p.string(), RelativePath(p.string(), base.string()));
    if (id.empty()) continue;
    const ImageRecord* r = plan.Image(id);
    if (im.contains("width") && im.contains("height") &&
        (im["width"] != r->width || im["height"] != r->height)) {
      plan.Error(where, 0,
                 rec + "size " + im["width"].dump() + "x" + im["height"].dump() +
                     " does not match the image (" + std::to_string(r->width) + "x" +
                     std::to_string(r->height) + ")");
      continue;
    }
    image_of[image_key[i]] = id;
    boxes[id];
    order.push_back(id);
  }

  // Annotations.
  for (size_t i = 0; i < anns.size(); ++i) {
    const Json& a = anns[i];
    const std::string rec = "annotations[" + std::to_string(i) + "]: ";
    if (!a.is_object() || !a.contains("image_id")) {
      plan.Error(where, 0, rec + "needs an image_id");
      continue;
    }
    auto key = IdKey(a["image_id"], "image_id");
    if (!key.ok()) {
      plan.Error(where, 0, rec + key.status().message());
      continue;
    }
    auto img = image_of.find(*key);
    if (img == image_of.end()) {
      // Unknown id, or an image already reported as bad.
      if (!image_at.count(*key))
        plan.Error(where, 0, rec + "unknown image_id " + a["image_id"].dump());
      continue;
    }
    const std::string& id = img->second;
    const ImageRecord* r = plan.Image(id);
    auto fail = [&](const std::string& msg) {
      plan.Error(where, 0, rec + msg);
      bad_label.insert(id);
    };
    auto cat = a.contains("category_id") ? IdKey(a["category_id"], "category_id")
                                         : Result<std::string>(InvalidArgument("none"));
    if (!cat.ok() || !category.count(*cat)) {
      fail("unknown category id " +
           (a.contains("category_id") ? a["category_id"].dump().substr(0, 40) : "(none)"));
      continue;
    }
    const Json& bb = a.contains("bbox") ? a["bbox"] : Json();
    bool numbers = bb.is_array() && bb.size() == 4;
    for (size_t k = 0; numbers && k < 4; ++k)
      numbers = bb[k].is_number() && FitsFloat(bb[k].get<double>());
    if (!numbers) {
      fail("bbox must be [x, y, width, height], four numbers within +-1e9");
      continue;
    }
    std::vector<Box>& list = boxes[id];
    if (list.size() >= static_cast<size_t>(kMaxBoxesPerImage)) {
      if (list.size() == static_cast<size_t>(kMaxBoxesPerImage))
        fail("more than " + std::to_string(kMaxBoxesPerImage) + " boxes for image " +
             a["image_id"].dump() + "; the limit is " + std::to_string(kMaxBoxesPerImage) +
             " per image");
      list.emplace_back();  // count past the limit once, to report it once
      continue;
    }
    Box b{category[*cat], bb[0].get<float>(), bb[1].get<float>(), bb[2].get<float>(),
          bb[3].get<float>()};
    if (Status st = ValidateBox(b, r->width, r->height, static_cast<int>(plan.class_names.size()));
        !st.ok()) {
      fail(st.message());
      continue;
    }
    list.push_back(b);
  }
  for (const std::string& id : order) {
    if (bad_label.count(id)) continue;
    PlannedLabel label;
    label.image_id = id;
    label.boxes = std::move(boxes[id]);
    label.job = "import:coco";
    plan.AddLabel(std::move(label));
  }
  return plan.Apply(store, options);
}

}  // namespace vqi::dataset
