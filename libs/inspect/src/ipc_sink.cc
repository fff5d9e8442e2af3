// IpcLink and IpcResultSink (vqi/inspect/ipc.h).
#include <sys/stat.h>

#include <cstdlib>
#include <utility>
#include <vector>

#include "vqi/base/log.h"
#include "vqi/inspect/ipc.h"

namespace vqi::inspect {
namespace {

std::string ContentType(const std::string& name) {
  std::string ext;
  if (auto dot = name.rfind('.'); dot != std::string::npos) ext = name.substr(dot + 1);
  for (char& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (ext == "jpg" || ext == "jpeg") return "image/jpeg";
  if (ext == "png") return "image/png";
  if (ext == "bmp") return "image/bmp";
  if (ext == "tif" || ext == "tiff") return "image/tiff";
  if (ext == "webp") return "image/webp";
  return "application/octet-stream";
}

// A refusal by accessControl is a deployment error: say which grant the recipe needs.
Status NameTheGrant(const Status& s, const std::string& what, const std::string& topic) {
  if (s.code() != StatusCode::kPermissionDenied) return s;
  if (s.message().find("accessControl") == std::string::npos)  // e.g. no longer deployed
    return PermissionDenied(what + " refused by the agent: " + s.message());
  return PermissionDenied(what + " refused by the agent: " + s.message() +
                          ". The component's accessControl must grant "
                          "aws.greengrass.ipc.mqttproxy operation "
                          "aws.greengrass#PublishToIoTCore on \"" +
                          topic + "\" (components/recipes/vqi-inspect.yaml has it)");
}

}  // namespace

Result<std::unique_ptr<IpcLink>> IpcLink::Connect(const std::string& socket_path,
                                                  const std::string& token) {
  std::unique_ptr<IpcLink> link(new IpcLink(socket_path, token));
  VQI_RETURN_IF_ERROR(link->Reconnect());
  return link;
}

Result<std::unique_ptr<IpcLink>> IpcLink::ConnectFromEnv() {
  const char* path = std::getenv(ipc::kSocketEnv);
  const char* token = std::getenv(ipc::kTokenEnv);
  if (!path || !*path || !token || !*token)
    return FailedPrecondition(std::string(ipc::kSocketEnv) + " or " + ipc::kTokenEnv +
                              " is not set: vqi-inspect was not started by vqi-agent (give "
                              "--config FILE to run without the agent)");
  return Connect(path, token);
}

Status IpcLink::Reconnect() {
  client_.reset();
  VQI_ASSIGN_OR_RETURN(client_, ipc::IpcClient::Connect(socket_, token_));
  if (!component_.empty() && client_->component() != component_)
    VQI_LOG_WARN("the agent now names this component {} (was {})", client_->component(),
                 component_);
  component_ = client_->component();
  ++generation_;
  return Status::Ok();
}

Status IpcLink::Track(Status s) {
  if (s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kDeadlineExceeded)
    client_.reset();  // reconnect at the next Use
  return s;
}

Status IpcLink::Use(const std::function<Status(ipc::IpcClient&)>& op) {
  if (!client_) {
    if (Status s = Reconnect(); !s.ok()) {
      client_.reset();
      return s.code() == StatusCode::kPermissionDenied
                 ? PermissionDenied("the agent refused the IPC token (SVCUID): " + s.message())
                 : Unavailable("cannot reconnect to the agent: " + s.message());
    }
    VQI_LOG_INFO("reconnected to the agent's IPC as {}", component_);
  }
  return Track(op(*client_));
}

Status IpcLink::UseIfConnected(const std::function<Status(ipc::IpcClient&)>& op) {
  if (!client_) return Unavailable("not connected to the agent");
  return Track(op(*client_));
}

Json UploadMetadata(const OrderedJson& r) {
  auto str = [&](const OrderedJson& j, const char* k) {
    return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string();
  };
  const OrderedJson& model = r.contains("model") ? r["model"] : OrderedJson::object();
  const OrderedJson& image = r.contains("image") ? r["image"] : OrderedJson::object();
  return Json{{"thing", str(r, "thing")},         {"component", str(r, "component")},
              {"modelName", str(model, "name")},  {"modelVersion", str(model, "version")},
              {"resultId", str(r, "id")},         {"bestScore", r.value("best_score", 0.0)},
              {"imageName", str(image, "name")},  {"imageId", str(image, "id")},
              {"timestamp", str(r, "timestamp")}, {"verdict", str(r, "verdict")}};
}

Status IpcResultSink::Publish(const std::string& topic, const std::string&,
                              const OrderedJson& result) {
  const Json payload(result);  // the agent stores a JSON object (key order is not kept)
  Status s = link_.Use([&](ipc::IpcClient& c) -> Status {
    auto id = c.PublishToIoTCore(topic, payload);
    if (!id.ok()) return id.status();
    last_message_id_ = *id;
    return Status::Ok();
  });
  if (!s.ok()) return NameTheGrant(s, "publishing a result on " + topic, topic);
  ++counters_.published;
  CountForMetrics(result);
  return s;
}

void IpcResultSink::CountForMetrics(const OrderedJson& r) {
  if (metrics_every_ <= 0 || r.value("schema", std::string()) != "vqi.inspect.result/1") return;
  const std::string verdict = r.value("verdict", std::string());
  ++window_results_;
  if (verdict == "fail") ++window_fails_;
  if (verdict != "error" && r.contains("timings_ms") && r["timings_ms"].is_object() &&
      r["timings_ms"].contains("model") && r["timings_ms"]["model"].is_number()) {
    window_model_ms_ += r["timings_ms"]["model"].get<double>();
    ++window_timed_;
  }
  if (window_results_ < metrics_every_) return;
  std::vector<std::pair<const char*, double>> metrics = {
      {kDefectRateMetric, static_cast<double>(window_fails_) / window_results_}};
  if (window_timed_ > 0) metrics.push_back({kInferenceMsMetric, window_model_ms_ / window_timed_});
  window_results_ = window_fails_ = window_timed_ = 0;
  window_model_ms_ = 0;
  for (const auto& [name, value] : metrics) {
    Status s = link_.UseIfConnected(
        [&, n = name, v = value](ipc::IpcClient& c) { return c.PutMetric(n, v); });
    if (s.ok()) {
      ++counters_.metrics_sent;
    } else {
      ++counters_.metrics_failed;
      VQI_LOG_WARN("metric {} = {} not sent (inspection goes on): {}", name, value, s.ToString());
    }
  }
}

Status IpcResultSink::Upload(const std::string& image_path, const OrderedJson& result) {
  const std::string name = result["image"].value("name", std::string());
  struct stat st;
  if (::stat(image_path.c_str(), &st) != 0) {
    ++counters_.uploads_skipped;
    VQI_LOG_WARN("uncertain image {} vanished before its upload: not uploaded", image_path);
    return Status::Ok();
  }
  if (static_cast<uint64_t>(st.st_size) > ipc::kMaxUploadBytes) {
    ++counters_.uploads_skipped;
    VQI_LOG_WARN(
        "uncertain image {} is {} bytes, above the IPC upload limit of {} "
        "(docs/limits.md): its result is published, the image is not uploaded",
        image_path, static_cast<int64_t>(st.st_size), ipc::kMaxUploadBytes);
    return Status::Ok();
  }
  Status s = link_.Use([&](ipc::IpcClient& c) -> Status {
    auto id = c.UploadFile(image_path, ContentType(name), UploadMetadata(result));
    return id.status();
  });
  if (s.code() == StatusCode::kNotFound) {  // read by the client: gone since the stat
    ++counters_.uploads_skipped;
    VQI_LOG_WARN("uncertain image {} vanished before its upload: not uploaded", image_path);
    return Status::Ok();
  }
  if (!s.ok())
    return NameTheGrant(s, "uploading " + name,
                        "vqi/v1/results/" + result.value("thing", std::string("<thing>")) + "/" +
                            link_.component() + "/upload");
  ++counters_.uploaded;
  return s;
}

}  // namespace vqi::inspect
