// NetAgent (net.h): connection, desired state in, the durable replay guard.
#include "vqi/agent/net.h"

#include <pthread.h>
#include <signal.h>

#include <cstdlib>
#include <filesystem>

#include "vqi/agent/deployment.h"
#include "vqi/agent/engine.h"
#include "vqi/agent/supervisor.h"
#include "vqi/base/file.h"
#include "vqi/base/log.h"
#include "vqi/transport/topics.h"

namespace vqi::agent {
namespace topics = transport::topics;
namespace {

std::string DesiredPath(const Layout& l) { return l.state() + "/desired.json"; }
std::string ReportPath(const Layout& l) { return l.state() + "/report.json"; }
std::string NetPath(const Layout& l) { return l.state() + "/net.json"; }

// The engine's queued form of a desired state (the shape `vqi-agent deploy` queues).
Result<Deployment> ToDeployment(const fleet::DesiredState& d) {
  Deployment out;
  out.id = d.deployment_id;
  VQI_RETURN_IF_ERROR(ValidateDeploymentId(out.id).WithContext("deploymentId"));
  out.sequence = static_cast<uint64_t>(d.sequence);
  out.policy = d.failure_handling_policy == "DO_NOTHING" ? FailurePolicy::kDoNothing
                                                         : FailurePolicy::kRollback;
  for (const auto& [name, c] : d.components) {
    DeploymentComponent dc;
    dc.version = c.version;
    if (c.configuration_update) {
      dc.update.reset = c.configuration_update->reset;
      if (c.configuration_update->merge) {
        auto merge = ParseJson(*c.configuration_update->merge,
                               "components." + name + ".configurationUpdate.merge");
        if (!merge.ok()) return merge.status();
        if (!merge->is_object())
          return InvalidArgument("components." + name +
                                 ".configurationUpdate.merge: must hold a JSON object");
        dc.update.merge = std::move(*merge);
      }
    }
    out.components.emplace(name, std::move(dc));
  }
  if (d.shadow) out.shadow = ShadowRef{d.shadow->component, d.shadow->version};
  return out;
}

}  // namespace

Result<transport::MqttOptions> MqttOptionsFromBundle(const std::string& bundle_dir,
                                                     const std::string& thing) {
  const std::string file = bundle_dir + "/agent.json";
  VQI_ASSIGN_OR_RETURN(Json j, ReadJsonFile(file));
  if (!j.is_object() || !j.contains("broker") || !j["broker"].is_string())
    return InvalidArgument(file + ": broker: missing (a string \"host:port\" is required)");
  const std::string broker = j["broker"];
  const size_t colon = broker.rfind(':');
  char* end = nullptr;
  const long port =
      colon == std::string::npos ? 0 : std::strtol(broker.c_str() + colon + 1, &end, 10);
  if (colon == 0 || colon == std::string::npos || !end || *end || port < 1 || port > 65535)
    return InvalidArgument(file + ": broker: '" + broker + "' is not host:port (port 1-65535)");
  transport::MqttOptions m;
  m.host = broker.substr(0, colon);
  m.port = static_cast<int>(port);
  m.client_id = thing;
  m.ca_file = bundle_dir + "/ca.pem";
  m.cert_file = bundle_dir + "/cert.pem";
  m.key_file = bundle_dir + "/key.pem";
  m.clean_session = false;
  m.max_payload_bytes = kMaxReceivedPayloadBytes;
  for (const std::string* f : {&m.ca_file, &m.cert_file, &m.key_file})
    if (!FileExists(*f)) return NotFound("agent bundle: no " + *f);
  return m;
}

NetAgent::NetAgent(NetOptions options, Layout layout, ComponentStates components, Queued queued)
    : o_(std::move(options)),
      layout_(std::move(layout)),
      components_(std::move(components)),
      queued_(std::move(queued)),
      kpi_(layout_.root + "/work", o_.kpi_max_wait_seconds) {}

NetAgent::~NetAgent() {
  if (client_) (void)client_->Disconnect(0);
}

Result<std::unique_ptr<NetAgent>> NetAgent::Create(NetOptions options, Layout layout,
                                                   ComponentStates components, Queued queued) {
  VQI_RETURN_IF_ERROR(topics::CheckThingName(options.thing));
  if (!(options.heartbeat_seconds > 0))
    return InvalidArgument("heartbeat interval must be above 0 seconds");
  std::unique_ptr<NetAgent> n(new NetAgent(std::move(options), std::move(layout),
                                           std::move(components), std::move(queued)));
  // The durable replay guard and report sequence; damaged files refuse the start (as the
  // engine does for its state) rather than reuse a sequence.
  if (FileExists(DesiredPath(n->layout_))) {
    VQI_ASSIGN_OR_RETURN(Json d, ReadJsonFile(DesiredPath(n->layout_)));
    if (!d.is_object() || !d.contains("sequence") || !d["sequence"].is_number_integer())
      return DataLoss(DesiredPath(n->layout_) + ": damaged (no integer sequence)");
    n->desired_sequence_ = d["sequence"].get<int64_t>();
    n->desired_id_ = d.value("deploymentId", "");
    if (d.contains("kpi") && d["kpi"].is_object())
      n->desired_kpi_ = fleet::KpiSpec{d["kpi"].value("metric", ""), d["kpi"].value("window", 200)};
  }
  // A crash between queueing a desired state and writing desired.json leaves the deployment
  // in the inbox, in flight or applied: what the engine has counts as accepted too, so the
  // retained message that comes back is a duplicate, not a second deployment.
  auto consider = [&](const Json& dep) {
    if (!dep.is_object() || !dep.contains("sequence") || !dep["sequence"].is_number_unsigned())
      return;
    const std::string id = dep.value("deploymentId", "");
    const auto seq = static_cast<int64_t>(dep["sequence"].get<uint64_t>());
    if (id.rfind("local-", 0) == 0 || seq <= n->desired_sequence_) return;  // local deploys
    n->desired_sequence_ = seq;
    n->desired_id_ = id;
  };
  if (auto cur = LoadCurrent(n->layout_); cur.ok())
    consider(Json{{"sequence", cur->sequence}, {"deploymentId", cur->deployment_id}});
  if (auto f = LoadInflight(n->layout_); f.ok() && *f)
    consider((*f)->deployment.value("deployment", Json()));
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(n->layout_.inbox(), ec)) {
    auto item = ReadJsonFile(e.path().string());
    if (item.ok() && item->is_object()) consider(item->value("deployment", Json()));
  }
  if (FileExists(ReportPath(n->layout_))) {
    VQI_ASSIGN_OR_RETURN(Json r, ReadJsonFile(ReportPath(n->layout_)));
    if (!r.is_object() || !r.contains("sequence") || !r["sequence"].is_number_integer())
      return DataLoss(ReportPath(n->layout_) + ": damaged (no integer sequence)");
    n->report_sequence_ = r["sequence"].get<int64_t>();
    n->last_report_ = r.value("report", "");
  }
  if (FileExists(NetPath(n->layout_))) {  // counters only: statistics survive restarts
    auto s = ReadJsonFile(NetPath(n->layout_));
    if (s.ok() && s->is_object()) {
      n->rejected_total_ = s->value("rejectedMessages", int64_t{0});
      if (s->contains("rejected") && (*s)["rejected"].is_object()) n->rejected_ = (*s)["rejected"];
      n->duplicates_ = s->value("duplicates", int64_t{0});
    }
  }
  VQI_ASSIGN_OR_RETURN(n->client_, transport::MqttClient::Create(n->o_.mqtt));
  NetAgent* self = n.get();
  n->client_->OnMessage([self](const transport::MqttMessage& m) {
    // Network thread: copy and wake the engine; nothing here may block.
    {
      std::lock_guard lock(self->mu_);
      if (self->pending_.size() >= kMaxPendingMessages)
        ++self->overflow_;
      else
        self->pending_.push_back(m);
    }
    Engine::Wake();
    return Status::Ok();
  });
  n->client_->OnState([self](transport::ConnectionState s, const Status& error) {
    const bool up = s == transport::ConnectionState::kConnected;
    self->connected_ = up;
    if (up) {
      ++self->connects_;
      VQI_LOG_INFO("mqtt: connected as {}", self->o_.thing);
    } else if (s == transport::ConnectionState::kReconnecting) {
      VQI_LOG_WARN("mqtt: reconnecting: {}", error.message());
    }
    Engine::Wake();
  });
  return n;
}

