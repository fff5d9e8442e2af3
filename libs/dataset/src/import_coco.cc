// COCO detection JSON: images[] (id, file_name, width, height), annotations[] (image_id,
// category_id, bbox [x, y, w, h] in pixels), categories[] (id, name). An image listed without
// annotations is labeled "no defect". Records are named by their array index.
#include <filesystem>
#include <map>

#include "import_plan.h"
#include "vqi/base/json.h"

namespace vqi::dataset {
namespace fs = std::filesystem;

namespace {

std::string IdKey(const Json& id) { return id.is_string() ? id.get<std::string>() : id.dump(); }

}  // namespace

Result<ImportReport> ImportCoco(Store& store, const std::string& path,
                                const ImportOptions& options) {
  std::error_code ec;
  const std::string json_path =
      fs::is_directory(path, ec) ? (fs::path(path) / "annotations.json").string() : path;
  const fs::path base = fs::path(json_path).parent_path();
  const std::string where = fs::path(json_path).filename().string();
  VQI_ASSIGN_OR_RETURN(Json j, ReadJsonFile(json_path));
  if (!j.is_object() || !j.contains("images") || !j["images"].is_array())
    return InvalidArgument(where + ": not a COCO file (no 'images' array)");

  ImportPlan plan("coco");
  std::map<std::string, int> category;  // COCO category id -> class index
  if (j.contains("categories") && j["categories"].is_array()) {
    for (size_t i = 0; i < j["categories"].size(); ++i) {
      const Json& c = j["categories"][i];
      if (!c.is_object() || !c.contains("id") || !c.contains("name") || !c["name"].is_string())
        return InvalidArgument(where + ": categories[" + std::to_string(i) +
                               "] needs an id and a name");
      category[IdKey(c["id"])] = static_cast<int>(plan.class_names.size());
      plan.class_names.push_back(c["name"].get<std::string>());
    }
  }

  // Images.
  std::map<std::string, std::string> image_of;  // COCO image id -> our id
  std::map<std::string, std::vector<Box>> boxes;
  std::map<std::string, bool> bad_label;
  const Json& images = j["images"];
  for (size_t i = 0; i < images.size(); ++i) {
    const Json& im = images[i];
    const std::string rec = "images[" + std::to_string(i) + "]: ";
    if (!im.is_object() || !im.contains("id") || !im.contains("file_name") ||
        !im["file_name"].is_string()) {
      plan.Error(where, 0, rec + "needs an id and a file_name");
      continue;
    }
    const std::string file = im["file_name"].get<std::string>();
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
    image_of[IdKey(im["id"])] = id;
    boxes[id];
  }

  // Annotations.
  const Json empty = Json::array();
  const Json& anns =
      j.contains("annotations") && j["annotations"].is_array() ? j["annotations"] : empty;
  for (size_t i = 0; i < anns.size(); ++i) {
    const Json& a = anns[i];
    const std::string rec = "annotations[" + std::to_string(i) + "]: ";
    if (!a.is_object() || !a.contains("image_id")) {
      plan.Error(where, 0, rec + "needs an image_id");
      continue;
    }
    auto img = image_of.find(IdKey(a["image_id"]));
    if (img == image_of.end()) {
      // Unknown id, or an image already reported as bad.
      bool listed = false;
      for (const Json& im : images)
        if (im.is_object() && im.contains("id") && IdKey(im["id"]) == IdKey(a["image_id"]))
          listed = true;
      if (!listed) plan.Error(where, 0, rec + "unknown image_id " + a["image_id"].dump());
      continue;
    }
    const std::string& id = img->second;
    const ImageRecord* r = plan.Image(id);
    auto fail = [&](const std::string& msg) {
      plan.Error(where, 0, rec + msg);
      bad_label[id] = true;
    };
    if (!a.contains("category_id") || !category.count(IdKey(a["category_id"]))) {
      fail("unknown category id " +
           (a.contains("category_id") ? a["category_id"].dump() : "(none)"));
      continue;
    }
    const Json& bb = a.contains("bbox") ? a["bbox"] : Json();
    if (!bb.is_array() || bb.size() != 4 || !bb[0].is_number() || !bb[1].is_number() ||
        !bb[2].is_number() || !bb[3].is_number()) {
      fail("bbox must be [x, y, width, height] numbers");
      continue;
    }
    Box b{category[IdKey(a["category_id"])], bb[0].get<float>(), bb[1].get<float>(),
          bb[2].get<float>(), bb[3].get<float>()};
    if (Status st = ValidateBox(b, r->width, r->height, static_cast<int>(plan.class_names.size()));
        !st.ok()) {
      fail(st.message());
      continue;
    }
    boxes[id].push_back(b);
  }
  for (auto& [id, list] : boxes) {
    if (bad_label[id]) continue;
    PlannedLabel label;
    label.image_id = id;
    label.boxes = std::move(list);
    label.job = "import:coco";
    plan.AddLabel(std::move(label));
  }
  return plan.Apply(store, options);
}

}  // namespace vqi::dataset
