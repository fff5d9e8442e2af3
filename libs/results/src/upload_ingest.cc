// UploadIngestor: uploads → the dataset's unlabelled pool with their origin.
#include "vqi/results/upload_ingest.h"

#include <chrono>
#include <ctime>
#include <map>
#include <thread>

#include "vqi/base/log.h"
#include "vqi/dataset/image.h"
#include "vqi/dataset/store.h"
#include "vqi/dataset/text.h"

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

// An upload that passed every check, ready for the store.
struct Checked {
  size_t index;  // in the batch
  ParsedUpload upload;
  dataset::ImageInfo info;
  int64_t received_ms;
};

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
  VQI_ASSIGN_OR_RETURN(
      auto store, dataset::Store::Open(o.home, o.dataset, /*create=*/true, kUploadBusyTimeoutMs));
  return std::shared_ptr<UploadIngestor>(new UploadIngestor(o, std::move(store)));
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
    const SubKindMessage& m = messages[i];
    auto u = ParseUploadMessage(m.topic, m.payload, o_.max_file_bytes);
    if (!u.ok()) {
      out[i] = u.status();
      ++refused;
      continue;
    }
    const std::string where = "upload on " + m.topic + ": ";
    if (Status st = CheckUtf8(*u); !st.ok()) {
      out[i] = Status(st.code(), where + st.message());
      ++refused;
      continue;
    }
    auto info = dataset::ProbeImage(u->bytes);
    if (!info.ok()) {
      // Not an image (or too many pixels): the pool only holds images.
      out[i] = InvalidArgument(where + "dataBase64: " + u->name +
                               " is not a usable image: " + info.status().message());
      ++refused;
      continue;
    }
    checked.push_back({i, std::move(*u), *info, m.received_ms});
  }

  uint64_t images = 0, origins = 0, dups = 0, errors = 0;
  if (!checked.empty()) {
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now().time_since_epoch())
                            .count();
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
    std::vector<Result<SubKindOutcome>> results;
    Status st;
    for (int attempt = 0; attempt < 3; ++attempt) {
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
            results[k] = ResourceExhausted(
                "upload on " + messages[c.index].topic + ": the unlabelled pool of dataset " +
                o_.dataset + " holds " + std::to_string(pool_images_ + images) +
                " images, the limit (--uploads-max-pool) is " + std::to_string(o_.max_pool_images) +
                ": " + u.name + " not stored");
            continue;
          }
          const int64_t share = thing_pool_[u.thing] + added_by_thing[u.thing];
          if (!store_->HasImage(rec.image_id) && share >= o_.max_pool_images_per_thing) {
            results[k] = ResourceExhausted(
                "upload on " + messages[c.index].topic + ": " + u.thing + " already has " +
                std::to_string(share) + " images in the unlabelled pool of dataset " + o_.dataset +
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
      std::this_thread::sleep_for(std::chrono::milliseconds(100 << attempt));
    }
    if (!st.ok()) {
      images = origins = dups = 0;
      errors = checked.size();
      for (const Checked& c : checked)
        out[c.index] =
            Status(st.code(), "upload on " + messages[c.index].topic + ": storing into dataset " +
                                  o_.dataset + ": " + st.message());
    } else {
      pool_images_ += static_cast<int64_t>(images);
      for (const auto& [thing, n] : added_by_thing) thing_pool_[thing] += n;
      for (size_t k = 0; k < checked.size(); ++k) {
        out[checked[k].index] = results[k];
        if (!results[k].ok()) ++refused;
      }
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  stats_.images_added += images;
  stats_.origins_added += origins;
  stats_.duplicates += dups;
  stats_.refused += refused;
  stats_.errors += errors;
  return out;
}

}  // namespace vqi::results
