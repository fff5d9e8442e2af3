// ComponentFetcher (fetch.h): metadata, signature, artifacts by digest through the cache.
#include "vqi/agent/fetch.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>
#include <thread>

#include "vqi/base/file.h"
#include "vqi/base/hash.h"
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

// An open file descriptor closed on scope exit.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  for (size_t done = 0; done < data.size();) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOSPC || errno == EDQUOT)
        return ResourceExhausted("disk full writing " + path + " (" + std::strerror(errno) + ")");
      return Unavailable("cannot write " + path + ": " + std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
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
  std::this_thread::sleep_for(std::chrono::microseconds(static_cast<int64_t>(ms * 1000 * factor)));
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

Status ComponentFetcher::DownloadOnce(const std::string& digest, int64_t size, bool* resumed) {
  const std::string part = cache_.PartPath(digest);
  Fd f;
  f.fd = ::open(part.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (f.fd < 0) return Unavailable("cannot open " + part + ": " + std::strerror(errno));
  struct stat st;
  if (::fstat(f.fd, &st) != 0)
    return Unavailable("cannot stat " + part + ": " + std::strerror(errno));
  int64_t have = st.st_size;
  auto hash = std::make_unique<Sha256>();
  if (have > size) {  // not ours to continue
    if (::ftruncate(f.fd, 0) != 0) return Unavailable("cannot truncate " + part);
    have = 0;
  }
  if (have > 0) {  // hash what is there (hash state is not persisted)
    std::vector<char> buf(256 << 10);
    int64_t off = 0;
    while (off < have) {
      const ssize_t n = ::pread(f.fd, buf.data(), std::min<int64_t>(have - off, buf.size()), off);
      if (n <= 0) return Unavailable("cannot read " + part + ": " + std::strerror(errno));
      hash->Update(std::string_view(buf.data(), static_cast<size_t>(n)));
      off += n;
    }
    *resumed = true;
  }
  if (::lseek(f.fd, have, SEEK_SET) < 0) return Unavailable("cannot seek in " + part);

  Status sink_error;
  bool first = true;
  auto sink = [&](const BodyResponse& head, std::string_view data) {
    const bool starting = first;
    first = false;
    if (starting && head.status == 200 &&
        *resumed) {  // the server ignored the Range (or If-Range failed)
      *resumed = false;
      ++counters_.restarts;
      if (::ftruncate(f.fd, 0) != 0 || ::lseek(f.fd, 0, SEEK_SET) < 0) {
        sink_error = Unavailable("cannot truncate " + part);
        return false;
      }
      have = 0;
      hash = std::make_unique<Sha256>();
    }
    if (starting && head.status == 206 && head.range_start != have) {
      sink_error =
          Unavailable("the server answered a range from byte " + std::to_string(head.range_start) +
                      ", asked from " + std::to_string(have));
      return false;
    }
    if (have + static_cast<int64_t>(data.size()) > size) {
      sink_error =
          DataLoss("the server sent more than the manifest's " + std::to_string(size) + " bytes");
      return false;
    }
    if (Status w = WriteAll(f.fd, data, part); !w.ok()) {
      sink_error = w;
      return false;
    }
    hash->Update(data);
    have += static_cast<int64_t>(data.size());
    counters_.bytes_downloaded += static_cast<int64_t>(data.size());
    if (options_.progress && !options_.progress(digest, have)) return false;
    return true;
  };
  if (*resumed) ++counters_.resumes;
  if (have < size || size == 0) {
    auto r = http_->GetBody("/v1/artifacts/" + digest, have, have > 0 ? "\"" + digest + "\"" : "",
                            size + 1, sink);
    counters_.requests = http_->requests();
    if (!sink_error.ok()) return sink_error;
    if (!r.ok()) return r.status();
  }
  if (have != size)
    return Unavailable("the transfer ended at byte " + std::to_string(have) + " of " +
                       std::to_string(size));
  const std::string got = hash->FinalHex();
  if (got != digest) return DataLoss("content hashes to " + got + ", manifest says " + digest);
  if (::fsync(f.fd) != 0) return Unavailable("cannot fsync " + part + ": " + std::strerror(errno));
  return Status::Ok();
}

Result<FetchedArtifact> ComponentFetcher::GetArtifact(const std::string& digest, int64_t size) {
  FetchedArtifact a;
  a.digest = digest;
  a.size = size;
  bool corrupt = false;
  VQI_ASSIGN_OR_RETURN(auto cached, cache_.Lookup(digest, size, &corrupt));
  if (corrupt) ++counters_.cache_corrupt;
  if (cached) {
    ++counters_.cache_hits;
    counters_.bytes_from_cache += size;
    a.path = *cached;
    a.from_cache = true;
    return a;
  }
  const std::string part = cache_.PartPath(digest);
  bool restarted = false;
  for (int attempt = 1;; ++attempt) {
    bool resumed = false;
    Status st = DownloadOnce(digest, size, &resumed);
    if (st.ok()) break;
    std::error_code ec;
    if (st.code() == StatusCode::kDataLoss && resumed && !restarted) {
      // The part may come from a damaged earlier transfer: once more from byte 0.
      restarted = true;
      ++counters_.restarts;
      fs::remove(part, ec);
      continue;
    }
    if (IsRetryable(st) && attempt < options_.retry.attempts) {
      ++counters_.retries;
      Backoff(attempt);
      continue;
    }
    // Keep a part worth resuming (cut transfers, cancellation); drop one that is wrong.
    if (!IsRetryable(st) && st.code() != StatusCode::kCancelled) fs::remove(part, ec);
    return st;
  }
  VQI_RETURN_IF_ERROR(cache_.Commit(digest));
  a.path = cache_.BlobPath(digest);
  return a;
}

Result<FetchedComponent> ComponentFetcher::Fetch(const std::string& name,
                                                 const std::string& version) {
  VQI_RETURN_IF_ERROR(CheckName(name, "component name"));
  VQI_RETURN_IF_ERROR(CheckName(version, "component version"));
  const std::string ctx = "component " + name + "@" + version;
  auto fail = [&](const Status& st) { return st.WithContext(ctx); };
  const std::string path =
      "/v1/components/" + EscapeSegment(name) + "/versions/" + EscapeSegment(version);

  // 1. metadata
  auto meta = GetMetadata(path);
  if (!meta.ok()) return fail(meta.status());
  if (!meta->is_object()) return fail(InvalidArgument("the server's answer is not a JSON object"));
  auto manifest_text = StringField(*meta, "manifest", "metadata");
  if (!manifest_text.ok()) return fail(manifest_text.status());
  std::string sig_hex;
  if (meta->contains("signature") && (*meta)["signature"].is_string())
    sig_hex = (*meta)["signature"];
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
    return fail(PermissionDenied("the server sent the manifest of " + manifest->component + "@" +
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
    auto a = GetArtifact(m.digest, m.size);
    if (!a.ok()) return a.status().WithContext(what);
    a->name = m.name;
    a->uri = m.uri;
    a->unarchive = m.unarchive;
    out.artifacts.push_back(std::move(*a));
    digests.insert(m.digest);
  }

  // 5. the verified metadata, for the engine and for restarts
  Json record = {
      {"name", name}, {"version", version}, {"manifest", *manifest_text}, {"signature", sig_hex}};
  if (Status s = WriteFileAtomic(cache_.MetaPath(name, version), record.dump()); !s.ok())
    return fail(s);
  if (options_.cache_max_bytes > 0) {
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
