// UploadIngestor: uploads → the dataset's unlabelled pool with their origin.
#include "vqi/results/upload_ingest.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <thread>

#include "vqi/base/file.h"
#include "vqi/base/log.h"
#include "vqi/dataset/image.h"
#include "vqi/dataset/store.h"
#include "vqi/dataset/text.h"
#include "vqi/transport/topics.h"

namespace vqi::results {
namespace {

// A dataset locked by another process (`vqi dataset import` holds the write lock for the whole
// import) must not stall the results behind the uploads: wait briefly, retry a few times, then
// count the batch's uploads as errors.
constexpr int kUploadBusyTimeoutMs = 250;

std::string FormatTimeMs(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms % 1000));
  return out;
}

Status CheckUtf8(const ParsedUpload& u) {
  for (const auto& [field, text] :
       std::initializer_list<std::pair<const char*, const std::string*>>{
           {"name", &u.name},
           {"vqiMessageId", &u.message_id},
           {"metadata model name", &u.model_name},
           {"metadata model version", &u.model_version},
           {"metadata result id", &u.result_id},
           {"metadata image name", &u.image_name}})
    if (!dataset::IsValidUtf8(*text))
      return InvalidArgument(std::string(field) + ": '" + dataset::EscapeNonUtf8(*text) +
                             "' is not valid UTF-8");
  return Status::Ok();
}

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// After the dataset failed: new uploads go straight to pending for this long, and pending is
// retried at most this often (results must not wait on a locked dataset batch after batch).
constexpr int64_t kBusyBackoffMs = 2000;
// One retry of the pending folder: files per transaction, and the time spent in all.
constexpr size_t kPendingChunkFiles = 50;
constexpr int64_t kPendingChunkBytes = int64_t{4} << 20;
constexpr int64_t kPendingRetryBudgetMs = 1000;

constexpr std::string_view kPendingMagic = "vqi.upload.pending/1\n";
constexpr std::string_view kPendingSuffix = ".upload";

// A pending file: the magic, the topic, the receive time, then the payload as received.
std::string EncodePending(const SubKindMessage& m) {
  std::string out(kPendingMagic);
  out += m.topic + "\n" + std::to_string(m.received_ms) + "\n";
  out += m.payload;
  return out;
}

Result<SubKindMessage> DecodePending(const std::string& file, const std::string& text) {
  if (text.compare(0, kPendingMagic.size(), kPendingMagic) != 0)
    return InvalidArgument("pending upload " + file + ": not a vqi.upload.pending/1 file");
  size_t a = kPendingMagic.size();
  size_t b = text.find('\n', a);
  size_t c = b == std::string::npos ? b : text.find('\n', b + 1);
  if (c == std::string::npos)
    return InvalidArgument("pending upload " + file + ": truncated header");
  SubKindMessage m;
  m.topic = text.substr(a, b - a);
  try {
    m.received_ms = std::stoll(text.substr(b + 1, c - b - 1));
  } catch (...) {
    return InvalidArgument("pending upload " + file + ": bad receive time");
  }
  auto t = transport::topics::Parse(m.topic);
  if (!t.ok() || t->sub != transport::topics::kUploadSub)
    return InvalidArgument("pending upload " + file + ": not an upload topic: " + m.topic);
  m.thing = t->thing;
  m.component = t->component;
  m.sub = std::string(transport::topics::kUploadSub);
  m.payload = text.substr(c + 1);
  return m;
}

}  // namespace

// An upload that passed every check, ready for the store.
struct UploadIngestor::Checked {
  size_t index;  // in the batch
  std::string topic;
  ParsedUpload upload;
  dataset::ImageInfo info;
  int64_t received_ms;
};

