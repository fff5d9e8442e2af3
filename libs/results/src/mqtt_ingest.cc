// MqttResultsIngest: AllResults() → bounded inbox → writer thread → ResultIngestor.
#include "vqi/results/mqtt_ingest.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

#include "vqi/base/log.h"
#include "vqi/fleet/identity.h"
#include "vqi/fleet/store.h"
#include "vqi/transport/mqtt_client.h"
#include "vqi/transport/topics.h"

namespace vqi::results {

namespace topics = transport::topics;

class MqttResultsIngest::Impl {
 public:
  Impl(MqttIngestOptions o, std::unique_ptr<ResultStore> store,
       std::unique_ptr<fleet::FleetStore> fleet, std::unique_ptr<transport::MqttClient> mqtt)
      : o_(std::move(o)),
        store_(std::move(store)),
        fleet_(std::move(fleet)),
        mqtt_(std::move(mqtt)) {
    IngestOptions io = o_.ingest;
    if (fleet_ && !io.known_thing)
      io.known_thing = [this](const std::string& t) { return Known(t); };
    ingestor_ = std::make_unique<ResultIngestor>(store_.get(), io);
  }
  ~Impl() { Stop(); }

  Status Start() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (started_) return FailedPrecondition("results ingest already started");
      started_ = true;
    }
    mqtt_->OnMessage([this](const transport::MqttMessage& m) { return Enqueue(m); });
    writer_ = std::thread([this] { WriterLoop(); });
    VQI_RETURN_IF_ERROR(mqtt_->Connect());
    // Registered now, subscribed on every (re)connect.
    Status st = mqtt_->Subscribe(topics::AllResults(), 1, 5000);
    if (!st.ok() && st.code() != StatusCode::kDeadlineExceeded) return st;
    return Status::Ok();
  }

  Status WaitReady(int timeout_ms) {
    VQI_RETURN_IF_ERROR(mqtt_->WaitConnected(timeout_ms));
    return mqtt_->Subscribe(topics::AllResults(), 1, timeout_ms);
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!started_ || stopped_) return;
      stopped_ = true;
    }
    (void)mqtt_->Disconnect(1000);
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (writer_.joinable()) writer_.join();
  }

  MqttIngestStats Stats() const {
    MqttIngestStats s;
    s.ingest = ingestor_->Stats();
    std::lock_guard<std::mutex> lock(mu_);
    s.received = received_;
    s.inbox_dropped = inbox_dropped_;
    s.connected = mqtt_->state() == transport::ConnectionState::kConnected;
    return s;
  }

 private:
  Status Enqueue(const transport::MqttMessage& m) {
    std::lock_guard<std::mutex> lock(mu_);
    ++received_;
    if (inbox_.size() >= o_.max_inbox || inbox_bytes_ + m.payload.size() > o_.max_inbox_bytes) {
      ++inbox_dropped_;
      return ResourceExhausted("results inbox full (" + std::to_string(inbox_.size()) +
                               " messages, " + std::to_string(inbox_bytes_) +
                               " bytes): dropped a message on " + m.topic);
    }
    inbox_bytes_ += m.payload.size();
    inbox_.push_back({m.topic, m.payload});
    cv_.notify_one();
    return Status::Ok();
  }

  void WriterLoop() {
    ingestor_->Tick();  // what a handler deferred before a restart (uploads-pending)
    for (;;) {
      std::vector<IngestMessage> batch;
      bool last = false;
      {
        std::unique_lock<std::mutex> lock(mu_);
        if (!cv_.wait_for(lock, std::chrono::seconds(2),
                          [this] { return stopping_ || !inbox_.empty(); })) {
          lock.unlock();
          ingestor_->Tick();  // idle: handlers retry what they deferred
          continue;
        }
        size_t bytes = 0;
        while (!inbox_.empty() && batch.size() < o_.max_batch &&
               (batch.empty() || bytes + inbox_.front().payload.size() <= o_.max_batch_bytes)) {
          bytes += inbox_.front().payload.size();
          inbox_bytes_ -= inbox_.front().payload.size();
          batch.push_back(std::move(inbox_.front()));
          inbox_.pop_front();
        }
        last = stopping_ && inbox_.empty();
      }
      if (!batch.empty()) WriteWithRetry(batch);
      if (last) return;
    }
  }

  void WriteWithRetry(const std::vector<IngestMessage>& batch) {
    Status st;
    for (int attempt = 0; attempt < 5; ++attempt) {
      st = ingestor_->IngestBatch(batch);
      if (st.ok()) return;
      VQI_LOG_WARN("results: storing {} results failed (attempt {}): {}", batch.size(), attempt + 1,
                   st.ToString());
      std::this_thread::sleep_for(std::chrono::milliseconds(100 << attempt));
    }
    ingestor_->CountStoreErrors(batch.size(), st.ToString());
  }

  // Writer thread only. A thing the fleet store knows and has not revoked; misses re-read the
  // store at most once a second (a thing created while the server runs is found).
  bool Known(const std::string& thing) {
    if (known_.count(thing)) return true;
    auto now = std::chrono::steady_clock::now();
    if (now - last_refresh_ < std::chrono::seconds(1) && refreshed_once_) return false;
    last_refresh_ = now;
    refreshed_once_ = true;
    auto things = fleet_->ListThings();
    if (!things.ok()) {
      VQI_LOG_WARN("results: reading the fleet store: {}", things.status().ToString());
      return true;  // do not refuse results because the fleet store is busy
    }
    known_.clear();
    for (const auto& t : *things)
      if (t.revoked.empty()) known_.insert(t.name);
    return known_.count(thing) > 0;
  }

  MqttIngestOptions o_;
  std::unique_ptr<ResultStore> store_;
  std::unique_ptr<fleet::FleetStore> fleet_;
  std::unique_ptr<transport::MqttClient> mqtt_;
  std::unique_ptr<ResultIngestor> ingestor_;
  std::thread writer_;
  std::set<std::string> known_;
  std::chrono::steady_clock::time_point last_refresh_{};
  bool refreshed_once_ = false;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<IngestMessage> inbox_;  // GUARDED_BY(mu_)
  size_t inbox_bytes_ = 0;           // GUARDED_BY(mu_): payload bytes in inbox_
  uint64_t received_ = 0, inbox_dropped_ = 0;
  bool started_ = false, stopped_ = false, stopping_ = false;
};

