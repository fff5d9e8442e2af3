// Things over HTTP (read scope): the fleet store's view of each device, its last heartbeat and
// its deployments (libs/fleet thing_view.h; docs/api.md "Things").
#include "context.h"
#include "vqi/fleet/store.h"
#include "vqi/fleet/thing_view.h"

namespace vqi::server {

using FleetStoreLocked = Locked<fleet::FleetStore>;

Status AddFleetRoutes(Router& router, ServerContext& ctx) {
  VQI_ASSIGN_OR_RETURN(auto opened,
                       fleet::OpenSqliteFleetStore(fleet::FleetDbPath(ctx.options.home)));
  auto store = std::make_shared<FleetStoreLocked>(std::move(opened));
  ctx.resources.push_back(store);
  FleetStoreLocked* s = store.get();
  router.Add({"GET",
              "/v1/things",
              Access::kRead,
              Body::kNone,
              "things",
              "Things (devices) with their groups and when they were last heard from",
              200,
              nullptr,
              {{"type", "object"}},
              [s](Call& c) -> Status {
                return s->With([&](fleet::FleetStore& fl) -> Status {
                  VQI_ASSIGN_OR_RETURN(std::vector<fleet::Thing> things, fl.ListThings());
                  Json arr = Json::array();
                  for (const fleet::Thing& t : things) {
                    Json j = fleet::ThingJson(t);
                    j["last_seen"] = fleet::HealthJson(fl, t.name)["last_seen"];
                    arr.push_back(j);
                  }
                  c.Reply(200, Json{{"things", arr}});
                  return Status::Ok();
                });
              }});
  router.Add({"GET",
              "/v1/things/{name}",
              Access::kRead,
              Body::kNone,
              "things",
              "A thing: last heartbeat, last published desired state, status per deployment",
              200,
              nullptr,
              {{"type", "object"}},
              [s](Call& c) -> Status {
                const std::string name = c.Param("name");
                VQI_ASSIGN_OR_RETURN(Json j, s->With([&](fleet::FleetStore& fl) {
                  return fleet::ThingDetailJson(fl, name);
                }));
                c.Reply(200, j);
                return Status::Ok();
              }});
  return Status::Ok();
}

}  // namespace vqi::server
