// ComponentFetcher: a component version from `vqi server` → verified local files
// (docs/design/fetch.md). Order: metadata, manifest signature (trusted keys of the device),
// then each artifact from the cache or downloaded (resume, retries) and checked against the
// signed manifest's digest and size before it enters the cache. A FetchedComponent is returned
// only when all of it verified; nothing partially verified is handed on.
//
// Errors start with "component <name>@<version>: " and name the artifact that failed:
// PermissionDenied (signature: unsigned, unknown key, changed manifest/recipe; or the server
// refused the token), DataLoss (an artifact's bytes or size differ from the manifest),
// NotFound (no such component/version/blob on the server), Unavailable (server unreachable or
// failing after every retry), ResourceExhausted (disk full, a limit), Cancelled (progress
// callback).
//
// Thread-compatibility: one fetcher per thread (it owns one HTTP connection).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "vqi/agent/fetch_cache.h"
#include "vqi/agent/fetch_http.h"
#include "vqi/base/json.h"
#include "vqi/base/status.h"
#include "vqi/signing/keys.h"

namespace vqi::agent {

inline constexpr int64_t kMaxArtifactDownloadBytes = int64_t{4} << 30;  // docs/limits.md

struct RetryPolicy {
  int attempts = 5;  // per request, the first included (1 = no retry)
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{30000};
};

struct FetchOptions {
  std::string root;  // the agent root; blobs go to <root>/cache
  HttpOptions http;
  RetryPolicy retry;
  int64_t cache_max_bytes = 0;  // 0 = unlimited; else LRU eviction of unpinned blobs after a fetch
  int64_t max_artifact_bytes = kMaxArtifactDownloadBytes;
  // Called with the bytes written so far to an artifact's part file; false cancels (Cancelled;
  // the part file stays for a later resume). Optional.
  std::function<bool(const std::string& digest, int64_t have)> progress;
  // Waits between retries; default std::this_thread::sleep_for. The agent passes one that
  // returns early on shutdown; tests record the delays.
  std::function<void(std::chrono::milliseconds)> sleep;
};

// Counters since the fetcher was made (for tests and status reports).
struct FetchCounters {
  int64_t bytes_downloaded = 0;  // artifact body bytes received
  int64_t bytes_from_cache = 0;  // artifact bytes served by the cache
  int64_t requests = 0;          // HTTP requests sent (metadata + artifacts, every attempt)
  int64_t retries = 0;
  int64_t cache_hits = 0;
  int64_t cache_corrupt = 0;  // cached blobs found damaged and fetched again
  int64_t resumes = 0;        // downloads continued with Range
  int64_t restarts = 0;       // resumes the server answered with the whole body (or failed)
  int64_t evicted_bytes = 0;
};

struct FetchedArtifact {
  std::string name;  // file name in the component's artifact folder
  std::string uri;   // as the recipe names it
  std::string digest;
  int64_t size = 0;
  std::string unarchive;  // NONE or ZIP
  std::string path;       // the verified blob in the cache
  bool from_cache = false;
};

struct FetchedComponent {
  std::string name;
  std::string version;
  std::string publisher;
  std::string key_id;
  Json recipe;                             // the recipe inside the signed manifest (canonical JSON)
  std::string manifest;                    // the signed canonical bytes
  std::string signature;                   // raw Ed25519 signature
  std::vector<FetchedArtifact> artifacts;  // sorted by name
};

// The public keys in `dir` (the bundle's trusted-keys/*.pub). InvalidArgument naming a bad
// file; an empty or missing folder gives no keys (every signature is then refused).
Result<signing::TrustedKeys> LoadTrustedKeys(const std::string& dir);

class ComponentFetcher {
 public:
  static Result<std::unique_ptr<ComponentFetcher>> Create(FetchOptions options,
                                                          signing::TrustedKeys trusted);
  ~ComponentFetcher();

  Result<FetchedComponent> Fetch(const std::string& name, const std::string& version);
  // The same component from the cache only, without the network (an agent restarting or rolling
  // back while the server is unreachable): the metadata a past Fetch stored, its signature
  // verified again with the current trusted keys, every blob re-hashed. NotFound naming what is
  // missing from the cache.
  Result<FetchedComponent> FromCache(const std::string& name, const std::string& version);

  // Blobs never evicted (the digests of the current and previous component sets).
  void SetPinned(std::set<std::string> digests) { pinned_ = std::move(digests); }
  const FetchCounters& counters() const { return counters_; }
  BlobCache& cache() { return cache_; }

 private:
  ComponentFetcher(FetchOptions options, signing::TrustedKeys trusted,
                   std::unique_ptr<HttpClient> http, BlobCache cache);
  Result<Json> GetMetadata(const std::string& path);
  // Steps 2-5 of docs/design/fetch.md over metadata from the server or the cache.
  Result<FetchedComponent> Complete(const std::string& name, const std::string& version,
                                    const Json& meta, bool download);
  Result<FetchedArtifact> GetArtifact(const std::string& digest, int64_t size);
  Status DownloadOnce(const std::string& digest, int64_t size, bool* resumed);
  void Backoff(int attempt);

  FetchOptions options_;
  signing::TrustedKeys trusted_;
  std::unique_ptr<HttpClient> http_;
  BlobCache cache_;
  std::set<std::string> pinned_;
  FetchCounters counters_;
  uint64_t rng_state_;
};

}  // namespace vqi::agent
