#include "vqi/dataset/pool_json.h"

namespace vqi::dataset {

Json ImageOriginToJson(const ImageOrigin& o) {
  Json j = {{"thing", o.thing},
            {"component", o.component},
            {"model", {{"name", o.model_name}, {"version", o.model_version}}},
            {"resultId", o.result_id},
            {"imageName", o.image_name},
            {"received", o.received},
            {"vqiMessageId", o.message_id}};
  j["bestScore"] = o.best_score >= 0 ? Json(o.best_score) : Json();
  return j;
}

Json PoolImageToJson(const PoolImage& p, bool with_path) {
  Json origins = Json::array();
  for (const ImageOrigin& o : p.origins) origins.push_back(ImageOriginToJson(o));
  Json j = {{"image_id", p.sample.image_id},
            {"name", p.sample.name},
            {"capture_id", p.sample.capture_id},
            {"width", p.sample.width},
            {"height", p.sample.height},
            {"format", p.format},
            {"origins", origins}};
  if (with_path) j["path"] = p.sample.path;
  return j;
}

}  // namespace vqi::dataset
