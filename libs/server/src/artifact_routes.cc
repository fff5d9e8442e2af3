// GET/HEAD /v1/artifacts/{sha256} (streamed, Range, ETag) and PUT/POST /v1/artifacts (upload).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <vector>

#include "connection.h"
#include "context.h"
#include "vqi/base/clock.h"
#include "vqi/base/hash.h"
#include "vqi/blob/blob_store.h"
#include "vqi/server/http_error.h"
#include "vqi/server/range.h"
#ifdef VQI_SERVER_WITH_REGISTRY
#include "vqi/registry/artifacts.h"
#endif

namespace vqi::server {
namespace {

constexpr size_t kChunk = 256 * 1024;

// The file of blob `digest` in the blob store, whatever extension it was stored with.
Result<std::string> FindBlob(const std::string& dir, const std::string& digest) {
  const std::string shard = dir + "/" + digest.substr(0, 2);
  const std::string plain = shard + "/" + digest;
  struct stat st;
  if (::stat(plain.c_str(), &st) == 0 && S_ISREG(st.st_mode)) return plain;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(shard, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() > digest.size() + 1 && name.compare(0, digest.size(), digest) == 0 &&
        name[digest.size()] == '.' && e.is_regular_file(ec))
      return e.path().string();
  }
  return NotFound("no artifact " + digest);
}

// Whether an If-None-Match value (a list of entity tags, or *) names `etag`.
bool NoneMatchHits(const std::string& header, const std::string& etag) {
  size_t i = 0;
  while (i < header.size()) {
    size_t j = header.find(',', i);
    if (j == std::string::npos) j = header.size();
    std::string tag = header.substr(i, j - i);
    while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) tag.erase(0, 1);
    while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) tag.pop_back();
    if (tag.rfind("W/", 0) == 0) tag.erase(0, 2);  // weak comparison (RFC 9110 §13.1.2)
    if (tag == "*" || tag == etag) return true;
    i = j + 1;
  }
  return false;
}

