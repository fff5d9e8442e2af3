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
// Durable until stored: when the dataset cannot be written (locked by another process beyond
// the short busy timeout and retries, or failing), each checked upload of the batch is written
// as received into <home>/results/uploads-pending/ (one file per message, written atomically:
// tmp + fsync + rename) and answered kDeferred. The pending files are stored (re-checked, one
// transaction per chunk) before the next batch and on every Tick(), and at start; a file is
// removed only after its transaction committed (a resend of it is a duplicate by
// (thing, vqiMessageId), so a crash between commit and removal stores nothing twice). Bounded
// by max_pending_files / max_pending_bytes: beyond, the upload is an error as before (counted,
// logged). While the dataset is busy, new uploads go to pending without waiting on it.
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
  // <home>/results/uploads-pending when empty. Bounded: files (1..1,000,000) and bytes
  // (1 MiB..1 TiB); an upload file is ≤ ~415 KB.
  std::string pending_dir;
  int64_t max_pending_files = 10000;
  int64_t max_pending_bytes = int64_t{2} << 30;
};

struct UploadIngestStats {
  uint64_t images_added = 0;    // new images in the pool
  uint64_t origins_added = 0;   // uploads recorded (a new image or a known one)
  uint64_t duplicates = 0;      // the same (thing, vqiMessageId) again
  uint64_t refused = 0;         // malformed, mismatched, not an image, another thing, pool full
  uint64_t errors = 0;          // the dataset failed and the pending folder was full or failed
  uint64_t deferred = 0;        // written to the pending folder (the dataset failed or was busy)
  uint64_t pending_stored = 0;  // pending uploads stored later (new image, origin or duplicate)
  int64_t pending_files = 0;    // in the pending folder now
  int64_t pending_bytes = 0;
};

class UploadIngestor : public SubKindHandler {
 public:
  // Opens (creating if missing) the dataset. InvalidArgument for bad options.
  static Result<std::shared_ptr<UploadIngestor>> Open(const UploadIngestOptions& options);
  ~UploadIngestor() override;

  std::vector<Result<SubKindOutcome>> HandleBatch(
      const std::vector<SubKindMessage>& messages) override;

  // Stores pending uploads if the dataset is not known to be busy (bounded to ~1 s).
  void Tick() override;

  UploadIngestStats Stats() const;
  const std::string& dataset() const { return o_.dataset; }
  const std::string& pending_dir() const { return o_.pending_dir; }

  struct Checked;

 private:
  UploadIngestor(UploadIngestOptions o, std::unique_ptr<dataset::Store> store);
  struct Counts {
    uint64_t images = 0, origins = 0, dups = 0, refused = 0;
  };
  // One transaction (`attempts` tries) for the checked uploads; their outcomes in `results`.
  Status StoreChecked(const std::vector<Checked>& checked, int attempts,
                      std::vector<Result<SubKindOutcome>>* results, Counts* counts);
  Status WritePending(const SubKindMessage& m);
  void RetryPending();
  void ScanPending();

  int64_t busy_until_ms_ = 0;               // steady ms: the dataset failed, pend directly
  std::map<std::string, int64_t> pending_;  // file name -> bytes (names sort by arrival)
  uint64_t pending_seq_ = 0;
  UploadIngestOptions o_;
  std::unique_ptr<dataset::Store> store_;
  int64_t pool_images_ = 0;       // the pool's size, as last counted + images added since
  int64_t pool_counted_ms_ = -1;  // steady clock of the last count; -1 = never
  std::map<std::string, int64_t> thing_pool_;  // per thing, counted since the last recount
  mutable std::mutex mu_;
  UploadIngestStats stats_;  // GUARDED_BY(mu_)
};

}  // namespace vqi::results
