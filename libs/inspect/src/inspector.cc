#include "vqi/inspect/inspector.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <string_view>

#include "vqi/base/file.h"
#include "vqi/base/hash.h"
#include "vqi/base/log.h"
#include "vqi/transport/topics.h"
#include "vqi/yolo/image.h"
#include "vqi/yolo/image_header.h"

namespace vqi::inspect {
namespace {

double MsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

std::string Stamp(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return "";
  return std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
         std::to_string(int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec);
}

// OpenCV (libjpeg) decodes a JPEG cut short with the missing rows gray and only a warning, so a
// half-written or damaged camera file would be inspected as if whole. A complete JPEG ends with
// the EOI marker, a complete PNG with its IEND chunk (cameras may pad after them a little).
Status CheckComplete(const std::string& format, const std::string& bytes, const std::string& path) {
  auto tail = [&](size_t n) {
    return std::string_view(bytes).substr(bytes.size() > n ? bytes.size() - n : 0);
  };
  if (format == "jpeg" && tail(4096).find("\xFF\xD9") == std::string_view::npos)
    return InvalidArgument(path +
                           ": truncated JPEG (no end-of-image marker in its last 4096 bytes)");
  if (format == "png" && tail(64).find("IEND") == std::string_view::npos)
    return InvalidArgument(path + ": truncated PNG (no IEND chunk at its end)");
  return Status::Ok();
}

bool SameModel(const InspectConfig& a, const InspectConfig& b) {
  return a.ModelPath() == b.ModelPath() && a.backend == b.backend && a.threads == b.threads &&
         a.precision == b.precision && a.drift.enabled == b.drift.enabled &&
         a.drift.stats_file == b.drift.stats_file && a.drift.window == b.drift.window &&
         a.drift.min_window == b.drift.min_window && a.drift.alpha == b.drift.alpha;
}

}  // namespace

Result<std::optional<InspectConfig>> FileConfigSource::Poll() {
  const std::string stamp = Stamp(path_);
  if (stamp.empty()) return NotFound(path_ + ": configuration file missing");
  if (stamp == last_stamp_) return std::optional<InspectConfig>();
  last_stamp_ = stamp;  // an invalid file is reported once, not on every poll
  VQI_ASSIGN_OR_RETURN(Json j, ReadJsonFile(path_));
  VQI_ASSIGN_OR_RETURN(InspectConfig c, ParseConfig(j, path_, env_thing_));
  return std::optional<InspectConfig>(std::move(c));
}

Result<std::unique_ptr<Inspector>> Inspector::Create(const InspectConfig& config, ResultSink& sink,
                                                     Clock& clock) {
  std::unique_ptr<Inspector> in(new Inspector(sink, clock));
  VQI_RETURN_IF_ERROR(in->OpenModel(config));
  in->config_ = config;
  in->ConfigureShadow(config);
  return in;
}

// The model file's stamp, and the shipped statistics' when drift uses <ModelDirectory>/stats.json
// (appearing, changing or vanishing with a model update reloads them with the model).
std::string Inspector::ModelStamp(const InspectConfig& c) const {
  std::string stamp = Stamp(c.ModelPath());
  if (!stamp.empty() && c.drift.enabled && c.drift.stats_file.empty())
    stamp += "|" + Stamp(c.model_directory + "/" + kModelStatsFile);
  return stamp;
}

Result<Inspector::Loaded> Inspector::LoadModel(const InspectConfig& c) const {
  Loaded m;
  m.stamp = ModelStamp(c);
  VQI_ASSIGN_OR_RETURN(m.detector,
                       infer::OnnxDetector::Open(c.ModelPath(), c.backend,
                                                 {c.threads, *infer::ParsePrecision(c.precision)}));
  if (const std::string stats_file = c.DriftStatsPath(); !stats_file.empty()) {
    VQI_ASSIGN_OR_RETURN(Json j, ReadJsonFile(stats_file));
    VQI_ASSIGN_OR_RETURN(TrainingStats stats, TrainingStats::FromJson(j, stats_file));
    m.drift = std::make_unique<DriftMonitor>(std::move(stats), c.drift.window, c.drift.min_window,
                                             c.drift.alpha);
  }
  return m;
}

void Inspector::UseModel(Loaded m) {
  detector_ = std::move(m.detector);
  drift_ = std::move(m.drift);
  model_stamp_ = std::move(m.stamp);
  failed_model_stamp_.clear();
}

Status Inspector::OpenModel(const InspectConfig& c) {
  // Only with everything opened does the new model replace the old one.
  VQI_ASSIGN_OR_RETURN(Loaded m, LoadModel(c));
  UseModel(std::move(m));
  return Status::Ok();
}

InspectResult Inspector::InspectFile(const std::string& name, double queue_ms) {
  const auto t0 = std::chrono::steady_clock::now();
  const InspectConfig& c = config_;
  InspectResult r;
  r.thing = c.thing_name;
  r.component = c.component_name;
  r.topic = c.Topic();
  r.model_name = c.model_name;
  r.model_version = c.model_version;
  r.model_file = c.model_file;
  r.backend = detector_->Backend().Name();
  r.image_name = name;
  r.score_threshold = c.score_threshold;
  r.class_names = detector_->ClassNames();
  r.timings.queue_ms = queue_ms;
  auto fail = [&](Status s) -> InspectResult& {
    r.verdict = Verdict::kError;
    r.error = std::move(s);
    r.timings.total_ms = MsSince(t0);
    r.timestamp_ms = clock_.NowMs();
    return r;
  };
  const std::string path = c.image_directory + "/" + name;
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && st.st_size > c.max_image_bytes)
    return fail(ResourceExhausted(path + ": " + std::to_string(st.st_size) +
                                  " bytes; MaxImageBytes is " + std::to_string(c.max_image_bytes) +
                                  " (docs/limits.md), not read"));
  auto bytes = ReadFile(path, static_cast<uint64_t>(c.max_image_bytes));
  r.timings.read_ms = MsSince(t0);
  if (!bytes.ok()) return fail(bytes.status());
  r.bytes = static_cast<int64_t>(bytes->size());
  r.image_id = Sha256Hex(*bytes);
  const auto t_decode = std::chrono::steady_clock::now();
  const std::string format = yolo::SniffImageFormat(*bytes);
  if (!format.empty()) {
    auto dims = yolo::ReadHeaderDims(format, *bytes);
    if (dims.ok()) {
      r.width = static_cast<int>(std::min<int64_t>(dims->width, INT32_MAX));
      r.height = static_cast<int>(std::min<int64_t>(dims->height, INT32_MAX));
      if (dims->width > 0 && dims->height > 0 && dims->width > c.max_image_pixels / dims->height)
        return fail(ResourceExhausted(
            path + ": " + format + " header claims " + std::to_string(dims->width) + "x" +
            std::to_string(dims->height) + " pixels; MaxImagePixels is " +
            std::to_string(c.max_image_pixels) + " (docs/limits.md), refused before decoding"));
    }
  }
  if (Status s = CheckComplete(format, *bytes, path); !s.ok()) return fail(s);
  // A JPEG is decoded DCT-reduced toward the model input (never below its letterboxed size);
  // at full size when a shadow candidate with another input size shares the decoded image, and
  // when the drift monitor runs: its training statistics (`vqi inspect stats`, from-model's
  // stats.json) describe full-size decodes, and a reduced decode lowers the contrast feature
  // enough to raise a false alert (drift_component_metal_test).
  yolo::DecodeOptions hint = detector_->DecodeHint();
  if (drift_ || (shadow_ && (shadow_->detector().InputWidth() != detector_->InputWidth() ||
                             shadow_->detector().InputHeight() != detector_->InputHeight())))
    hint = {};
  auto image = yolo::DecodeImageBytes(*bytes, path, hint);
  r.timings.decode_ms = MsSince(t_decode);
  if (!image.ok()) return fail(image.status());
  r.width = image->source_width;
  r.height = image->source_height;
  FeatureRow features = ImageFeatures(image->View());
  features.v[kWidth] = image->source_width;  // the file's size, not the decoded one
  features.v[kHeight] = image->source_height;
  eval::DetectOptions opts;
  opts.conf_threshold = std::min(c.score_threshold, c.uncertain_lo);
  auto dets = detector_->DetectDecoded(*image, path, opts);
  const infer::StageTimes& times = detector_->LastTimes();
  r.timings.pre_ms = times.pre_ms;
  r.timings.model_ms = times.model_ms;
  r.timings.post_ms = times.post_ms;
  if (!dets.ok()) return fail(dets.status());
  for (const eval::Detection& d : *dets) {
    r.best_score = std::max(r.best_score, d.score);
    if (d.score >= c.score_threshold) r.detections.push_back(d);
  }
  r.verdict = r.detections.empty() ? Verdict::kPass : Verdict::kFail;
  r.uncertain = r.best_score >= c.uncertain_lo && r.best_score <= c.uncertain_hi;
  if (shadow_ && shadow_->Sample())
    r.shadow = shadow_->Run(*image, path, r.detections, r.best_score, r.timings.model_ms,
                            c.score_threshold, opts);
  if (drift_) {
    features.v[kBestScore] = r.best_score;
    features.v[kBoxCount] = static_cast<double>(r.detections.size());
    features.has_outputs = true;
    r.drift = drift_->Add(features);
  }
  r.timings.total_ms = MsSince(t0);
  r.timestamp_ms = clock_.NowMs();
  return r;
}

