// The server ArtifactSource: component versions from `vqi server` through the fetch helper's
// ComponentFetcher (docs/design/fetch.md), for deployments queued with the source
// {"kind": "server"} (desired state received over MQTT, docs/design/agent.md "Network side").
// Everything it hands on was verified (signature over the manifest, then every artifact's
// size and SHA-256) before the engine unpacks or runs it. The cumulative transfer counters are
// kept durable in <root>/state/transfer.json.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vqi/agent/artifact_source.h"
#include "vqi/agent/fetch.h"
#include "vqi/base/json.h"
#include "vqi/base/status.h"

namespace vqi::agent {

// Cumulative transfer counters of the device (every fetch since the root was made), in
// <root>/state/transfer.json: {"bytesDownloaded", "bytesFromCache", "requests", "retries",
// "cacheHits", "cacheCorrupt", "resumes", "fetches", "fetchFailures", "fromCacheOffline"}.
// Thread-compatible (the engine's thread).
class TransferLedger {
 public:
  // Loads the file (absent: zeros; damaged: zeros and a warning, the counters are statistics).
  explicit TransferLedger(std::string path);
  // Adds what `now` counted since the last call (the fetcher's counters only grow), then
  // writes the file (atomic rename + fsync).
  void Add(const FetchCounters& now);
  void CountFetch(bool ok, bool offline);
  Json ToJson() const { return totals_; }
  const std::string& path() const { return path_; }

 private:
  void Save();
  std::string path_;
  Json totals_;
  FetchCounters seen_;
};

// Reads <root>/state/transfer.json for `vqi-agent status` (zeros when absent or damaged).
Json ReadTransfer(const std::string& root);

// One deployment's view of the server. Fetches each component version once (memoised), falls
// back to ComponentFetcher::FromCache when the server is unreachable (Unavailable) — after the
// first such failure it asks the cache directly for the rest of the deployment.
class ServerArtifactSource : public ArtifactSource {
 public:
  // `fetcher` and `ledger` outlive the source (the agent keeps one of each).
  ServerArtifactSource(ComponentFetcher& fetcher, TransferLedger& ledger);
  Result<component::Recipe> GetRecipe(std::string_view name, std::string_view version) override;
  // The fetched blobs in the manifest's artifact order, matched by URI. DataLoss when the
  // recipe names an artifact the signed manifest does not hold.
  Result<std::vector<LocalArtifact>> GetArtifacts(const component::Recipe& recipe,
                                                  const component::Manifest& manifest) override;

 private:
  Result<const FetchedComponent*> Get(const std::string& name, const std::string& version);
  ComponentFetcher& fetcher_;
  TransferLedger& ledger_;
  bool offline_ = false;
  std::vector<std::unique_ptr<FetchedComponent>> fetched_;
};

}  // namespace vqi::agent
