// ComponentFetcher (fetch.h): metadata, signature, artifacts by digest through the cache.
#include "vqi/agent/fetch.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <random>
#include <thread>

#include "vqi/base/file.h"
#include "vqi/signing/encoding.h"
#include "vqi/signing/manifest.h"

namespace vqi::agent {
namespace fs = std::filesystem;

namespace {

// Percent-encodes a path segment (RFC 3986 unreserved characters stay).
std::string EscapeSegment(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// Component names and versions become URL segments and file names: a plain word only.
Status CheckName(const std::string& s, const char* what) {
  const bool ok =
      !s.empty() && s.size() <= 128 && s[0] != '.' && std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' ||
               c == '+';
      });
  if (ok) return Status::Ok();
  return InvalidArgument(std::string("fetch: ") + what + " '" + s +
                         "' must be 1-128 characters of A-Z a-z 0-9 . _ - + not starting with '.'");
}

Result<std::string> StringField(const Json& j, const char* key, const std::string& where) {
  if (!j.contains(key) || !j[key].is_string())
    return InvalidArgument(where + ": the server's answer has no string field '" + key + "'");
  return j[key].get<std::string>();
}

}  // namespace

Result<signing::TrustedKeys> LoadTrustedKeys(const std::string& dir) {
  signing::TrustedKeys keys;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return keys;
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".pub") files.push_back(e.path().string());
  if (ec) return Unavailable("cannot list trusted keys in " + dir + ": " + ec.message());
  std::sort(files.begin(), files.end());
  for (const std::string& f : files) {
    VQI_ASSIGN_OR_RETURN(std::string text, ReadFile(f, signing::kMaxKeyFileBytes));
    VQI_ASSIGN_OR_RETURN(signing::PublicKey key, signing::ParsePublicKeyFile(text, f));
    keys[key.key_id] = std::move(key);
  }
  return keys;
}

ComponentFetcher::ComponentFetcher(FetchOptions options, signing::TrustedKeys trusted,
                                   std::unique_ptr<HttpClient> http, BlobCache cache)
    : options_(std::move(options)),
      trusted_(std::move(trusted)),
      http_(std::move(http)),
      cache_(std::move(cache)),
      rng_state_(std::random_device{}() | 1) {}
ComponentFetcher::~ComponentFetcher() = default;

Result<std::unique_ptr<ComponentFetcher>> ComponentFetcher::Create(FetchOptions options,
                                                                   signing::TrustedKeys trusted) {
  if (options.root.empty()) return InvalidArgument("fetch: the agent root folder is empty");
  if (options.retry.attempts < 1 || options.retry.attempts > 100)
    return InvalidArgument("fetch: retry attempts must be 1-100, not " +
                           std::to_string(options.retry.attempts));
  if (options.retry.initial_backoff.count() < 0 ||
      options.retry.max_backoff < options.retry.initial_backoff)
    return InvalidArgument("fetch: retry backoff must satisfy 0 <= initial_backoff <= max_backoff");
  if (options.cache_max_bytes < 0)
    return InvalidArgument("fetch: cache_max_bytes must not be negative");
  VQI_ASSIGN_OR_RETURN(auto http, HttpClient::Create(options.http));
  VQI_ASSIGN_OR_RETURN(BlobCache cache, BlobCache::Open(options.root));
  return std::unique_ptr<ComponentFetcher>(new ComponentFetcher(
      std::move(options), std::move(trusted), std::move(http), std::move(cache)));
}

void ComponentFetcher::Backoff(int attempt) {
  // min(max, initial * 2^(attempt-1)), times a uniform factor in [0.5, 1] (jitter).
  int64_t ms = options_.retry.initial_backoff.count();
  for (int i = 1; i < attempt && ms < options_.retry.max_backoff.count(); ++i) ms *= 2;
  ms = std::min<int64_t>(ms, options_.retry.max_backoff.count());
  rng_state_ ^= rng_state_ << 13;
  rng_state_ ^= rng_state_ >> 7;
  rng_state_ ^= rng_state_ << 17;
  const double factor = 0.5 + 0.5 * static_cast<double>(rng_state_ % 1000001) / 1e6;
  const std::chrono::milliseconds delay(static_cast<int64_t>(static_cast<double>(ms) * factor));
  if (options_.sleep)
    options_.sleep(delay);
  else
    std::this_thread::sleep_for(delay);
}

Result<Json> ComponentFetcher::GetMetadata(const std::string& path) {
  for (int attempt = 1;; ++attempt) {
    auto r = http_->GetJson(path);
    counters_.requests = http_->requests();
    if (r.ok() || !IsRetryable(r.status()) || attempt >= options_.retry.attempts) return r;
    ++counters_.retries;
    Backoff(attempt);
  }
}

Result<FetchedComponent> ComponentFetcher::Fetch(const std::string& name,
                                                 const std::string& version) {
  VQI_RETURN_IF_ERROR(CheckName(name, "component name"));
  VQI_RETURN_IF_ERROR(CheckName(version, "component version"));
  const std::string ctx = "component " + name + "@" + version;
  const std::string path =
      "/v1/components/" + EscapeSegment(name) + "/versions/" + EscapeSegment(version);
  // 1. metadata
  auto meta = GetMetadata(path);
  if (!meta.ok()) return meta.status().WithContext(ctx);
  if (!meta->is_object())
    return InvalidArgument(ctx + ": the server's answer is not a JSON object");
  return Complete(name, version, *meta, /*download=*/true);
}

