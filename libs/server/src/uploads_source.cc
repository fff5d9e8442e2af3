#include "vqi/server/uploads_source.h"

#include <chrono>

#include "vqi/base/clock.h"
#include "vqi/server/upload_log.h"

namespace vqi::server {
namespace {

class RecentUploads : public registry::ReferenceSource {
 public:
  explicit RecentUploads(std::unique_ptr<UploadLog> log) : log_(std::move(log)) {}
  std::string SourceName() const override { return "server uploads"; }
  Result<std::set<std::string>> ReferencedDigests() override {
    const int64_t retention_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(kUploadRetention).count();
    return log_->UploadedSince(RealClock().NowMs() - retention_ms);
  }

 private:
  std::unique_ptr<UploadLog> log_;
};

}  // namespace

registry::KnownSource UploadsSource() {
  return {"server uploads", "server/uploads.db",
          [](const std::string& path) -> Result<std::unique_ptr<registry::ReferenceSource>> {
            // path is <home>/server/uploads.db
            const std::string home =
                path.substr(0, path.size() - std::string("/server/uploads.db").size());
            VQI_ASSIGN_OR_RETURN(std::unique_ptr<UploadLog> log, OpenUploadLog(home, false));
            return std::unique_ptr<registry::ReferenceSource>(
                std::make_unique<RecentUploads>(std::move(log)));
          }};
}

}  // namespace vqi::server
