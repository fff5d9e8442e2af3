// vqi-inspect under the agent (docs/design/inspect.md "Under the agent"): results and uncertain
// images go into the agent's durable spool over the component IPC (docs/design/ipc.md), and the
// configuration is the component's own, reloaded on `configurationUpdate` events.
//
//   auto link = IpcLink::ConnectFromEnv();                  // VQI_IPC_SOCKET + SVCUID
//   IpcConfigSource config(**link, thing, defaults);        // GetConfiguration + subscribe
//   IpcResultSink sink(**link);                             // PublishToIoTCore / UploadFile
//   inspector->Run(stop, &config);
//
// Thread-compatible: the link, the sink and the config source share one IpcClient and are all
// used from the Inspector's thread (the client is not thread-safe).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vqi/base/json.h"
#include "vqi/base/status.h"
#include "vqi/inspect/inspector.h"
#include "vqi/inspect/sink.h"
#include "vqi/ipc_client/client.h"

namespace vqi::inspect {

// One connection to the agent, re-made after it broke (the agent restarted, the socket closed).
// `generation` counts connections so users of events (the config source) know to subscribe
// again.
class IpcLink {
 public:
  // Connects now: the first connection must succeed (the error is returned: wrong token,
  // no agent). FailedPrecondition from ConnectFromEnv when the variables are missing.
  static Result<std::unique_ptr<IpcLink>> Connect(const std::string& socket_path,
                                                  const std::string& token);
  static Result<std::unique_ptr<IpcLink>> ConnectFromEnv();

  // The agent's name for this component (the IPC Connect answer).
  const std::string& component() const { return component_; }
  uint64_t generation() const { return generation_; }
  bool connected() const { return client_ != nullptr; }

  // Runs `op` on the client, reconnecting first when the last call broke the connection. An
  // Unavailable or DeadlineExceeded status (the agent went away, or never answered) drops the
  // connection so the next call reconnects; the status is returned unchanged.
  Status Use(const std::function<Status(ipc::IpcClient&)>& op);
  // Like Use, but never reconnects: Unavailable("not connected") when the connection is down.
  Status UseIfConnected(const std::function<Status(ipc::IpcClient&)>& op);

 private:
  IpcLink(std::string socket, std::string token)
      : socket_(std::move(socket)), token_(std::move(token)) {}
  Status Reconnect();
  Status Track(Status s);

  std::string socket_, token_, component_;
  std::unique_ptr<ipc::IpcClient> client_;
  uint64_t generation_ = 0;
};

// The metadata of an uploaded image (the agent carries it in the upload message's
// "metadata"; the server files the image with it): thing, component, modelName, modelVersion,
// resultId, bestScore, imageName, imageId, timestamp, verdict.
Json UploadMetadata(const OrderedJson& result);

struct IpcSinkCounters {
  int64_t published = 0;
  int64_t uploaded = 0;
  int64_t uploads_skipped = 0;  // larger than ipc::kMaxUploadBytes, or gone before upload
  int64_t metrics_sent = 0;     // PutMetric calls the agent accepted
  int64_t metrics_failed = 0;   // refused or not answered (logged; inspection goes on)
};

// KPI metrics for KPI-guarded rollouts (docs/design/fleet.md `kpi`; the agent appends them to
// the component's metrics.jsonl): every `every` published results (vqi.inspect.result/1 only),
// `defect_rate` = fail verdicts / results in that window and `inference_ms` = the mean model
// time of its results that have one (not verdict error). 0 = off.
inline constexpr int kDefaultMetricsEvery = 20;
inline constexpr char kDefectRateMetric[] = "defect_rate";
inline constexpr char kInferenceMsMetric[] = "inference_ms";

// Publish = IPC PublishToIoTCore (OK only once the agent answered that the spool holds it);
// Upload = IPC UploadFile. Status codes the Inspector acts on: ResourceExhausted (spool full)
// and Unavailable (agent gone, no spool) are retried with backoff, the image stays unjournaled;
// PermissionDenied (no accessControl grant) is fatal and names the grant the recipe lacks.
// After each published result it adds to the KPI window and sends the metrics (PutMetric) when
// the window is full: best effort, a failure is logged and counted, never returned.
class IpcResultSink : public ResultSink {
 public:
  explicit IpcResultSink(IpcLink& link, int metrics_every = kDefaultMetricsEvery)
      : link_(link), metrics_every_(metrics_every) {}
  Status Publish(const std::string& topic, const std::string& id,
                 const OrderedJson& result) override;
  // Images above ipc::kMaxUploadBytes (256 KiB) are not uploaded (logged, counted): the result
  // was published and says `uncertain`; retrying could never succeed.
  Status Upload(const std::string& image_path, const OrderedJson& result) override;

  const IpcSinkCounters& counters() const { return counters_; }
  const std::string& last_message_id() const { return last_message_id_; }

 private:
  void CountForMetrics(const OrderedJson& result);

  IpcLink& link_;
  const int metrics_every_;
  IpcSinkCounters counters_;
  std::string last_message_id_;
  int window_results_ = 0, window_fails_ = 0, window_timed_ = 0;
  double window_model_ms_ = 0;
};

// The component's own configuration (GetConfiguration of the whole document) as an
// InspectConfig, and later versions of it from `configurationUpdate` events (Poll, between
// images: Inspector::Run applies them with Inspector::Reload). `defaults` fills keys the
// configuration does not set (the recipe passes ModelDirectory/ModelName/ModelVersion on the
// command line because the agent, like Greengrass, does not interpolate configuration values);
// ComponentName defaults to the agent's name for the component. After a reconnection Poll
// subscribes again and re-reads the document (an update may have been missed).
class IpcConfigSource : public ConfigSource {
 public:
  IpcConfigSource(IpcLink& link, std::string env_thing, Json defaults = Json::object())
      : link_(link), env_thing_(std::move(env_thing)), defaults_(std::move(defaults)) {}
  // Subscribes, then reads the document (in that order: no update is missed in between).
  // `unknown` receives the keys vqi-inspect does not use.
  Result<InspectConfig> Load(std::vector<std::string>* unknown = nullptr);
  Result<std::optional<InspectConfig>> Poll() override;

 private:
  Result<InspectConfig> Parse(const Json& document, std::vector<std::string>* unknown) const;
  Status Subscribe();

  IpcLink& link_;
  std::string env_thing_;
  Json defaults_;
  Json last_;  // the last document seen (valid or not: an invalid one is reported once)
  uint64_t subscribed_generation_ = 0;
};

}  // namespace vqi::inspect