Result<Inspector::Folder> Inspector::LoadFolder(const InspectConfig& c) {
  Folder f;
  VQI_RETURN_IF_ERROR(MakeDirs(c.work_directory));
  VQI_ASSIGN_OR_RETURN(f.journal, ProcessedJournal::Open(c.work_directory + "/processed.journal",
                                                         c.image_directory));
  VQI_ASSIGN_OR_RETURN(f.watcher,
                       DirectoryWatcher::Open(c.image_directory, c.settle_seconds, clock_));
  return f;
}

Status Inspector::Reload(const InspectConfig& next) {
  // Everything new is opened first; only when all of it opened does it replace the running
  // model, folder and configuration together (a failure changes nothing).
  std::optional<Loaded> model;
  if (!SameModel(config_, next)) {
    VQI_ASSIGN_OR_RETURN(Loaded m, LoadModel(next));
    model.emplace(std::move(m));
  }
  std::optional<Folder> folder;
  if (watcher_ && (next.image_directory != config_.image_directory ||
                   next.work_directory != config_.work_directory ||
                   next.settle_seconds != config_.settle_seconds)) {
    VQI_ASSIGN_OR_RETURN(Folder f, LoadFolder(next));
    folder.emplace(std::move(f));
  }
  if (next.shadow != config_.shadow) ConfigureShadow(next);
  if (model) UseModel(std::move(*model));
  if (folder) {
    journal_ = std::move(folder->journal);
    watcher_ = std::move(folder->watcher);
  }
  config_ = next;
  ++counters_.reloads;
  return Status::Ok();
}

