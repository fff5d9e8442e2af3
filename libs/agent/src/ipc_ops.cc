// The IPC operations (docs/design/ipc.md "Operations"), on the IPC thread.
#include <fcntl.h>
#include <unistd.h>

#include <cmath>

#include "ipc_server_impl.h"
#include "vqi/agent/ipc_access.h"
#include "vqi/base/hash.h"
#include "vqi/base/log.h"

namespace vqi::agent {
namespace {

namespace acc = ipc_access;

Status Denied(const std::string& component, std::string_view service, std::string_view op,
              const std::string& resource) {
  return PermissionDenied("component " + component + " has no accessControl grant for " +
                          std::string(service) + " operation " + std::string(op) +
                          " on resource \"" + resource + "\" (add it to its recipe)");
}

Result<std::string> StringField(const Json& r, const char* key, size_t max = 1024) {
  auto it = r.find(key);
  if (it == r.end() || !it->is_string() || it->get_ref<const std::string&>().empty())
    return InvalidArgument(std::string("request field \"") + key + "\" must be a non-empty string");
  if (it->get_ref<const std::string&>().size() > max)
    return InvalidArgument(std::string("request field \"") + key + "\" is longer than " +
                           std::to_string(max) + " bytes");
  return it->get<std::string>();
}

bool HasWildcard(const std::string& t) { return t.find_first_of("+#") != std::string::npos; }

}  // namespace

void IpcServer::Impl::Handle(IpcConn& c, const Json& r) {
  const std::string op = r.value("op", "");
  if (c.component.empty()) {  // the first frame must authenticate
    std::string name;
    if (op == "Connect" && r.contains("token") && r["token"].is_string()) {
      std::lock_guard lock(mu);
      auto it = name_of.find(r["token"].get<std::string>());
      if (it != name_of.end()) name = it->second;
    }
    if (name.empty()) {
      Status s = PermissionDenied(op == "Connect" ? "unknown IPC token (SVCUID)"
                                                  : "the first IPC request must be Connect with "
                                                    "the SVCUID token");
      CountDenied(s);
      Answer(c, r, s);
      c.close_after_flush = true;
      return;
    }
    c.component = name;
    Answer(c, r, Status::Ok(), Json{{"component", name}});
    return;
  }
  IpcComponent me;
  {
    std::lock_guard lock(mu);
    auto it = components.find(c.component);
    if (it == components.end()) {
      Answer(c, r, PermissionDenied("component " + c.component + " is no longer deployed"));
      c.close_after_flush = true;
      return;
    }
    me = it->second;
  }
  const Json ac = me.configuration.value("accessControl", Json());
  Status st;
  Json body = Json::object();
  auto done = [&] {
    CountDenied(st);
    Answer(c, r, st, std::move(body));
  };

  if (op == "PublishToIoTCore" || op == "UploadFile") {
    const std::string results = "vqi/v1/results/" + o.thing + "/";
    std::string topic;
    Json payload;
    if (op == "PublishToIoTCore") {
      auto t = StringField(r, "topic", 256);
      if (!t.ok()) return st = t.status(), done();
      topic = *t;
      if (!r.contains("payload") || !r["payload"].is_object())
        return st = InvalidArgument("PublishToIoTCore: \"payload\" must be a JSON object"), done();
      if (r.contains("qos") && r["qos"] != 1)
        return st = InvalidArgument("PublishToIoTCore: only qos 1 (spooled) is offered"), done();
      payload = r["payload"];
    } else {
      topic = results + c.component + "/upload";
      auto name = StringField(r, "name", 255);
      auto data = StringField(r, "dataBase64", ipc::kMaxUploadBytes * 4 / 3 + 8);
      if (!name.ok()) return st = name.status(), done();
      if (!data.ok()) return st = ResourceExhausted(data.status().message()), done();
      if (name->find('/') != std::string::npos)
        return st = InvalidArgument("UploadFile: \"name\" must not contain '/'"), done();
      auto bytes = ipc::Base64Decode(*data);
      if (!bytes.ok())
        return st = InvalidArgument("UploadFile: " + bytes.status().message()), done();
      if (bytes->size() > ipc::kMaxUploadBytes)
        return st = ResourceExhausted("UploadFile: larger than " +
                                      std::to_string(ipc::kMaxUploadBytes) + " bytes"),
               done();
      payload = {{"kind", "upload"},
                 {"thing", o.thing},
                 {"component", c.component},
                 {"name", *name},
                 {"contentType", r.value("contentType", "application/octet-stream")},
                 {"size", bytes->size()},
                 {"sha256", Sha256Hex(*bytes)},
                 {"metadata", r.value("metadata", Json::object())},
                 {"dataBase64", *data}};
    }
    if (HasWildcard(topic))
      return st = InvalidArgument("publish topic \"" + topic + "\" has wildcards"), done();
    if (!acc::Allowed(ac, acc::kMqttProxy, acc::kPublishToIoTCore, topic, o.thing))
      return st = Denied(c.component, acc::kMqttProxy, acc::kPublishToIoTCore, topic), done();
    if (topic.rfind(results, 0) != 0)
      return st = PermissionDenied("topic \"" + topic + "\" is outside " + results +
                                   "#, the only cloud topics the broker lets this device write"),
             done();
    if (!spool) return st = Unavailable("the agent has no spool (no broker configured)"), done();
    auto id = spool->Append(topic, c.component, std::move(payload));
    if (!id.ok()) return st = id.status(), done();
    {
      std::lock_guard lock(mu);
      ++stats.spooled;
    }
    if (on_spooled) on_spooled();
    body["messageId"] = *id;
    return done();
  }

  if (op == "PublishToTopic" || op == "SubscribeToTopic") {
    auto t = StringField(r, "topic", 256);
    if (!t.ok()) return st = t.status(), done();
    const auto operation = op == "PublishToTopic" ? acc::kPublishToTopic : acc::kSubscribeToTopic;
    if (!acc::Allowed(ac, acc::kPubSub, operation, *t, o.thing))
      return st = Denied(c.component, acc::kPubSub, operation, *t), done();
    if (op == "SubscribeToTopic") {
      c.topic_subs.insert(*t);
      return done();
    }
    if (HasWildcard(*t)) return st = InvalidArgument("publish topic has wildcards"), done();
    const Json event{{"event", "message"},
                     {"topic", *t},
                     {"from", c.component},
                     {"payload", r.value("payload", Json())}};
    for (auto& [fd, other] : conns)
      for (const auto& f : other->topic_subs)
        if (acc::MqttFilterMatches(f, *t)) {
          Send(*other, event);
          break;
        }
    return done();
  }

  if (op == "GetConfiguration" || op == "SubscribeToConfigurationUpdate") {
    const std::string target = r.value("component", c.component);
    const auto operation =
        op == "GetConfiguration" ? acc::kGetConfiguration : acc::kSubscribeToConfigurationUpdate;
    if (target != c.component && !acc::Allowed(ac, acc::kConfig, operation, target, o.thing))
      return st = Denied(c.component, acc::kConfig, operation, target), done();
    Json config;
    {
      std::lock_guard lock(mu);
      auto it = components.find(target);
      if (it == components.end())
        return st = NotFound("component " + target + " is not deployed on this device"), done();
      config = it->second.configuration;
    }
    if (op == "SubscribeToConfigurationUpdate") {
      c.config_subs.insert(target);
      return done();
    }
    const std::string ptr = r.value("pointer", "");
    try {
      const Json::json_pointer p(ptr);
      if (!config.contains(p))
        return st = NotFound("configuration of " + target + " has nothing at \"" + ptr + "\""),
               done();
      body["value"] = config.at(p);
    } catch (const std::exception& e) {
      return st = InvalidArgument("\"pointer\" is not a JSON pointer: " + ptr), done();
    }
    return done();
  }

  if (op == "UpdateState") {
    const std::string s = r.value("state", "");
    if (s != "RUNNING" && s != "ERRORED")
      return st = InvalidArgument("UpdateState: \"state\" must be RUNNING or ERRORED"), done();
    std::lock_guard lock(mu);
    states[c.component] = s;
    st = Status::Ok();
  } else if (op == "PutMetric") {
    auto m = StringField(r, "metric", 128);
    if (!m.ok()) return st = m.status(), done();
    if (!r.contains("value") || !r["value"].is_number() || !std::isfinite(r["value"].get<double>()))
      return st = InvalidArgument("PutMetric: \"value\" must be a finite number"), done();
    if (me.metrics_file.empty())
      return st = FailedPrecondition("no metrics file for " + c.component), done();
    const std::string line = Json{{"metric", *m}, {"value", r["value"]}}.dump() + "\n";
    int fd = ::open(me.metrics_file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || ::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
      st = Unavailable("cannot append to " + me.metrics_file);
    if (fd >= 0) ::close(fd);
  } else if (op == "Connect") {
    st = FailedPrecondition("already connected as " + c.component);
  } else {
    st = InvalidArgument("unknown IPC operation \"" + op.substr(0, 64) +
                         "\" (PublishToIoTCore, PublishToTopic, SubscribeToTopic, "
                         "GetConfiguration, SubscribeToConfigurationUpdate, UpdateState, "
                         "PutMetric, UploadFile)");
  }
  done();
}

}  // namespace vqi::agent
