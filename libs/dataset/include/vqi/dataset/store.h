// The dataset store: one SQLite database (WAL) plus content-addressed image blobs under
// <home>/datasets/<name>/. Images are identified by the SHA-256 of their bytes and stored once.
// Labels are append-only events; the current label of an image is its latest APPROVED event
// (by event time, then insertion order); images without one form the unlabeled pool.
//
// Thread-compatibility: a Store is one SQLite connection; use it from one thread at a time.
// Several processes may open the same store (SQLite locking; writers wait up to 10 s, then
// Unavailable).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vqi/base/status.h"
#include "vqi/dataset/sample.h"

namespace vqi::dataset {

enum class LabelStatus { kPending, kApproved, kRejected };
const char* LabelStatusName(LabelStatus s);  // "PENDING", "APPROVED", "REJECTED"
Result<LabelStatus> ParseLabelStatus(std::string_view s);

struct LabelEvent {
  int64_t seq = 0;  // assigned by the store
  std::string image_id;
  std::vector<Box> boxes;
  LabelStatus status = LabelStatus::kApproved;
  double event_time = 0;  // Unix seconds
  std::string job;        // labeling job or importer that produced the event
};

struct ImageRecord {
  std::string image_id;  // SHA-256 hex of the bytes
  std::string name;      // original file name
  std::string capture_id;
  int width = 0, height = 0;
  std::string format;  // "jpeg", "png", ... (detected from content)
  std::string source;  // where it was imported from (informational)
};

// Where an image came from when a device sent it (an upload of an uncertain image:
// docs/design/results.md "Uploads"). One image (same bytes) may have several origins: the
// same image sent by two devices, or inspected again by a newer model.
struct ImageOrigin {
  int64_t seq = 0;  // assigned by the store (increasing)
  std::string image_id;
  std::string thing;                      // the device
  std::string component;                  // the component that sent it (vqi.inspect)
  std::string model_name, model_version;  // "" when the device did not say
  std::string result_id;                  // the vqi.inspect.result/1 id, "" when not said
  double best_score = -1;                 // -1 when not said
  std::string image_name;                 // the file name on the device
  std::string received;                   // the server's clock, RFC 3339 UTC
  std::string message_id;                 // the agent spool's vqiMessageId (unique per thing)
};

// A filter over the unlabeled pool.
struct PoolQuery {
  std::string thing;  // "" = every image without an approved label; else those with an origin
                      // from that thing
  int64_t limit = 0;  // 0 = all
};

// An image of the unlabeled pool with its origins (oldest first; none for imported images).
struct PoolImage {
  Sample sample;
  std::string format;
  std::vector<ImageOrigin> origins;
};

// One page of the unlabeled pool and the pool's size, read from one snapshot (the count matches
// the listing even while uploads arrive).
struct PoolPage {
  std::vector<PoolImage> images;
  int64_t total = 0;  // UnlabeledPoolSize(query.thing)
};

struct RemovedImage {
  ImageRecord image;
  int64_t label_events = 0;         // its label history, removed with it
  std::vector<std::string> splits;  // snapshots it was dropped from (--force)
};

struct StoreCheck {
  int64_t images = 0;
  int64_t blobs = 0;
  std::vector<std::string> problems;  // missing or damaged blobs, one line each
  bool ok() const { return problems.empty(); }
};

struct SplitRatios {
  double train = 0.7, val = 0.15, test = 0.15;
};

struct SplitInfo {
  std::string name;
  uint64_t seed = 0;
  SplitRatios ratios;
  std::string digest;
  double created_at = 0;
  int64_t train = 0, val = 0, test = 0;  // images per part
};

class Store {
 public:
  // Opens the store under <home>/datasets/<name>/ (SQLite + blobs/), creating it if `create`.
  // InvalidArgument for a bad name, DataLoss if the database is damaged, and without `create`
  // NotFound naming the existing datasets when there is none of that name (a mistyped name
  // never becomes a new, empty dataset).
  // `busy_timeout_ms`: how long a write waits for another process's lock before Unavailable
  // (a server's writer thread passes a short one: it must not stall behind an import).
  static Result<std::unique_ptr<Store>> Open(const std::string& home,
                                             const std::string& name = "default",
                                             bool create = true, int busy_timeout_ms = 10000);
  // The names of the datasets under <home>/datasets, sorted.
  static std::vector<std::string> List(const std::string& home);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const std::string& dir() const { return dir_; }
  std::vector<std::string> ClassNames() const;
  // The id of class `name`, appending it if new.
  Result<int> EnsureClass(const std::string& name);

