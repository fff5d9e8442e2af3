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
         a.batch == b.batch && a.precision == b.precision && a.drift.enabled == b.drift.enabled &&
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
  infer::BackendOptions o{c.threads, *infer::ParsePrecision(c.precision)};
  o.batch = c.batch;
  VQI_ASSIGN_OR_RETURN(m.detector, infer::OnnxDetector::Open(c.ModelPath(), c.backend, o));
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

Inspector::Staged Inspector::Begin(const std::string& name, double queue_ms) {
  Staged st;
  st.t0 = std::chrono::steady_clock::now();
  const InspectConfig& c = config_;
  InspectResult& r = st.r;
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
  auto fail = [&](Status s) -> Staged& {
    Fail(st, std::move(s));
    return st;
  };
  st.path = c.image_directory + "/" + name;
  const std::string& path = st.path;
  struct stat sb;
  if (::stat(path.c_str(), &sb) == 0 && sb.st_size > c.max_image_bytes)
    return fail(ResourceExhausted(path + ": " + std::to_string(sb.st_size) +
                                  " bytes; MaxImageBytes is " + std::to_string(c.max_image_bytes) +
                                  " (docs/limits.md), not read"));
  auto bytes = ReadFile(path, static_cast<uint64_t>(c.max_image_bytes));
  r.timings.read_ms = MsSince(st.t0);
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
  st.features = ImageFeatures(image->View());
  st.features.v[kWidth] = image->source_width;  // the file's size, not the decoded one
  st.features.v[kHeight] = image->source_height;
  st.image = std::move(image).value();
  st.opts.conf_threshold = std::min(c.score_threshold, c.uncertain_lo);
  return st;
}

void Inspector::Fail(Staged& st, Status s) {
  st.r.verdict = Verdict::kError;
  st.r.error = std::move(s);
  st.r.timings.total_ms = MsSince(st.t0);
  st.r.timestamp_ms = clock_.NowMs();
  st.image.reset();
}

void Inspector::Finish(Staged& st, Result<std::vector<eval::Detection>> dets,
                       const infer::StageTimes& times) {
  const InspectConfig& c = config_;
  InspectResult& r = st.r;
  r.timings.pre_ms = times.pre_ms;
  r.timings.model_ms = times.model_ms;
  r.timings.post_ms = times.post_ms;
  if (!dets.ok()) return Fail(st, dets.status());
  for (const eval::Detection& d : *dets) {
    r.best_score = std::max(r.best_score, d.score);
    if (d.score >= c.score_threshold) r.detections.push_back(d);
  }
  r.verdict = r.detections.empty() ? Verdict::kPass : Verdict::kFail;
  r.uncertain = r.best_score >= c.uncertain_lo && r.best_score <= c.uncertain_hi;
  if (shadow_ && shadow_->Sample())
    r.shadow = shadow_->Run(*st.image, st.path, r.detections, r.best_score, r.timings.model_ms,
                            c.score_threshold, st.opts);
  if (drift_) {
    st.features.v[kBestScore] = r.best_score;
    st.features.v[kBoxCount] = static_cast<double>(r.detections.size());
    st.features.has_outputs = true;
    r.drift = drift_->Add(st.features);
  }
  r.timings.total_ms = MsSince(st.t0);
  r.timestamp_ms = clock_.NowMs();
  st.image.reset();
}

InspectCounters Inspector::counters() const {
  InspectCounters c;
  c.images = counters_.images.load();
  c.errors = counters_.errors.load();
  c.skipped = counters_.skipped.load();
  c.reloads = counters_.reloads.load();
  c.publish_retries = counters_.publish_retries.load();
  c.shadow_reports = counters_.shadow_reports.load();
  c.batch_runs = counters_.batch_runs.load();
  c.deliver_ms = counters_.deliver_ms.load();
  return c;
}

InspectResult Inspector::InspectFile(const std::string& name, double queue_ms) {
  Staged st = Begin(name, queue_ms);
  if (st.image) {
    auto dets = detector_->DetectDecoded(*st.image, st.path, st.opts);
    Finish(st, std::move(dets), detector_->LastTimes());
  }
  return std::move(st.r);
}

std::vector<InspectResult> Inspector::InspectFiles(const std::vector<std::string>& names,
                                                   const std::vector<double>& queue_ms) {
  std::vector<Staged> staged;
  staged.reserve(names.size());
  for (size_t i = 0; i < names.size(); ++i) staged.push_back(Begin(names[i], queue_ms[i]));
  // The decoded ones go through the model together (DetectBatch: one run for a full batch).
  std::vector<const yolo::Image*> images;
  std::vector<std::string> paths;
  std::vector<size_t> which;
  for (size_t i = 0; i < staged.size(); ++i)
    if (staged[i].image) {
      images.push_back(&*staged[i].image);
      paths.push_back(staged[i].path);
      which.push_back(i);
    }
  if (!images.empty()) {
    // Every image of a batch is decoded with the same options, so they share one threshold.
    auto dets = detector_->DetectBatch(images, paths, staged[which[0]].opts);
    if (detector_->Batch() > 1 && images.size() == static_cast<size_t>(detector_->Batch()))
      ++counters_.batch_runs;
    const std::vector<infer::StageTimes> times = detector_->LastBatchTimes();
    for (size_t j = 0; j < which.size(); ++j)
      Finish(staged[which[j]], std::move(dets[j]), times[j]);
  }
  std::vector<InspectResult> results;
  for (Staged& st : staged) results.push_back(std::move(st.r));
  return results;
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
  counters_.deliver_ms.fetch_add(MsSince(t0), std::memory_order_relaxed);
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
    auto queued_ms = [&] {
      return static_cast<double>(std::max<int64_t>(0, clock_.NowMs() - watcher_->LastReadyMs()));
    };
    std::vector<std::string> names = {*name};
    std::vector<FileKey> keys = {*key};
    std::vector<double> queue = {queued_ms()};
    // Throughput mode: the files already waiting join this one (never waits for more).
    int64_t room = config_.batch;
    if (max_images > 0) room = std::min(room, max_images - (counters_.images - start_images));
    while (config_.mode == Mode::kWatch && static_cast<int64_t>(names.size()) < room &&
           watcher_->Backlog() > 0) {
      VQI_ASSIGN_OR_RETURN(std::optional<std::string> more, watcher_->Next(0, &stop));
      if (!more) break;
      auto more_key = StatKey(config_.image_directory, *more);
      if (!more_key.ok()) {
        if (more_key.status().code() == StatusCode::kNotFound)
          VQI_LOG_WARN("{} vanished before it was inspected", *more);
        continue;
      }
      if (journal_->Contains(*more_key)) {
        ++counters_.skipped;
        continue;
      }
      names.push_back(*more);
      keys.push_back(*more_key);
      queue.push_back(queued_ms());
    }
    std::vector<InspectResult> results;
    if (names.size() == 1)
      results.push_back(InspectFile(names[0], queue[0]));
    else
      results = InspectFiles(names, queue);
    Status s;
    for (size_t i = 0; i < results.size() && s.ok(); ++i)
      s = PublishAndCommit(results[i], keys[i], stop);
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