namespace {

// The checks of an upload message (ParseUploadMessage, UTF-8, an image); the refusal otherwise.
Result<UploadIngestor::Checked> CheckUpload(const SubKindMessage& m, size_t index,
                                            size_t max_file_bytes) {
  auto u = ParseUploadMessage(m.topic, m.payload, max_file_bytes);
  if (!u.ok()) return u.status();
  const std::string where = "upload on " + m.topic + ": ";
  if (Status st = CheckUtf8(*u); !st.ok()) return Status(st.code(), where + st.message());
  auto info = dataset::ProbeImage(u->bytes);
  if (!info.ok())
    // Not an image (or too many pixels): the pool only holds images.
    return InvalidArgument(where + "dataBase64: " + u->name +
                           " is not a usable image: " + info.status().message());
  return UploadIngestor::Checked{index, m.topic, std::move(*u), *info, m.received_ms};
}

}  // namespace

Result<std::shared_ptr<UploadIngestor>> UploadIngestor::Open(const UploadIngestOptions& o) {
  if (o.home.empty()) return InvalidArgument("uploads: home is required");
  if (o.max_file_bytes < 1024 || o.max_file_bytes > kDefaultMaxUploadBytes)
    return InvalidArgument("uploads: max_file_bytes out of range [1024, " +
                           std::to_string(kDefaultMaxUploadBytes) + "]");
  if (o.max_pool_images < 1 || o.max_pool_images > 100000000)
    return InvalidArgument("uploads: max_pool_images out of range [1, 100000000]");
  if (o.max_pool_images_per_thing < 1 || o.max_pool_images_per_thing > 100000000)
    return InvalidArgument("uploads: max_pool_images_per_thing out of range [1, 100000000]");
  if (o.max_pending_files < 1 || o.max_pending_files > 1000000)
    return InvalidArgument("uploads: max_pending_files out of range [1, 1000000]");
  if (o.max_pending_bytes < (int64_t{1} << 20) || o.max_pending_bytes > (int64_t{1} << 40))
    return InvalidArgument("uploads: max_pending_bytes out of range [1048576, 1099511627776]");
  VQI_ASSIGN_OR_RETURN(
      auto store, dataset::Store::Open(o.home, o.dataset, /*create=*/true, kUploadBusyTimeoutMs));
  UploadIngestOptions opts = o;
  if (opts.pending_dir.empty()) opts.pending_dir = o.home + "/results/uploads-pending";
  VQI_RETURN_IF_ERROR(MakeDirs(opts.pending_dir));
  auto ingestor = std::shared_ptr<UploadIngestor>(new UploadIngestor(opts, std::move(store)));
  ingestor->ScanPending();
  return ingestor;
}

void UploadIngestor::ScanPending() {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(o_.pending_dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.find(".tmp-") != std::string::npos) {
      // An interrupted WritePending (the rename never happened): never answered kDeferred.
      std::filesystem::remove(e.path(), ec);
      continue;
    }
    if (name.size() <= kPendingSuffix.size() ||
        name.compare(name.size() - kPendingSuffix.size(), kPendingSuffix.size(), kPendingSuffix) !=
            0)
      continue;
    std::error_code sec;
    const auto size = e.file_size(sec);
    pending_[name] = sec ? 0 : static_cast<int64_t>(size);
  }
  if (!pending_.empty())
    VQI_LOG_INFO("uploads: {} pending uploads in {} (stored when dataset {} can be written)",
                 pending_.size(), o_.pending_dir, o_.dataset);
  std::lock_guard<std::mutex> lock(mu_);
  stats_.pending_files = static_cast<int64_t>(pending_.size());
  stats_.pending_bytes = 0;
  for (const auto& [n, b] : pending_) stats_.pending_bytes += b;
}

