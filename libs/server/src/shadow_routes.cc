// GET /v1/shadow (read scope): the latest shadow statistics of each device and their fleet sum
// per candidate model (libs/fleet shadow_store.h; docs/design/shadow.md, docs/api.md).
#include <map>

#include "context.h"
#include "vqi/fleet/shadow.h"
#include "vqi/fleet/shadow_store.h"

namespace vqi::server {

using ShadowStoreLocked = Locked<fleet::ShadowStore>;

Status AddShadowRoutes(Router& router, ServerContext& ctx) {
  VQI_ASSIGN_OR_RETURN(auto opened,
                       fleet::OpenSqliteShadowStore(fleet::ShadowDbPath(ctx.options.home)));
  auto store = std::make_shared<ShadowStoreLocked>(std::move(opened));
  ctx.resources.push_back(store);
  ShadowStoreLocked* s = store.get();
  router.Add({"GET",
              "/v1/shadow",
              Access::kRead,
              Body::kNone,
              "results",
              "Shadow statistics per candidate model (?candidate=COMPONENT@VERSION): fleet sum "
              "and each device's latest",
              200,
              nullptr,
              {{"type", "object"}},
              [s](Call& c) -> Status {
                std::string component, version;
                const std::string cand = c.req.get_param_value("candidate");
                if (!cand.empty()) {
                  const size_t at = cand.rfind('@');
                  if (at == std::string::npos || at == 0 || at + 1 == cand.size())
                    return InvalidArgument("query parameter candidate: '" + cand.substr(0, 80) +
                                           "' is not COMPONENT@VERSION");
                  component = cand.substr(0, at);
                  version = cand.substr(at + 1);
                }
                VQI_ASSIGN_OR_RETURN(
                    std::vector<fleet::StoredShadowStats> rows,
                    s->With([&](fleet::ShadowStore& st) { return st.List(component, version); }));
                std::map<std::string, std::vector<fleet::ShadowStats>> by;
                for (const auto& r : rows)
                  by[r.stats.candidate_component + "@" + r.stats.candidate_version].push_back(
                      r.stats);
                Json out = Json::array();
                for (const auto& [key, stats] : by) {
                  Json devices = Json::array();
                  for (const auto& st : stats) devices.push_back(fleet::ShadowStatsToJson(st));
                  out.push_back({{"candidate", key},
                                 {"fleet", fleet::AggregateShadow(stats).ToJson()},
                                 {"devices", devices}});
                }
                c.Reply(200, Json{{"candidates", out}});
                return Status::Ok();
              }});
  return Status::Ok();
}

}  // namespace vqi::server