Result<std::unique_ptr<MqttResultsIngest>> MqttResultsIngest::Create(const MqttIngestOptions& o) {
  if (o.home.empty()) return InvalidArgument("results ingest: home is required");
  if (o.max_inbox < 1 || o.max_batch < 1)
    return InvalidArgument("results ingest: max_inbox and max_batch must be at least 1");
  if (o.max_inbox_bytes < (size_t{1} << 20))
    return InvalidArgument("results ingest: max_inbox_bytes must be at least 1048576");
  if (o.ingest.max_result_bytes < 256 || o.ingest.max_result_bytes > (1u << 20))
    return InvalidArgument("results ingest: max_result_bytes out of range [256, 1048576]");
  if (!(o.ingest.rate_per_second >= 0.1 && o.ingest.rate_per_second <= 100000) ||
      !(o.ingest.burst >= 1 && o.ingest.burst <= 1000000))
    return InvalidArgument(
        "results ingest: rate_per_second in [0.1, 100000] and burst in [1, 1000000]");
  fleet::IdentityFiles id{o.ca_file, o.cert_file, o.key_file};
  if (id.ca_file.empty() && id.cert_file.empty() && id.key_file.empty()) {
    VQI_ASSIGN_OR_RETURN(id,
                         fleet::EnsureClientIdentity(o.home, std::string(topics::kServerIdentity)));
  }
  ResultStoreOptions so;
  so.retention = o.retention;
  VQI_ASSIGN_OR_RETURN(auto store, OpenSqliteResultStore(ResultsDbPath(o.home), so));
  std::unique_ptr<fleet::FleetStore> fleet;
  if (!o.ingest.known_thing) {
    VQI_ASSIGN_OR_RETURN(fleet, fleet::OpenSqliteFleetStore(fleet::FleetDbPath(o.home)));
  }
  transport::MqttOptions mo;
  mo.host = o.mqtt_host;
  mo.port = o.mqtt_port;
  mo.client_id = o.client_id;
  mo.ca_file = id.ca_file;
  mo.cert_file = id.cert_file;
  mo.key_file = id.key_file;
  mo.reconnect_max_ms = 5000;
  mo.connect_timeout_ms = 5000;
  // Refusing oversized payloads is ours (counted per thing); the client's cap only protects memory.
  mo.max_payload_bytes = std::max<size_t>(o.ingest.max_result_bytes * 4, 1 << 20);
  VQI_ASSIGN_OR_RETURN(auto mqtt, transport::MqttClient::Create(mo));
  return std::unique_ptr<MqttResultsIngest>(new MqttResultsIngest(
      std::make_unique<Impl>(o, std::move(store), std::move(fleet), std::move(mqtt))));
}

MqttResultsIngest::MqttResultsIngest(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MqttResultsIngest::~MqttResultsIngest() { Stop(); }
Status MqttResultsIngest::Start() { return impl_->Start(); }
Status MqttResultsIngest::WaitReady(int timeout_ms) { return impl_->WaitReady(timeout_ms); }
void MqttResultsIngest::Stop() { impl_->Stop(); }
MqttIngestStats MqttResultsIngest::Stats() const { return impl_->Stats(); }

}  // namespace vqi::results