Status UploadIngestor::WritePending(const SubKindMessage& m) {
  int64_t bytes = 0;
  for (const auto& [n, b] : pending_) bytes += b;
  const std::string text = EncodePending(m);
  if (static_cast<int64_t>(pending_.size()) >= o_.max_pending_files ||
      bytes + static_cast<int64_t>(text.size()) > o_.max_pending_bytes)
    return ResourceExhausted("the pending uploads folder " + o_.pending_dir + " is full (" +
                             std::to_string(pending_.size()) + " files, " + std::to_string(bytes) +
                             " bytes; limits " + std::to_string(o_.max_pending_files) + " files, " +
                             std::to_string(o_.max_pending_bytes) + " bytes)");
  char name[64];
  std::string file;
  do {
    std::snprintf(name, sizeof name, "%013lld-%08llu%s", static_cast<long long>(m.received_ms),
                  static_cast<unsigned long long>(pending_seq_++),
                  std::string(kPendingSuffix).c_str());
    file = name;
  } while (pending_.count(file) || FileExists(o_.pending_dir + "/" + file));
  VQI_RETURN_IF_ERROR(WriteFileAtomic(o_.pending_dir + "/" + file, text));
  pending_[file] = static_cast<int64_t>(text.size());
  return Status::Ok();
}

void UploadIngestor::Tick() {
  if (!pending_.empty() && SteadyMs() >= busy_until_ms_) RetryPending();
}

void UploadIngestor::RetryPending() {
  const int64_t start = SteadyMs();
  uint64_t stored = 0, refused = 0, images = 0, origins = 0, dups = 0;
  while (!pending_.empty() && SteadyMs() - start < kPendingRetryBudgetMs) {
    std::vector<std::string> files;
    std::vector<Checked> checked;
    int64_t bytes = 0;
    for (auto it = pending_.begin(); it != pending_.end() && files.size() < kPendingChunkFiles &&
                                     (files.empty() || bytes + it->second <= kPendingChunkBytes);
         ++it) {
      const std::string& file = it->first;
      bytes += it->second;
      const std::string path = o_.pending_dir + "/" + file;
      auto text = ReadFile(path);
      Result<SubKindMessage> m = text.ok() ? DecodePending(path, *text) : text.status();
      Result<Checked> c = m.ok() ? CheckUpload(*m, files.size(), o_.max_file_bytes) : m.status();
      if (!c.ok()) {
        // Checked before it was written, so only a damaged file gets here: kept aside, named.
        VQI_LOG_ERROR("uploads: pending upload {} cannot be stored, moved to {}.bad: {}", path,
                      path, c.status().ToString());
        std::error_code ec;
        std::filesystem::rename(path, path + ".bad", ec);
        ++refused;
        files.push_back(file);
        checked.push_back({});  // placeholder, skipped below
        checked.back().index = SIZE_MAX;
        continue;
      }
      files.push_back(file);
      checked.push_back(std::move(*c));
    }
    std::vector<Checked> valid;
    std::vector<std::string> valid_files;
    for (size_t k = 0; k < checked.size(); ++k) {
      if (checked[k].index == SIZE_MAX) {
        pending_.erase(files[k]);
        continue;
      }
      valid.push_back(std::move(checked[k]));
      valid_files.push_back(files[k]);
    }
    if (valid.empty()) continue;
    std::vector<Result<SubKindOutcome>> results;
    Counts counts;
    Status st = StoreChecked(valid, /*attempts=*/1, &results, &counts);
    if (!st.ok()) {
      busy_until_ms_ = SteadyMs() + kBusyBackoffMs;
      VQI_LOG_WARN("uploads: {} pending uploads not stored yet (dataset {}): {}", pending_.size(),
                   o_.dataset, st.ToString());
      break;
    }
    // Committed: now the files may go (a crash before this stores nothing twice).
    for (size_t k = 0; k < valid.size(); ++k) {
      std::error_code ec;
      std::filesystem::remove(o_.pending_dir + "/" + valid_files[k], ec);
      pending_.erase(valid_files[k]);
      if (!results[k].ok())
        VQI_LOG_WARN("results: upload refused: {}", results[k].status().ToString());
    }
    stored += valid.size() - counts.refused;
    refused += counts.refused;
    images += counts.images;
    origins += counts.origins;
    dups += counts.dups;
  }
  if (stored + refused > 0)
    VQI_LOG_INFO("uploads: stored {} pending uploads into dataset {} ({} refused, {} left)", stored,
                 o_.dataset, refused, pending_.size());
  int64_t bytes = 0;
  for (const auto& [n, b] : pending_) bytes += b;
  std::lock_guard<std::mutex> lock(mu_);
  stats_.pending_stored += stored;
  stats_.refused += refused;
  stats_.images_added += images;
  stats_.origins_added += origins;
  stats_.duplicates += dups;
  stats_.pending_files = static_cast<int64_t>(pending_.size());
  stats_.pending_bytes = bytes;
}