  // Runs `body` in one SQLite transaction: committed if it returns OK, rolled back otherwise
  // (also on a crash). Blob files written inside are content-addressed, so a rollback leaves
  // at most unreferenced blobs, never a half-imported dataset.
  Status Transaction(const std::function<Status()>& body);

  // Stores the image (bytes must hash to record.image_id). Returns false, changing nothing,
  // if the image is already present. InvalidArgument if the name is not valid UTF-8.
  Result<bool> AddImage(const ImageRecord& record, std::string_view bytes);
  bool HasImage(const std::string& image_id) const;
  // Records an origin of an image already in the store (`seq` is assigned). Returns false,
  // changing nothing, when an origin with the same (thing, message_id) exists (a resent
  // message), or, for a non-empty result_id, one with the same (image, thing, result_id,
  // model_name, model_version) (the same observation sent again under a new id). NotFound if the
  // image is not in the store; InvalidArgument for an empty thing or message id, or text that is
  // not UTF-8.
  Result<bool> AddOrigin(const ImageOrigin& origin);
  // The image's origins, oldest first.
  Result<std::vector<ImageOrigin>> Origins(const std::string& image_id) const;
  // The unlabeled pool (UnlabeledSamples) with each image's origins: images with an origin
  // first, the most recently received first; then images without one, by name.
  Result<std::vector<PoolImage>> UnlabeledPool(const PoolQuery& query) const;
  // How many images UnlabeledPool({thing, 0}) lists (without reading them).
  Result<int64_t> UnlabeledPoolSize(const std::string& thing) const;
  // UnlabeledPool and UnlabeledPoolSize in one read transaction.
  Result<PoolPage> UnlabeledPoolPage(const PoolQuery& query) const;
  // Appends a label event. Returns false, changing nothing, if an identical event (image,
  // boxes, status, time, job) exists. NotFound if the image is not in the store.
  Result<bool> AppendLabel(const LabelEvent& event);

  // Images whose id is `key` or starts with it (at least 6 hex digits), or whose name is `key`.
  Result<std::vector<ImageRecord>> FindImages(const std::string& key) const;
  // Removes an image with its label history and origins, then its blob. FailedPrecondition naming
  // the split snapshots that hold it, unless `drop_from_splits` (then it leaves them too; their
  // recorded digest no longer matches and `dataset stats` shows the smaller counts).
  // NotFound if there is no such image.
  Result<RemovedImage> RemoveImage(const std::string& image_id, bool drop_from_splits);
  // Every image has its blob and every blob hashes to its name.
  Result<StoreCheck> Check() const;

  // Every image with an approved label. Names are valid UTF-8: a name stored by an older vqi
  // that is not has each bad byte as %XX (the same form export writes). (the current label = latest
  // APPROVED event).
  Result<std::vector<Sample>> LabeledSamples() const;
  // Images without an approved label (boxes empty).
  Result<std::vector<Sample>> UnlabeledSamples() const;
  Result<std::optional<LabelEvent>> CurrentLabel(const std::string& image_id) const;
  Result<std::vector<LabelEvent>> LabelHistory(const std::string& image_id) const;
  Result<int64_t> ImageCount() const;

  // Splits the labeled images into train/val/test, grouped by capture id and deterministic
  // in `seed`, and stores the assignment (with each image's current label event) as the
  // snapshot `split`. If a snapshot of that name exists: OK when it has the same digest,
  // AlreadyExists otherwise unless `replace`.
  Result<SplitInfo> CreateSplit(const std::string& split, const SplitRatios& ratios, uint64_t seed,
                                bool replace = false);
  Result<std::vector<SplitInfo>> Splits() const;
  // The samples of one part ("train", "val" or "test") of a named split snapshot, with the
  // labels as they were when the snapshot was taken.
  Result<std::vector<Sample>> SplitSamples(const std::string& split, const std::string& part) const;
  // The split snapshot's digest (recorded as model lineage).
  Result<std::string> SplitDigest(const std::string& split) const;

  // The absolute path of an image's blob.
  std::string BlobPath(const std::string& image_id, const std::string& format) const;

 private:
  struct Impl;
  Store(std::string dir, std::unique_ptr<Impl> impl);
  Result<std::vector<Sample>> ImagesWithCurrentLabels(bool labeled) const;
  Status SyncBlobs();

  std::string dir_;
  std::unique_ptr<Impl> impl_;
};

// The capture id of a file name: the prefix before "-cropped", else the name without its
// last extension.
std::string CaptureIdOf(const std::string& file_name);

}  // namespace vqi::dataset
