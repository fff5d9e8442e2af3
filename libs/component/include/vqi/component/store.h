// The component store: signed, immutable component versions (recipe + artifact list + signed
// manifest), behind an interface that speaks the domain (no SQL), with a SQLite implementation
// at <home>/components/components.db (OpenSqliteStore). Artifact bytes live in the one blob
// store <home>/artifacts/ (stored without extension); the store holds their digests.
// docs/design/component_store.md.
//
// Errors: InvalidArgument naming the field for a malformed component, AlreadyExists for a
// second, different put of a stored name@version, NotFound naming the component (and its
// versions), DataLoss for a damaged database, Unavailable when another writer holds the
// database past the busy timeout (retry).
//
// Thread-compatibility: one Store per thread (the SQLite store is one connection). Several
// processes may use one database at once.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "vqi/base/clock.h"
#include "vqi/base/status.h"

namespace vqi::component {

struct StoredArtifact {
  std::string name;    // file name in the component's artifact folder (unique per component)
  std::string uri;     // as the stored recipe names it
  std::string digest;  // SHA-256 hex: the blob in <home>/artifacts/
  int64_t size = 0;
  std::string unarchive = "NONE";  // NONE or ZIP
  bool operator==(const StoredArtifact&) const = default;
};

struct StoredComponent {
  std::string name;
  std::string version;
  std::string publisher;
  std::string key_id;       // the signer
  std::string created;      // RFC 3339 UTC, set by Put
  std::string recipe_json;  // the recipe's canonical JSON (what the signature covers)
  std::string recipe_text;  // the recipe as the publisher wrote it (for people; not signed)
  std::vector<StoredArtifact> artifacts;  // sorted by name
  std::string manifest;                   // the canonical manifest bytes that were signed
  std::string signature;                  // Ed25519, 64 bytes
  std::string source;                     // where it came from: "" or "registry:<group>/<version>"
};

// What Put did: stored `component` (created), or found it already stored byte-identical.
struct PutOutcome {
  StoredComponent component;
  bool created = false;
};

struct ComponentSummary {
  std::string name;
  std::vector<std::string> versions;  // ascending (semantic version order)
  std::string latest;                 // versions.back()
  std::string publisher;              // of the latest
  std::string created;                // of the latest
};

class Store {
 public:
  virtual ~Store() = default;

  // Stores a new version. Every artifact's blob must already be stored and synced. A second put
  // of the same name@version is a no-op when its manifest and signature are byte-identical
  // (created = false, the stored one returned), else AlreadyExists: versions are immutable.
  virtual Result<PutOutcome> Put(const StoredComponent& c) = 0;
  // Components whose name contains `name_filter` ("" = all), sorted by name.
  virtual Result<std::vector<ComponentSummary>> List(const std::string& name_filter) = 0;
  // The versions of one component, ascending. NotFound if there are none.
  virtual Result<std::vector<std::string>> Versions(const std::string& name) = 0;
  // One version. NotFound naming the component's versions otherwise.
  virtual Result<StoredComponent> Get(const std::string& name, const std::string& version) = 0;
  // Every blob digest a stored component references (for `vqi store gc`).
  virtual Result<std::set<std::string>> ReferencedDigests() = 0;
};

// <home>/components/components.db, <home>/artifacts.
std::string ComponentsDbPath(const std::string& home);
std::string ArtifactsDir(const std::string& home);

struct SqliteStoreOptions {
  bool create = true;      // create the file (and folder) when missing; else NotFound
  Clock* clock = nullptr;  // stamps `created` (RealClock() when null)
};

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               const SqliteStoreOptions& options = {});

// Semantic-version precedence (vqi/component/semver.h; ties broken by text so the order is
// total); text that is not a version sorts after every version, by bytes. True when a < b.
bool VersionLess(const std::string& a, const std::string& b);

}  // namespace vqi::component
