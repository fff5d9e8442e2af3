// Where results go. The inspector calls Publish once per image and commits the image to its
// journal only after Publish returned OK, so a sink's OK must mean "durable" (the JSON-lines
// file is fdatasync'd; IpcResultSink in ipc.h returns OK when the agent's spool holds the
// message). A non-OK status leaves the image uncommitted: Unavailable/ResourceExhausted (and
// anything but the three below) are retried with backoff, nothing is lost; PermissionDenied,
// InvalidArgument and FailedPrecondition stop the loop (Inspector::Run returns them).
//
// Thread-compatibility: one thread calls a sink at a time.
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "vqi/base/json.h"
#include "vqi/base/status.h"

namespace vqi::inspect {

class ResultSink {
 public:
  virtual ~ResultSink() = default;
  // One result for `topic`. `id` is the result's idempotency key (duplicates after a crash
  // carry the same id).
  virtual Status Publish(const std::string& topic, const std::string& id,
                         const OrderedJson& result) = 0;
  // An image whose result is uncertain, to be labelled upstream. Default: not uploaded (OK).
  virtual Status Upload(const std::string& image_path, const OrderedJson& result) {
    return Status::Ok();
  }
};

// One JSON object per line. `path` "-" is stdout (flushed per line, not synced). A file is
// opened for append (created 0644) and each line is written whole, then fdatasync'd.
class JsonLinesSink : public ResultSink {
 public:
  static Result<std::unique_ptr<JsonLinesSink>> Open(const std::string& path);
  ~JsonLinesSink() override;
  Status Publish(const std::string& topic, const std::string& id,
                 const OrderedJson& result) override;

 private:
  JsonLinesSink(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_;  // -1 for stdout
};

// Copies each uncertain image to `dir` as <image id>.<ext> with its result beside it as
// <image id>.json (both written atomically): the folder an upload step (today a person, later
// the agent's upload) takes them from.
class FolderUploader : public ResultSink {
 public:
  explicit FolderUploader(std::string dir) : dir_(std::move(dir)) {}
  Status Publish(const std::string&, const std::string&, const OrderedJson&) override {
    return Status::Ok();
  }
  Status Upload(const std::string& image_path, const OrderedJson& result) override;

 private:
  std::string dir_;
};

// Fans out to several sinks in order; the first error stops and is returned (the image is then
// retried: sinks before it see it again with the same id).
class MultiSink : public ResultSink {
 public:
  void Add(std::unique_ptr<ResultSink> sink) { sinks_.push_back(std::move(sink)); }
  Status Publish(const std::string& topic, const std::string& id,
                 const OrderedJson& result) override;
  Status Upload(const std::string& image_path, const OrderedJson& result) override;

 private:
  std::vector<std::unique_ptr<ResultSink>> sinks_;
};

}  // namespace vqi::inspect
