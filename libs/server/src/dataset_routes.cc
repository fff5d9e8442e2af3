// GET /v1/datasets and /v1/datasets/{name}: read-only views of libs/dataset.
#include "context.h"
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
}

}  // namespace vqi::server
