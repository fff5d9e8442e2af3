// GET /v1/datasets, /v1/datasets/{name} and /v1/datasets/{name}/unlabeled: read-only views of
// libs/dataset.
#include <charconv>

#include "context.h"
#include "vqi/dataset/pool_json.h"
#include "vqi/dataset/stats.h"
#include "vqi/dataset/store.h"

namespace vqi::server {

void AddDatasetRoutes(Router& router, ServerContext& ctx) {
  router.Add(
      {"GET",
       "/v1/datasets",
       Access::kRead,
       Body::kNone,
       "datasets",
       "The datasets of this home",
       200,
       nullptr,
       {{"type", "object"},
        {"properties", {{"datasets", {{"type", "array"}, {"items", {{"type", "object"}}}}}}}},
       [&ctx](Call& c) {
         Json list = Json::array();
         for (const std::string& name : dataset::Store::List(ctx.options.home))
           list.push_back(Json{{"name", name}, {"url", "/v1/datasets/" + name}});
         c.Reply(200, Json{{"datasets", list}});
         return Status::Ok();
       }});
  router.Add({"GET",
              "/v1/datasets/{name}",
              Access::kRead,
              Body::kNone,
              "datasets",
              "A dataset's summary: images, labels, classes, box sizes, splits",
              200,
              nullptr,
              {{"type", "object"}},
              [&ctx](Call& c) -> Status {
                // Opened per request: a dataset store is one connection, and summaries are rare.
                VQI_ASSIGN_OR_RETURN(
                    auto store, dataset::Store::Open(ctx.options.home, c.Param("name"), false));
                VQI_ASSIGN_OR_RETURN(dataset::DatasetStats stats, dataset::ComputeStats(*store));
                Json j = stats.ToJson();
                j["name"] = c.Param("name");
                c.Reply(200, j);
                return Status::Ok();
              }});
  router.Add(
      {"GET",
       "/v1/datasets/{name}/unlabeled",
       Access::kRead,
       Body::kNone,
       "datasets",
       "The unlabeled pool (images without an approved label), images devices uploaded first "
       "(newest first) with their origins: device, component, model name and version, result "
       "id, best score, received time. Query: thing= (only that device's uploads), limit= "
       "(1-10000, default 100)",
       200,
       nullptr,
       {{"type", "object"},
        {"properties",
         {{"dataset", {{"type", "string"}}},
          {"unlabeled", {{"type", "integer"}}},
          {"images", {{"type", "array"}, {"items", {{"type", "object"}}}}}}}},
       [&ctx](Call& c) -> Status {
         int64_t limit = 100;
         if (c.req.has_param("limit")) {
           const std::string v = c.req.get_param_value("limit");
           auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), limit);
           if (ec != std::errc() || p != v.data() + v.size() || v.empty() || limit < 1 ||
               limit > 10000)
             return InvalidArgument("query parameter limit: '" + v.substr(0, 40) +
                                    "' is not an integer in [1, 10000]");
         }
         VQI_ASSIGN_OR_RETURN(auto store,
                              dataset::Store::Open(ctx.options.home, c.Param("name"), false));
         const std::string thing = c.req.get_param_value("thing");
         VQI_ASSIGN_OR_RETURN(dataset::PoolPage page, store->UnlabeledPoolPage({thing, limit}));
         Json images = Json::array();
         for (const dataset::PoolImage& p : page.images)
           images.push_back(dataset::PoolImageToJson(p, /*with_path=*/false));
         c.Reply(200,
                 Json{{"dataset", c.Param("name")}, {"unlabeled", page.total}, {"images", images}});
         return Status::Ok();
       }});
}

}  // namespace vqi::server