Status GetArtifact(ServerContext& ctx, Call& call) {
  const std::string& digest = call.Param("sha256");
  if (!blob::IsDigest(digest))
    return InvalidArgument("artifact id '" + digest +
                           "' is not a SHA-256 (64 lowercase hex digits)");
  VQI_ASSIGN_OR_RETURN(std::string path, FindBlob(ctx.artifacts_dir, digest));
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Unavailable("cannot open artifact " + digest + ": " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return Unavailable("cannot stat artifact " + digest);
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  const std::string etag = "\"" + digest + "\"";
  auto& res = call.res;
  res.set_header("ETag", etag);
  res.set_header("Accept-Ranges", "bytes");
  res.set_header("Cache-Control", "public, max-age=31536000, immutable");

  if (call.req.has_header("If-None-Match") &&
      NoneMatchHits(call.req.get_header_value("If-None-Match"), etag)) {
    ::close(fd);
    res.status = 304;
    return Status::Ok();
  }
  // If-Range with another validator: the representation changed, send it whole. (A blob never
  // changes, so only a tag of another artifact gets here.)
  std::string range_header = call.req.get_header_value("Range");
  if (call.req.has_header("If-Range") && call.req.get_header_value("If-Range") != etag)
    range_header.clear();
  const ByteRange range = ParseRange(range_header, size);
  if (range.kind == ByteRange::Kind::kUnsatisfiable) {
    ::close(fd);
    res.set_header("Content-Range", ContentRange(range, size));
    call.Reply(416, ErrorJson("range_not_satisfiable",
                              "Range '" + range_header + "' selects no byte of artifact " + digest +
                                  " (" + std::to_string(size) + " bytes)"));
    return Status::Ok();
  }
  uint64_t offset = 0, length = size;
  res.status = 200;
  if (range.kind == ByteRange::Kind::kPartial) {
    offset = range.offset;
    length = range.length;
    res.status = 206;
    res.set_header("Content-Range", ContentRange(range, size));
  }
  if (length == 0) {  // an empty artifact (httplib's providers need a length > 0)
    ::close(fd);
    res.set_content("", "application/octet-stream");
    return Status::Ok();
  }
  auto buf = std::make_shared<std::vector<char>>(kChunk);
  res.set_content_provider(
      length, "application/octet-stream",
      [fd, offset, buf](size_t off, size_t len, httplib::DataSink& sink) {
        ConnectionStream* conn = CurrentConnection();
        if (conn && !conn->tls()) {  // plain HTTP: sendfile, no copy (connection.h)
          conn->SetFileWindow(fd, offset + off);
          const bool ok = sink.write(SendfileWindow(), std::min(len, kSendfileWindowBytes));
          conn->ClearFileWindow();
          return ok;
        }
        const size_t want = std::min(len, buf->size());
        const ssize_t n = ::pread(fd, buf->data(), want, static_cast<off_t>(offset + off));
        if (n <= 0) return false;  // the file shrank or an I/O error: the response is cut
        return sink.write(buf->data(), static_cast<size_t>(n));
      },
      [fd](bool /*success*/) { ::close(fd); });
  return Status::Ok();
}

Status PutArtifact(ServerContext& ctx, Call& call) {
  std::string expected;
  if (call.req.has_param("sha256")) {
    expected = call.req.get_param_value("sha256");
    if (!blob::IsDigest(expected))
      return InvalidArgument("query parameter sha256='" + expected +
                             "' is not a SHA-256 (64 lowercase hex digits)");
  }
  std::string tmpl = ctx.uploads_dir + "/upload-XXXXXX";
  const int fd = ::mkstemp(tmpl.data());
  if (fd < 0) return Unavailable("cannot create a temporary file in " + ctx.uploads_dir);
  const std::string tmp = tmpl;
  struct Cleanup {
    int fd;
    std::string path;
    ~Cleanup() {
      if (fd >= 0) ::close(fd);
      ::unlink(path.c_str());
    }
  } cleanup{fd, tmp};

  Sha256 hash;
  int64_t received = 0;
  bool write_failed = false;
  const bool complete = (*call.reader)([&](const char* data, size_t n) {
    received += static_cast<int64_t>(n);
    if (received > ctx.options.max_upload_bytes) return false;
    if (!expected.empty()) hash.Update(std::string_view(data, n));  // PutFile hashes anyway
    for (size_t done = 0; done < n;) {
      const ssize_t w = ::write(fd, data + done, n - done);
      if (w < 0) {
        if (errno == EINTR) continue;
        write_failed = true;
        return false;
      }
      done += static_cast<size_t>(w);
    }
    return true;
  });
  if (received > ctx.options.max_upload_bytes)
    return ResourceExhausted("upload larger than the limit of " +
                             std::to_string(ctx.options.max_upload_bytes) +
                             " bytes (--max-upload-bytes, docs/limits.md)");
  if (write_failed) return Unavailable("cannot write the upload to " + tmp + ": disk full?");
  if (!complete) return InvalidArgument("the upload ended before its Content-Length");
  const std::string digest = expected.empty() ? "" : hash.FinalHex();
  if (!expected.empty() && expected != digest)
    return InvalidArgument("the upload hashes to " + digest + ", not to sha256=" + expected +
                           "; nothing stored");

  blob::BlobStoreOptions bo;
  bo.max_blob_bytes = ctx.options.max_upload_bytes;
  VQI_ASSIGN_OR_RETURN(auto store, blob::BlobStore::Open(ctx.artifacts_dir, bo));
#ifdef VQI_SERVER_WITH_REGISTRY
  // `vqi store gc` must not run while the blob is being put (registry's lock protocol).
  VQI_ASSIGN_OR_RETURN(registry::ArtifactLock lock,
                       registry::ArtifactLock::Shared(ctx.artifacts_dir));
#endif
  VQI_ASSIGN_OR_RETURN(blob::PutResult put, store->PutFile(tmp));
  // Recorded while the artifact lock is held, so a gc cannot slip in between the put and the
  // record (the upload log is a gc reference source for kUploadRetention).
  VQI_RETURN_IF_ERROR(ctx.uploads->Record(put.digest, put.size,
                                          call.token ? "token:" + call.token->name : "anonymous",
                                          RealClock().NowMs()));
  call.res.set_header("Location", "/v1/artifacts/" + put.digest);
  call.Reply(put.created ? 201 : 200, Json{{"sha256", put.digest},
                                           {"size", put.size},
                                           {"created", put.created},
                                           {"url", "/v1/artifacts/" + put.digest}});
  return Status::Ok();
}

}  // namespace

void AddArtifactRoutes(Router& router, ServerContext& ctx) {
  const Json artifact_schema = {{"type", "object"},
                                {"properties",
                                 {{"sha256", {{"type", "string"}}},
                                  {"size", {{"type", "integer"}}},
                                  {"created", {{"type", "boolean"}}},
                                  {"url", {{"type", "string"}}}}}};
  router.Add({"GET",
              "/v1/artifacts/{sha256}",
              Access::kReadOrDevice,
              Body::kNone,
              "artifacts",
              "Download an artifact by its SHA-256 (Range, ETag, If-None-Match; HEAD too)",
              200,
              nullptr,
              {{"type", "string"}, {"format", "binary"}},
              [&ctx](Call& c) { return GetArtifact(ctx, c); }});
  for (const char* method : {"PUT", "POST"})
    router.Add({method, "/v1/artifacts", Access::kWrite, Body::kStream, "artifacts",
                "Upload an artifact (raw bytes; optional ?sha256= to check)", 201, nullptr,
                artifact_schema, [&ctx](Call& c) { return PutArtifact(ctx, c); }});
}

}  // namespace vqi::server