void Inspector::MaybeReloadModel() {
  const std::string stamp = ModelStamp(config_);
  if (stamp.empty() || stamp == model_stamp_ || stamp == failed_model_stamp_) return;
  Status s = OpenModel(config_);
  if (s.ok()) {
    ++counters_.reloads;
    VQI_LOG_INFO("model {} changed: reloaded", config_.ModelPath());
  } else {
    failed_model_stamp_ = stamp;
    VQI_LOG_ERROR("model {} changed but does not open, keeping the previous one: {}",
                  config_.ModelPath(), s.ToString());
  }
}

Status Inspector::PublishAndCommit(const InspectResult& result, const FileKey& key,
                                   const std::atomic<bool>& stop) {
  const auto t0 = std::chrono::steady_clock::now();
  const OrderedJson json = result.ToJson();
  const std::string id = result.Id();
  const std::string path = config_.image_directory + "/" + key.name;
  auto with_retry = [&](const std::function<Status()>& op, const char* what) -> Status {
    int64_t backoff_ms = 100;
    while (true) {
      Status s = op();
      if (s.ok()) return s;
      // A refused grant, a bad request or a wrong setup does not heal by waiting: fatal (the
      // image stays unjournaled and is inspected again after the fix). Everything else —
      // Unavailable (agent/broker/file), ResourceExhausted (the agent's spool is full) — is
      // retried with backoff.
      if (s.code() == StatusCode::kPermissionDenied || s.code() == StatusCode::kInvalidArgument ||
          s.code() == StatusCode::kFailedPrecondition)
        return s;
      ++counters_.publish_retries;
      VQI_LOG_WARN("{} of {} failed, retrying in {} ms: {}", what, key.name, backoff_ms,
                   s.ToString());
      if (!clock_.SleepUntil(clock_.NowMs() + backoff_ms, &stop))
        return Cancelled("stopped before " + key.name + " was published");
      backoff_ms = std::min<int64_t>(backoff_ms * 2, 5000);
    }
  };
  VQI_RETURN_IF_ERROR(
      with_retry([&] { return sink_.Publish(result.topic, id, json); }, "publishing the result"));
  if (std::optional<DriftAlertMessage> alert = drift_alerts_.Update(result)) {
    Status s = with_retry([&] { return sink_.Publish(alert->topic, alert->id, alert->message); },
                          "publishing the drift alert");
    // A refused alert (a recipe granting the results topic but not .../drift) must not stop the
    // inspection: the results still carry the drift report. Logged, not retried.
    if (s.code() == StatusCode::kPermissionDenied || s.code() == StatusCode::kInvalidArgument ||
        s.code() == StatusCode::kFailedPrecondition)
      VQI_LOG_ERROR("drift alert on {} not published (the results still carry it): {}",
                    alert->topic, s.ToString());
    else
      VQI_RETURN_IF_ERROR(s);
  }
  if (result.uncertain && result.verdict != Verdict::kError)
    VQI_RETURN_IF_ERROR(with_retry([&] { return sink_.Upload(path, json); }, "uploading"));
  VQI_RETURN_IF_ERROR(journal_->Commit(key));
  if (shadow_ && shadow_->Due()) {
    if (Status s = PublishShadow(false); !s.ok())
      VQI_LOG_WARN("shadow statistics not published (next time): {}", s.ToString());
  }
  counters_.deliver_ms += MsSince(t0);
  ++counters_.images;
  if (result.verdict == Verdict::kError) ++counters_.errors;
  if (on_result_) on_result_(result);
  return Status::Ok();
}