UploadIngestor::UploadIngestor(UploadIngestOptions o, std::unique_ptr<dataset::Store> store)
    : o_(std::move(o)), store_(std::move(store)) {}
UploadIngestor::~UploadIngestor() = default;

UploadIngestStats UploadIngestor::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

std::vector<Result<SubKindOutcome>> UploadIngestor::HandleBatch(
    const std::vector<SubKindMessage>& messages) {
  std::vector<Result<SubKindOutcome>> out(messages.size(), Internal("upload not handled"));
  std::vector<Checked> checked;
  uint64_t refused = 0;
  for (size_t i = 0; i < messages.size(); ++i) {
    auto c = CheckUpload(messages[i], i, o_.max_file_bytes);
    if (!c.ok()) {
      out[i] = c.status();
      ++refused;
      continue;
    }
    checked.push_back(std::move(*c));
  }

  Counts counts;
  uint64_t errors = 0, deferred = 0;
  if (!checked.empty()) {
    // What waited first (it is older), unless the dataset just failed.
    Tick();
    Status st;
    std::vector<Result<SubKindOutcome>> results;
    if (SteadyMs() < busy_until_ms_)
      st = Unavailable("dataset " + o_.dataset + " was busy or failing less than " +
                       std::to_string(kBusyBackoffMs) + " ms ago");
    else
      st = StoreChecked(checked, /*attempts=*/3, &results, &counts);
    if (!st.ok()) {
      busy_until_ms_ = SteadyMs() + kBusyBackoffMs;
      counts = Counts{};
      for (const Checked& c : checked) {
        Status written = WritePending(messages[c.index]);
        if (written.ok()) {
          ++deferred;
          out[c.index] = SubKindOutcome::kDeferred;
          continue;
        }
        ++errors;
        out[c.index] = Status(st.code(), "upload on " + c.topic + ": storing into dataset " +
                                             o_.dataset + ": " + st.message() +
                                             "; not kept for later: " + written.message());
      }
      if (deferred > 0)
        VQI_LOG_WARN("uploads: dataset {} not writable ({}): {} uploads kept in {} until it is",
                     o_.dataset, st.ToString(), deferred, o_.pending_dir);
    } else {
      for (size_t k = 0; k < checked.size(); ++k) out[checked[k].index] = results[k];
    }
  }
  int64_t bytes = 0;
  for (const auto& [n, b] : pending_) bytes += b;
  std::lock_guard<std::mutex> lock(mu_);
  stats_.images_added += counts.images;
  stats_.origins_added += counts.origins;
  stats_.duplicates += counts.dups;
  stats_.refused += refused + counts.refused;
  stats_.errors += errors;
  stats_.deferred += deferred;
  stats_.pending_files = static_cast<int64_t>(pending_.size());
  stats_.pending_bytes = bytes;
  return out;
}

