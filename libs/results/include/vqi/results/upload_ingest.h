// UploadIngestor: the server's handler for vqi/v1/results/<thing>/<component>/upload
// (docs/design/results.md "Uploads"). Each upload is checked (ParseUploadMessage: size, sha256,
// base64, thing; then the bytes must be an image: dataset::ProbeImage) and put into a dataset's
// unlabelled pool (dataset::Store::AddImage: no label) with its origin (device, component,
// model name and version, result id, best score, received time, vqiMessageId). The same image
// (sha256) is stored once and gets one origin per (thing, vqiMessageId): a resent message is a
// duplicate, the same image from another message is a new origin.
//
// Plugged into the results ingest as the "upload" sub-kind handler (ingest.h); it runs on the
// ingest's writer thread, one dataset transaction per batch (one blob sync).
//
// Threading: HandleBatch from one thread at a time (it owns the dataset's connection); Stats()
// from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "vqi/base/status.h"
#include "vqi/results/ingest.h"
#include "vqi/results/upload_message.h"

namespace vqi::dataset {
class Store;
}

namespace vqi::results {

inline constexpr std::string_view kDefaultUploadsDataset = "default";

struct UploadIngestOptions {
  std::string home;                                           // <home>/datasets/<dataset>
  std::string dataset = std::string(kDefaultUploadsDataset);  // created when missing
  size_t max_file_bytes = kDefaultMaxUploadBytes;             // 1 KiB..256 KiB (the agent's bound)
  // The unlabelled pool's size (images without an approved label, uploaded or imported) beyond
  // which a NEW image is refused (ResourceExhausted, counted); an upload of an image already
  // there still records its origin. 1..100,000,000. Bounds the disk: 100,000 640x480 JPEGs are
  // ~6 GB. Re-counted at most once a minute (labelling elsewhere empties the pool).
  int64_t max_pool_images = 100000;
  // One device's share of the pool (images with an origin from it), so one noisy camera cannot
  // take the whole pool from the others. 1..100,000,000.
  int64_t max_pool_images_per_thing = 10000;
};

struct UploadIngestStats {
  uint64_t images_added = 0;   // new images in the pool
  uint64_t origins_added = 0;  // uploads recorded (a new image or a known one)
  uint64_t duplicates = 0;     // the same (thing, vqiMessageId) again
  uint64_t refused = 0;        // malformed, mismatched, not an image, another thing, pool full
  uint64_t errors = 0;         // the dataset failed (after retries)
};

class UploadIngestor : public SubKindHandler {
 public:
  // Opens (creating if missing) the dataset. InvalidArgument for bad options.
  static Result<std::shared_ptr<UploadIngestor>> Open(const UploadIngestOptions& options);
  ~UploadIngestor() override;

  std::vector<Result<SubKindOutcome>> HandleBatch(
      const std::vector<SubKindMessage>& messages) override;

  UploadIngestStats Stats() const;
  const std::string& dataset() const { return o_.dataset; }

 private:
  UploadIngestor(UploadIngestOptions o, std::unique_ptr<dataset::Store> store);

  UploadIngestOptions o_;
  std::unique_ptr<dataset::Store> store_;
  int64_t pool_images_ = 0;       // the pool's size, as last counted + images added since
  int64_t pool_counted_ms_ = -1;  // steady clock of the last count; -1 = never
  std::map<std::string, int64_t> thing_pool_;  // per thing, counted since the last recount
  mutable std::mutex mu_;
  UploadIngestStats stats_;  // GUARDED_BY(mu_)
};

}  // namespace vqi::results