Status Inspector::Run(const std::atomic<bool>& stop, ConfigSource* config_source,
                      int64_t max_images) {
  if (!watcher_) {
    VQI_ASSIGN_OR_RETURN(Folder f, LoadFolder(config_));
    journal_ = std::move(f.journal);
    watcher_ = std::move(f.watcher);
  }
  int64_t next_due_ms = 0;
  const int64_t start_images = counters_.images;
  while (!stop.load()) {
    if (config_source) {
      auto polled = config_source->Poll();
      if (!polled.ok()) {
        VQI_LOG_ERROR("configuration not reloaded: {}", polled.status().ToString());
      } else if (polled->has_value()) {
        Status s = Reload(**polled);
        if (s.ok())
          VQI_LOG_INFO("configuration reloaded");
        else
          VQI_LOG_ERROR("configuration not reloaded, keeping the running one: {}", s.ToString());
      }
    }
    MaybeReloadModel();
    VQI_ASSIGN_OR_RETURN(std::optional<std::string> name, watcher_->Next(200, &stop));
    if (!name) continue;
    auto key = StatKey(config_.image_directory, *name);
    if (!key.ok()) {
      if (key.status().code() == StatusCode::kNotFound) {
        VQI_LOG_WARN("{} vanished before it was inspected", *name);
      }
      continue;  // gone, or not a regular file: nothing to inspect, nothing to commit
    }
    if (journal_->Contains(*key)) {
      ++counters_.skipped;
      continue;
    }
    if (config_.mode == Mode::kInterval) {
      if (next_due_ms > 0 && !clock_.SleepUntil(next_due_ms, &stop)) break;
      next_due_ms = clock_.NowMs() + static_cast<int64_t>(config_.inference_interval * 1000);
    }
    const double queue_ms =
        static_cast<double>(std::max<int64_t>(0, clock_.NowMs() - watcher_->LastReadyMs()));
    InspectResult result = InspectFile(*name, queue_ms);
    Status s = PublishAndCommit(result, *key, stop);
    if (s.code() == StatusCode::kCancelled) break;
    VQI_RETURN_IF_ERROR(s);
    if (max_images > 0 && counters_.images - start_images >= max_images) break;
  }
  if (shadow_ && shadow_->HasUnreported()) {
    if (Status s = PublishShadow(true); !s.ok())
      VQI_LOG_WARN("shadow statistics not published at stop: {}", s.ToString());
  }
  return Status::Ok();
}

void Inspector::ConfigureShadow(const InspectConfig& c) {
  if (shadow_ && shadow_->HasUnreported()) {  // the old candidate's last numbers
    if (Status s = PublishShadow(true); !s.ok())
      VQI_LOG_WARN("shadow statistics not published before the change: {}", s.ToString());
  }
  shadow_.reset();
  if (!c.shadow.enabled()) return;
  auto runner = ShadowRunner::Open(c);
  if (!runner.ok()) {
    VQI_LOG_ERROR("shadow model {}/{} not used (live inspection goes on): {}",
                  c.shadow.model_directory, c.shadow.model_file, runner.status().ToString());
    return;
  }
  shadow_ = std::move(*runner);
  VQI_LOG_INFO("shadow model {} {} runs beside {} {}, statistics every {} images",
               c.shadow.model_name, c.shadow.model_version, c.model_name, c.model_version,
               c.shadow.report_every);
}

Status Inspector::PublishShadow(bool force) {
  if (!shadow_ || (!force && !shadow_->Due())) return Status::Ok();
  const InspectConfig& c = config_;
  const std::string thing = c.thing_name.empty() ? "unknown" : c.thing_name;
  const OrderedJson msg = shadow_->Report(thing, c.component_name, c.model_name, c.model_version,
                                          FormatTimestampMs(clock_.NowMs()));
  const std::string id = thing + ":shadow:" + shadow_->config().model_version + ":" +
                         std::to_string(shadow_->accumulator().images());
  VQI_RETURN_IF_ERROR(
      sink_.Publish(transport::topics::ShadowTopic(thing, c.component_name), id, msg));
  shadow_->Reported();
  ++counters_.shadow_reports;
  return Status::Ok();
}

}  // namespace vqi::inspect