Status NetAgent::Start() {
  started_ = Supervisor::Now();
  VQI_RETURN_IF_ERROR(client_->Subscribe(topics::DesiredTopic(o_.thing), 1));
  // The network thread inherits this mask: signals stay with the engine's thread.
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGCHLD);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGINT);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  Status st = client_->Connect();
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  VQI_LOG_INFO("mqtt: connecting to {}:{} as {}", o_.mqtt.host, o_.mqtt.port, o_.thing);
  WriteNetState();
  return st;
}

void NetAgent::Stop(int timeout_ms) {
  if (!client_) return;
  Status st = client_->Disconnect(timeout_ms);
  if (!st.ok()) VQI_LOG_WARN("mqtt: {}", st.message());
  connected_ = false;
  WriteNetState();
}

void NetAgent::Reject(const std::string& kind, const std::string& reason) {
  VQI_LOG_WARN("desired state ignored ({}): {}", kind, reason);
  ++rejected_total_;
  rejected_[kind] = rejected_.value(kind, int64_t{0}) + 1;
  last_rejected_ = {{"kind", kind}, {"reason", reason.substr(0, 512)}, {"at", NowRfc3339()}};
  dirty_ = true;
}

void NetAgent::HandleDesired(const transport::MqttMessage& m) {
  auto t = topics::Parse(m.topic);
  if (!t.ok() || t->kind != topics::Kind::kDesired || t->thing != o_.thing)
    return Reject("topic", "a message on " + m.topic.substr(0, 200) + ", not " +
                               topics::DesiredTopic(o_.thing));
  auto d = fleet::ParseDesiredState(m.payload, o_.thing);
  if (!d.ok()) {
    const StatusCode c = d.status().code();
    return Reject(c == StatusCode::kResourceExhausted  ? "oversized"
                  : c == StatusCode::kPermissionDenied ? "otherThing"
                                                       : "garbage",
                  d.status().message());
  }
  if (d->sequence <= desired_sequence_) {
    // The retained desired state comes again on every (re)subscription: the same document is
    // no replay. Anything else not above the last accepted sequence is.
    if (m.retained && d->sequence == desired_sequence_ && d->deployment_id == desired_id_) {
      ++duplicates_;
      dirty_ = true;
      VQI_LOG_INFO("desired state {} (sequence {}) already accepted", d->deployment_id,
                   d->sequence);
      return;
    }
    return Reject("replayed", "deployment " + d->deployment_id + ": sequence " +
                                  std::to_string(d->sequence) + " is not above the last accepted " +
                                  std::to_string(desired_sequence_));
  }
  auto dep = ToDeployment(*d);
  if (!dep.ok()) return Reject("garbage", dep.status().message());
  // Queue first (durable), then remember the sequence: a crash in between queues the same
  // file again when the retained message comes back (same name, idempotent).
  if (Status st = Enqueue(layout_, *dep, Json{{"kind", "server"}}); !st.ok())
    return Reject("queue", "cannot queue deployment " + dep->id + ": " + st.message());
  Json rec = {{"sequence", d->sequence}, {"deploymentId", d->deployment_id}, {"at", NowRfc3339()}};
  if (d->kpi) rec["kpi"] = {{"metric", d->kpi->metric}, {"window", d->kpi->window}};
  if (Status st = WriteFileAtomic(DesiredPath(layout_), rec.dump()); !st.ok())
    VQI_LOG_ERROR("{}: {}", DesiredPath(layout_), st.message());
  desired_sequence_ = d->sequence;
  desired_id_ = d->deployment_id;
  desired_kpi_ = d->kpi;
  ++accepted_;
  dirty_ = true;
  VQI_LOG_INFO("desired state {} (sequence {}, {} component(s)) queued", d->deployment_id,
               d->sequence, d->components.size());
  Publish(d->deployment_id, "QUEUED", "", components_(), std::nullopt);
  if (queued_) queued_();
}

