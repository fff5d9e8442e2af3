// ServerArtifactSource and TransferLedger (server_source.h).
#include "vqi/agent/server_source.h"

#include "vqi/base/file.h"
#include "vqi/base/log.h"

namespace vqi::agent {
namespace {

constexpr const char* kKeys[] = {"bytesDownloaded", "bytesFromCache",  "requests", "retries",
                                 "cacheHits",       "cacheCorrupt",    "resumes",  "fetches",
                                 "fetchFailures",   "fromCacheOffline"};

Json Zeros() {
  Json j = Json::object();
  for (const char* k : kKeys) j[k] = int64_t{0};
  return j;
}

Json Load(const std::string& path) {
  Json out = Zeros();
  if (!FileExists(path)) return out;
  auto j = ReadJsonFile(path);
  if (!j.ok() || !j->is_object()) {
    VQI_LOG_WARN("{}: damaged transfer counters, starting from zero", path);
    return out;
  }
  for (const char* k : kKeys)
    if (j->contains(k) && (*j)[k].is_number_integer()) out[k] = (*j)[k].get<int64_t>();
  return out;
}

}  // namespace

TransferLedger::TransferLedger(std::string path) : path_(std::move(path)), totals_(Load(path_)) {}

void TransferLedger::Add(const FetchCounters& now) {
  auto bump = [&](const char* key, int64_t cur, int64_t& seen) {
    totals_[key] = totals_[key].get<int64_t>() + (cur - seen);
    seen = cur;
  };
  bump("bytesDownloaded", now.bytes_downloaded, seen_.bytes_downloaded);
  bump("bytesFromCache", now.bytes_from_cache, seen_.bytes_from_cache);
  bump("requests", now.requests, seen_.requests);
  bump("retries", now.retries, seen_.retries);
  bump("cacheHits", now.cache_hits, seen_.cache_hits);
  bump("cacheCorrupt", now.cache_corrupt, seen_.cache_corrupt);
  bump("resumes", now.resumes, seen_.resumes);
  Save();
}

void TransferLedger::CountFetch(bool ok, bool offline) {
  totals_["fetches"] = totals_["fetches"].get<int64_t>() + 1;
  if (!ok) totals_["fetchFailures"] = totals_["fetchFailures"].get<int64_t>() + 1;
  if (offline) totals_["fromCacheOffline"] = totals_["fromCacheOffline"].get<int64_t>() + 1;
}

void TransferLedger::Save() {
  Status st = WriteFileAtomic(path_, totals_.dump());
  if (!st.ok()) VQI_LOG_WARN("transfer counters: {}", st.message());
}

Json ReadTransfer(const std::string& root) { return Load(root + "/state/transfer.json"); }

ServerArtifactSource::ServerArtifactSource(ComponentFetcher& fetcher, TransferLedger& ledger)
    : fetcher_(fetcher), ledger_(ledger) {}

Result<const FetchedComponent*> ServerArtifactSource::Get(const std::string& name,
                                                          const std::string& version) {
  for (const auto& f : fetched_)
    if (f->name == name && f->version == version) return f.get();
  Result<FetchedComponent> got = Status(StatusCode::kInternal, "unset");
  bool from_cache = offline_;
  if (!offline_) {
    got = fetcher_.Fetch(name, version);
    if (!got.ok() && got.status().code() == StatusCode::kUnavailable) {
      // The server is unreachable: a component fetched before (the running or previous set,
      // a resumed deployment) is still verified from the cache.
      VQI_LOG_WARN("{}; using the cache", got.status().message());
      offline_ = from_cache = true;
      const Status why = got.status();
      got = fetcher_.FromCache(name, version);
      if (!got.ok() && got.status().code() == StatusCode::kNotFound)
        got = why.WithContext("not in the cache either");
    }
  } else {
    got = fetcher_.FromCache(name, version);
  }
  ledger_.CountFetch(got.ok(), from_cache);
  ledger_.Add(fetcher_.counters());
  if (!got.ok()) return got.status();
  fetched_.push_back(std::make_unique<FetchedComponent>(std::move(*got)));
  return fetched_.back().get();
}

Result<component::Recipe> ServerArtifactSource::GetRecipe(std::string_view name,
                                                          std::string_view version) {
  VQI_ASSIGN_OR_RETURN(const FetchedComponent* f, Get(std::string(name), std::string(version)));
  const std::string ctx = "component " + f->name + "@" + f->version;
  VQI_ASSIGN_OR_RETURN(component::Recipe r,
                       component::RecipeFromJson(f->recipe, ctx + ": signed recipe"));
  if (r.name != f->name || r.version != f->version)
    return PermissionDenied(ctx + ": the signed manifest holds the recipe of " + r.name + "@" +
                            r.version);
  return r;
}

Result<std::vector<LocalArtifact>> ServerArtifactSource::GetArtifacts(
    const component::Recipe& recipe, const component::Manifest& manifest) {
  VQI_ASSIGN_OR_RETURN(const FetchedComponent* f, Get(recipe.name, recipe.version));
  std::vector<LocalArtifact> out;
  for (const auto& a : manifest.artifacts) {
    const FetchedArtifact* hit = nullptr;
    for (const auto& fa : f->artifacts)
      if (fa.uri == a.uri) hit = &fa;
    if (!hit)
      return DataLoss("component " + recipe.name + "@" + recipe.version + ": artifact " + a.uri +
                      " is not in the signed manifest");
    LocalArtifact la;
    la.uri = a.uri;
    VQI_ASSIGN_OR_RETURN(la.file_name, ArtifactFileName(a.uri));
    la.path = hit->path;
    out.push_back(std::move(la));
  }
  return out;
}

}  // namespace vqi::agent