Result<FetchedComponent> ComponentFetcher::FromCache(const std::string& name,
                                                     const std::string& version) {
  VQI_RETURN_IF_ERROR(CheckName(name, "component name"));
  VQI_RETURN_IF_ERROR(CheckName(version, "component version"));
  const std::string ctx = "component " + name + "@" + version;
  const std::string file = cache_.MetaPath(name, version);
  if (!FileExists(file)) return NotFound(ctx + ": not in the cache (no " + file + ")");
  auto text = ReadFile(file, kMaxMetadataBytes);
  if (!text.ok()) return text.status().WithContext(ctx);
  auto meta = ParseJson(*text, file);
  if (!meta.ok() || !meta->is_object())
    return DataLoss(ctx + ": cached metadata " + file + " is damaged; fetch it again");
  return Complete(name, version, *meta, /*download=*/false);
}

Result<FetchedComponent> ComponentFetcher::Complete(const std::string& name,
                                                    const std::string& version, const Json& meta,
                                                    bool download) {
  const std::string ctx = "component " + name + "@" + version;
  auto fail = [&](const Status& st) { return st.WithContext(ctx); };
  auto manifest_text = StringField(meta, "manifest", "metadata");
  if (!manifest_text.ok()) return fail(manifest_text.status());
  std::string sig_hex;
  if (meta.contains("signature") && meta["signature"].is_string()) sig_hex = meta["signature"];
  std::string signature;
  if (!sig_hex.empty()) {
    auto s = signing::FromHex(sig_hex, signing::kSignatureBytes, "signature");
    if (!s.ok()) return fail(PermissionDenied("signature refused: " + s.status().message()));
    signature = *s;
  }

  // 2-3. the manifest is the one asked for, and signed by a trusted key
  auto manifest = signing::ParseManifest(*manifest_text);
  if (!manifest.ok())
    return fail(PermissionDenied("manifest refused: " + manifest.status().message()));
  if (manifest->component != name || manifest->version != version)
    return fail(PermissionDenied("the metadata holds the manifest of " + manifest->component + "@" +
                                 manifest->version));
  if (Status s = signing::VerifySignature(*manifest, signature, trusted_); !s.ok()) return fail(s);

  // 4. artifacts of the signed manifest, by digest
  std::vector<signing::ManifestArtifact> arts = manifest->artifacts;
  std::sort(arts.begin(), arts.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  FetchedComponent out;
  std::set<std::string> digests;
  for (const auto& m : arts) {
    const std::string what = ctx + ": artifact " + m.name + " (blob " + m.digest + ")";
    if (m.size > options_.max_artifact_bytes)
      return ResourceExhausted(
          what + ": " + std::to_string(m.size) + " bytes is over the limit of " +
          std::to_string(options_.max_artifact_bytes) + " (docs/limits.md, Agent downloads)");
    Result<FetchedArtifact> a = Status(StatusCode::kInternal, "unset");
    if (download) {
      a = GetArtifact(m.digest, m.size);
    } else {
      bool corrupt = false;
      auto cached = cache_.Lookup(m.digest, m.size, &corrupt);
      if (corrupt) ++counters_.cache_corrupt;
      if (!cached.ok()) {
        a = cached.status();
      } else if (!cached->has_value()) {
        a = NotFound(corrupt ? "cached blob damaged (deleted); fetch it again"
                             : "not in the cache");
      } else {
        ++counters_.cache_hits;
        counters_.bytes_from_cache += m.size;
        FetchedArtifact f;
        f.digest = m.digest;
        f.size = m.size;
        f.path = **cached;
        f.from_cache = true;
        a = std::move(f);
      }
    }
    if (!a.ok()) return a.status().WithContext(what);
    a->name = m.name;
    a->uri = m.uri;
    a->unarchive = m.unarchive;
    out.artifacts.push_back(std::move(*a));
    digests.insert(m.digest);
  }

  // 5. the verified metadata, for the engine and for restarts
  if (download) {
    Json record = {
        {"name", name}, {"version", version}, {"manifest", *manifest_text}, {"signature", sig_hex}};
    if (Status s = WriteFileAtomic(cache_.MetaPath(name, version), record.dump()); !s.ok())
      return fail(s);
  }
  if (download && options_.cache_max_bytes > 0) {
    std::set<std::string> keep = pinned_;
    keep.insert(digests.begin(), digests.end());
    auto t = cache_.Trim(options_.cache_max_bytes, keep);
    if (!t.ok()) return fail(t.status());
    counters_.evicted_bytes += t->evicted_bytes;
  }
  out.name = name;
  out.version = version;
  out.publisher = manifest->publisher;
  out.key_id = manifest->key_id;
  out.recipe = manifest->recipe;
  out.manifest = *manifest_text;
  out.signature = signature;
  return out;
}

}  // namespace vqi::agent
