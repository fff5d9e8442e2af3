// The inspection use case: a camera folder, a model, a sink. Inspects every complete image file
// exactly once (ProcessedJournal in WorkDirectory), one result per file — a file that cannot be
// inspected (not an image, truncated, too large) gives a `verdict: error` result and the loop
// goes on. Reloads the model when its file changes and the whole configuration when the
// ConfigSource reports a new one, between two images, so no image is lost or repeated.
// docs/design/inspect.md.
//
// Thread-compatible: one thread runs an Inspector; `stop` may be set from any thread or a
// signal handler.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vqi/base/clock.h"
#include "vqi/base/status.h"
#include "vqi/infer/detector.h"
#include "vqi/inspect/config.h"
#include "vqi/inspect/drift.h"
#include "vqi/inspect/drift_alert.h"
#include "vqi/inspect/journal.h"
#include "vqi/inspect/result.h"
#include "vqi/inspect/shadow.h"
#include "vqi/inspect/sink.h"
#include "vqi/inspect/watcher.h"

namespace vqi::inspect {

// Where the configuration comes from: a file (FileConfigSource), or the agent's IPC
// (IpcConfigSource in ipc.h: GetConfiguration + configurationUpdate events).
class ConfigSource {
 public:
  virtual ~ConfigSource() = default;
  // A configuration different from the last one returned, or nullopt when unchanged. An error
  // (unreadable, invalid) leaves the running configuration in place; the caller logs it.
  virtual Result<std::optional<InspectConfig>> Poll() = 0;
};

// A JSON file, re-read when its inode, size or mtime changes.
class FileConfigSource : public ConfigSource {
 public:
  FileConfigSource(std::string path, std::string env_thing)
      : path_(std::move(path)), env_thing_(std::move(env_thing)) {}
  Result<std::optional<InspectConfig>> Poll() override;

 private:
  std::string path_, env_thing_;
  std::string last_stamp_;
};

struct InspectCounters {
  int64_t images = 0;   // results published
  int64_t errors = 0;   // of which verdict error
  int64_t skipped = 0;  // already in the journal
  int64_t reloads = 0;  // model or configuration reloads that took effect
  int64_t publish_retries = 0;
  int64_t shadow_reports = 0;  // vqi.inspect.shadow/1 messages published
  int64_t batch_runs = 0;      // model runs of Batch images at once (throughput mode)
  double deliver_ms = 0;       // summed: publish (and upload) + journal commit, after each result
};

class Inspector {
 public:
  // Opens the model (fatal errors: the model missing or not a detector, a bad drift statistics
  // file). The sink must outlive the Inspector.
  static Result<std::unique_ptr<Inspector>> Create(const InspectConfig& config, ResultSink& sink,
                                                   Clock& clock = RealClock());

  // Inspects dir/name once and returns its result (never fails: problems are error results).
  // Does not publish or journal. `queue_ms` is recorded as the time it waited.
  InspectResult InspectFile(const std::string& name, double queue_ms = 0);
  // The same for several files at once (Batch > 1: the decoded ones share one model run when
  // they fill the batch); one result per name, in order, each as InspectFile would give it.
  std::vector<InspectResult> InspectFiles(const std::vector<std::string>& names,
                                          const std::vector<double>& queue_ms);

  // Runs until `stop` is set: watches (or polls at the interval) the folder, inspects, publishes,
  // commits. `config_source` (may be null) is polled between images. `max_images` > 0 stops
  // after that many results (tests, benchmarks). Returns the first fatal error (the folder
  // vanished, the journal cannot be written).
  Status Run(const std::atomic<bool>& stop, ConfigSource* config_source = nullptr,
             int64_t max_images = 0);

  // Applies a new configuration now: a new model is opened first and replaces the old one only
  // when it opened. The watcher restarts when ImageDirectory or WorkDirectory changed.
  Status Reload(const InspectConfig& config);

  const InspectConfig& config() const { return config_; }
  // A snapshot, safe to take from another thread while Run() goes on.
  InspectCounters counters() const;
  // Called after each published result (e.g. to print a summary line).
  void OnResult(std::function<void(const InspectResult&)> f) { on_result_ = std::move(f); }

 private:
  struct Loaded {  // a model opened, not yet in use
    std::unique_ptr<infer::OnnxDetector> detector;
    std::unique_ptr<DriftMonitor> drift;
    std::string stamp;
  };
  struct Folder {  // a camera folder opened, not yet in use
    std::unique_ptr<ProcessedJournal> journal;
    std::unique_ptr<DirectoryWatcher> watcher;
  };
  // One file between decode and model: its result so far and its decoded image (empty once
  // it failed; the result then says why).
  struct Staged {
    InspectResult r;
    std::optional<yolo::Image> image;
    FeatureRow features;
    std::string path;
    eval::DetectOptions opts;
    std::chrono::steady_clock::time_point t0;
  };
  Inspector(ResultSink& sink, Clock& clock) : sink_(sink), clock_(clock) {}
  Staged Begin(const std::string& name, double queue_ms);  // read, checks, decode, features
  void Finish(Staged& st, Result<std::vector<eval::Detection>> dets,
              const infer::StageTimes& times);  // verdict, shadow, drift
  void Fail(Staged& st, Status s);
  Result<Loaded> LoadModel(const InspectConfig& config) const;
  void UseModel(Loaded model);
  Status OpenModel(const InspectConfig& config);
  Result<Folder> LoadFolder(const InspectConfig& config);
  Status PublishAndCommit(const InspectResult& result, const FileKey& key,
                          const std::atomic<bool>& stop);
  void MaybeReloadModel();
  std::string ModelStamp(const InspectConfig& config) const;
  // Shadow (docs/design/shadow.md): opens the candidate of `config` (a failure only logs: live
  // inspection goes on without it), and publishes its statistics (`force`: also before the
  // ReportEvery images, at stop and before the candidate is replaced).
  void ConfigureShadow(const InspectConfig& config);
  Status PublishShadow(bool force);

  ResultSink& sink_;
  Clock& clock_;
  InspectConfig config_;
  std::unique_ptr<infer::OnnxDetector> detector_;
  std::string model_stamp_, failed_model_stamp_;
  std::unique_ptr<DriftMonitor> drift_;
  DriftAlertTracker drift_alerts_;  // survives model reloads
  std::unique_ptr<ShadowRunner> shadow_;
  std::unique_ptr<ProcessedJournal> journal_;
  std::unique_ptr<DirectoryWatcher> watcher_;
  // Written by the inspecting thread only, read by counters() from any thread.
  struct Counters {
    std::atomic<int64_t> images{0}, errors{0}, skipped{0}, reloads{0}, publish_retries{0},
        shadow_reports{0}, batch_runs{0};
    std::atomic<double> deliver_ms{0};
  } counters_;
  std::function<void(const InspectResult&)> on_result_;
};

}  // namespace vqi::inspect