Status UploadIngestor::StoreChecked(const std::vector<Checked>& checked, int attempts,
                                    std::vector<Result<SubKindOutcome>>* results_out,
                                    Counts* counts) {
  const int64_t now = SteadyMs();
  if (pool_counted_ms_ < 0 || now - pool_counted_ms_ >= 60000) {
    auto n = store_->UnlabeledPoolSize("");
    if (n.ok()) {
      pool_images_ = *n;
      pool_counted_ms_ = now;
      thing_pool_.clear();
    } else {
      VQI_LOG_WARN("uploads: counting the pool of {}: {}", o_.dataset, n.status().ToString());
    }
  }
  // Each device's share, counted before the transaction (inside it, the count would include
  // this batch's own inserts).
  for (const Checked& c : checked) {
    if (thing_pool_.count(c.upload.thing)) continue;
    auto n = store_->UnlabeledPoolSize(c.upload.thing);
    thing_pool_[c.upload.thing] = n.ok() ? *n : 0;
  }
  std::map<std::string, int64_t> added_by_thing;
  std::vector<Result<SubKindOutcome>>& results = *results_out;
  uint64_t images = 0, origins = 0, dups = 0;
  Status st;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100 << (attempt - 1)));
    results.assign(checked.size(), Internal("not stored"));
    images = origins = dups = 0;
    added_by_thing.clear();
    st = store_->Transaction([&]() -> Status {
      for (size_t k = 0; k < checked.size(); ++k) {
        const Checked& c = checked[k];
        const ParsedUpload& u = c.upload;
        dataset::ImageRecord rec;
        rec.image_id = u.sha256;
        rec.name = u.name;
        // Grouped per device: two devices' "frame-1.jpg" are not one capture.
        rec.capture_id = u.thing + ":" + dataset::CaptureIdOf(u.name);
        rec.width = c.info.width;
        rec.height = c.info.height;
        rec.format = c.info.format;
        rec.source = "upload:" + u.thing + "/" + u.component;
        if (!store_->HasImage(rec.image_id) &&
            pool_images_ + static_cast<int64_t>(images) >= o_.max_pool_images) {
          results[k] =
              ResourceExhausted("upload on " + c.topic + ": the unlabelled pool of dataset " +
                                o_.dataset + " holds " + std::to_string(pool_images_ + images) +
                                " images, the limit (--uploads-max-pool) is " +
                                std::to_string(o_.max_pool_images) + ": " + u.name + " not stored");
          continue;
        }
        const int64_t share = thing_pool_[u.thing] + added_by_thing[u.thing];
        if (!store_->HasImage(rec.image_id) && share >= o_.max_pool_images_per_thing) {
          results[k] = ResourceExhausted(
              "upload on " + c.topic + ": " + u.thing + " already has " + std::to_string(share) +
              " images in the unlabelled pool of dataset " + o_.dataset +
              ", its limit (--uploads-max-per-thing) is " +
              std::to_string(o_.max_pool_images_per_thing) + ": " + u.name + " not stored");
          continue;
        }
        auto added = store_->AddImage(rec, u.bytes);
        if (!added.ok()) return added.status();
        if (*added) {
          ++images;
          ++added_by_thing[u.thing];
        }
        dataset::ImageOrigin origin;
        origin.image_id = u.sha256;
        origin.thing = u.thing;
        origin.component = u.component;
        origin.model_name = u.model_name;
        origin.model_version = u.model_version;
        origin.result_id = u.result_id;
        origin.best_score = u.best_score;
        origin.image_name = u.image_name.empty() ? u.name : u.image_name;
        origin.received = FormatTimeMs(c.received_ms);
        origin.message_id = u.message_id;
        auto recorded = store_->AddOrigin(origin);
        if (!recorded.ok()) return recorded.status();
        if (*recorded) {
          ++origins;
          results[k] = SubKindOutcome::kHandled;
        } else {
          ++dups;
          results[k] = SubKindOutcome::kDuplicate;
        }
      }
      return Status::Ok();
    });
    if (st.ok() || st.code() != StatusCode::kUnavailable) break;
    VQI_LOG_WARN("uploads: dataset {} busy (attempt {}): {}", o_.dataset, attempt + 1,
                 st.ToString());
  }
  if (!st.ok()) return st;
  pool_images_ += static_cast<int64_t>(images);
  for (const auto& [thing, n] : added_by_thing) thing_pool_[thing] += n;
  counts->images += images;
  counts->origins += origins;
  counts->dups += dups;
  for (const auto& r : results)
    if (!r.ok()) ++counts->refused;
  return Status::Ok();
}

}  // namespace vqi::results
