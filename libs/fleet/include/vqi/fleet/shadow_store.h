// The latest shadow statistics per (thing, component, candidate component, candidate version),
// written by the server's results ingest, read by the fleet controller and `vqi results shadow`
// (docs/design/shadow.md). SQLite at <home>/fleet/shadow.db, its own file so the fleet store's
// schema stays as it is.
//
// Thread-compatibility: one ShadowStore per thread (one SQLite connection); several processes
// may share the file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "vqi/base/status.h"
#include "vqi/fleet/shadow.h"

namespace vqi::fleet {

struct StoredShadowStats {
  ShadowStats stats;
  int64_t received_ms = 0;  // the server's clock
};

class ShadowStore {
 public:
  virtual ~ShadowStore() = default;
  // Replaces the row of (thing, component, candidate component, candidate version).
  virtual Status Put(const ShadowStats& s, int64_t received_ms) = 0;
  // Rows for one candidate (`candidate_component` "" = any), by thing; all rows when both are "".
  virtual Result<std::vector<StoredShadowStats>> List(const std::string& candidate_component,
                                                      const std::string& candidate_version) = 0;
};

// <home>/fleet/shadow.db
std::string ShadowDbPath(const std::string& home);
Result<std::unique_ptr<ShadowStore>> OpenSqliteShadowStore(const std::string& path,
                                                           bool create = true);

// What the results ingest calls for a message on vqi/v1/results/<thing>/<component>/shadow:
// ParseShadowMessage, then Put. Refusals as ParseShadowMessage's; store errors as they come.
Status IngestShadowMessage(ShadowStore& store, const std::string& thing,
                           const std::string& component, std::string_view payload, int64_t now_ms);

}  // namespace vqi::fleet
