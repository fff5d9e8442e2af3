// IpcConfigSource (vqi/inspect/ipc.h): the component's own configuration over the agent IPC.
#include "vqi/base/log.h"
#include "vqi/inspect/ipc.h"

namespace vqi::inspect {

Status IpcConfigSource::Subscribe() {
  VQI_RETURN_IF_ERROR(
      link_.Use([](ipc::IpcClient& c) { return c.SubscribeToConfigurationUpdate(); }));
  subscribed_generation_ = link_.generation();
  return Status::Ok();
}

Result<InspectConfig> IpcConfigSource::Parse(const Json& document,
                                             std::vector<std::string>* unknown) const {
  const std::string where = "configuration of component " + link_.component();
  if (!document.is_object()) return InvalidArgument(where + ": not a JSON object");
  Json j = document;
  for (const auto& [k, v] : defaults_.items())
    if (!j.contains(k) || j[k].is_null()) j[k] = v;
  if (!j.contains("ComponentName") || j["ComponentName"].is_null())
    j["ComponentName"] = link_.component();
  return ParseConfig(j, where, env_thing_, unknown);
}

Result<InspectConfig> IpcConfigSource::Load(std::vector<std::string>* unknown) {
  // Subscribe first: an update between the read and the subscription is not missed.
  VQI_RETURN_IF_ERROR(Subscribe());
  Json document;
  VQI_RETURN_IF_ERROR(link_.Use([&](ipc::IpcClient& c) -> Status {
    auto v = c.GetConfiguration();
    if (!v.ok()) return v.status();
    document = std::move(*v);
    return Status::Ok();
  }));
  last_ = document;
  return Parse(document, unknown);
}

Result<std::optional<InspectConfig>> IpcConfigSource::Poll() {
  // A broken connection is re-made by the sink's next publish (with its backoff); until then
  // there is nothing to read here.
  if (!link_.connected()) return std::optional<InspectConfig>();
  std::optional<Json> latest;
  if (subscribed_generation_ != link_.generation()) {
    // A new connection has no subscription, and an update may have come while there was none.
    VQI_RETURN_IF_ERROR(Subscribe());
    VQI_RETURN_IF_ERROR(link_.UseIfConnected([&](ipc::IpcClient& c) -> Status {
      auto v = c.GetConfiguration();
      if (!v.ok()) return v.status();
      latest = std::move(*v);
      return Status::Ok();
    }));
  }
  // Every event already received (also those kept while a publish waited); the last update
  // is the configuration now.
  for (bool more = true; more;) {
    VQI_RETURN_IF_ERROR(link_.UseIfConnected([&](ipc::IpcClient& c) -> Status {
      auto e = c.NextEvent(0);
      if (!e.ok()) {
        more = false;
        return e.status().code() == StatusCode::kDeadlineExceeded ? Status::Ok() : e.status();
      }
      if (e->kind == "configurationUpdate" && e->topic == link_.component())
        latest = std::move(e->payload);
      return Status::Ok();
    }));
  }
  if (!latest || *latest == last_) return std::optional<InspectConfig>();
  last_ = *latest;  // an invalid document is reported once, not at every poll
  auto parsed = Parse(*latest, nullptr);
  if (!parsed.ok()) return parsed.status();
  return std::optional<InspectConfig>(std::move(*parsed));
}

}  // namespace vqi::inspect
