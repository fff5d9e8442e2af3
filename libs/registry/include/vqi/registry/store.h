// The model registry store: an interface speaking the domain (no SQL), with a SQLite
// implementation (OpenSqliteStore). A PostgreSQL implementation can follow behind the same
// interface without touching callers.
//
// Errors: InvalidArgument / ResourceExhausted for bad input (naming the field; nothing is
// stored), NotFound naming the missing group or version, FailedPrecondition for an illegal
// approval transition (naming both states), DataLoss for a damaged database, Unavailable when
// another writer holds the database past the busy timeout (retry).
//
// Thread-compatibility: one Store per thread (the SQLite store is one connection). Several
// processes may use one database at once; registrations get distinct version numbers.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "vqi/base/clock.h"
#include "vqi/base/status.h"
#include "vqi/registry/types.h"

namespace vqi::registry {

// Anything that references blobs in <home>/artifacts/ (the registry, the component store):
// `vqi store gc` keeps every digest some source returns.
class ReferenceSource {
 public:
  virtual ~ReferenceSource() = default;
  // A short name for messages ("registry", "components").
  virtual std::string SourceName() const = 0;
  // Every blob digest this source references.
  virtual Result<std::set<std::string>> ReferencedDigests() = 0;
};

class Store : public ReferenceSource {
 public:
  ~Store() override = default;

  // Creates a group. AlreadyExists if it exists.
  virtual Result<Group> CreateGroup(const std::string& name, const std::string& description,
                                    const std::string& created_by) = 0;
  // Every group, sorted by name.
  virtual Result<std::vector<Group>> Groups() = 0;
  // Stores a new version numbered max(version)+1 of its group (1 for the first), status
  // PendingManualApproval, creating the group if missing. The artifacts' blobs must already be
  // stored and synced. A non-empty lineage.parent must name an existing version (NotFound).
  virtual Result<ModelVersion> Register(const NewVersion& v) = 0;
  // One version. NotFound naming the group (and its existing versions) otherwise.
  virtual Result<ModelVersion> Get(const std::string& group, int64_t version) = 0;
  // Every version of a group, ascending. NotFound if the group does not exist.
  virtual Result<std::vector<ModelVersion>> List(const std::string& group) = 0;
  // The highest-numbered Approved version. NotFound with the group's statuses when none is.
  virtual Result<ModelVersion> LatestApproved(const std::string& group) = 0;
  // Moves a version's approval (see IsLegalTransition); the event is appended to its history.
  // InvalidArgument for a missing actor or (for Rejected) reason, or text over the limits.
  virtual Result<ApprovalEvent> SetApproval(const std::string& group, int64_t version,
                                            const Approval& approval) = 0;
  // The approval history of a version, oldest first (the registration is the first event).
  virtual Result<std::vector<ApprovalEvent>> History(const std::string& group, int64_t version) = 0;

  std::string SourceName() const override { return "registry"; }
};

// <home>/registry/registry.db and <home>/artifacts.
std::string RegistryDbPath(const std::string& home);
std::string ArtifactsDir(const std::string& home);

struct SqliteStoreOptions {
  bool create = true;      // create the file (and its folder) when missing; else NotFound
  Clock* clock = nullptr;  // time of events (RealClock() when null)
};

// Opens (and migrates) the registry database at `path`.
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               const SqliteStoreOptions& options = {});

}  // namespace vqi::registry