void NetAgent::Tick() {
  std::deque<transport::MqttMessage> msgs;
  uint64_t overflow = 0;
  {
    std::lock_guard lock(mu_);
    msgs.swap(pending_);
    std::swap(overflow, overflow_);
  }
  for (uint64_t i = 0; i < overflow; ++i)
    Reject("queueFull",
           "more than " + std::to_string(kMaxPendingMessages) + " messages waiting for the engine");
  for (const auto& m : msgs) HandleDesired(m);
  const uint64_t oversized = client_->Stats().dropped_oversized;
  for (; oversized_seen_ < oversized; ++oversized_seen_)
    Reject("oversized", "a message above " + std::to_string(kMaxReceivedPayloadBytes) +
                            " bytes, dropped by the MQTT client");

  const double now = Supervisor::Now();
  const uint64_t connects = connects_;
  if (connects != connects_seen_) {
    connects_seen_ = connects;
    dirty_ = true;
    if (!last_report_.empty()) {  // the latest report again: the server drops a duplicate
      Status st = client_->Publish(topics::StatusTopic(o_.thing), last_report_, 1);
      if (!st.ok()) VQI_LOG_WARN("status report: {}", st.message());
    }
    next_heartbeat_ = now;
  }
  if (connected_ && now >= next_heartbeat_) {
    Heartbeat();
    next_heartbeat_ = now + o_.heartbeat_seconds;
  }
  if (kpi_.active() && now >= next_kpi_poll_) {
    next_kpi_poll_ = now + 0.5;
    std::string id;
    if (auto r = kpi_.Poll(now, &id); r && id == last_terminal_id_)
      Publish(id, last_terminal_status_, last_terminal_reason_, components_(), r);
  }
  if (dirty_) WriteNetState();
}

void NetAgent::WriteNetState() {
  dirty_ = false;
  Json doc = {{"thing", o_.thing},
              {"broker", o_.mqtt.host + ":" + std::to_string(o_.mqtt.port)},
              {"connected", connected_.load()},
              {"connects", connects_seen_},
              {"rejectedMessages", rejected_total_},
              {"rejected", rejected_},
              {"lastRejected", last_rejected_},
              {"duplicates", duplicates_},
              {"accepted", accepted_},
              {"desiredSequence", desired_sequence_},
              {"reportSequence", report_sequence_},
              {"reports", reports_},
              {"heartbeats", heartbeats_},
              {"at", NowRfc3339()}};
  (void)WriteFileReplace(NetPath(layout_), doc.dump(1));
}

}  // namespace vqi::agent
