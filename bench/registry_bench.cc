// Registry operations per second on the SQLite store (WAL, synchronous=NORMAL), one process:
// Register (a version with two artifacts, metrics and lineage), SetApproval, Get,
// LatestApproved, List of a 1,000-version group, and RegisterModel end to end (blob puts of a
// 1 MB model + report, syncfs, commit). Prints one JSON line per measurement.
//
//   build/<dir>/bench/registry_bench [--quick]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "vqi/base/hash.h"
#include "vqi/blob/blob_store.h"
#include "vqi/registry/register.h"
#include "vqi/registry/store.h"

namespace reg = vqi::registry;
namespace fs = std::filesystem;

namespace {

void Measure(const char* op, int n, const std::function<bool(int)>& body) {
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    if (!body(i)) {
      std::fprintf(stderr, "%s failed at %d\n", op, i);
      std::exit(1);
    }
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("{\"op\":\"%s\",\"n\":%d,\"seconds\":%.3f,\"per_second\":%.0f}\n", op, n, s, n / s);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const int n = quick ? 200 : 1000;
  const std::string dir = (fs::temp_directory_path() / "vqi-registry-bench").string();
  fs::remove_all(dir);
  auto store = reg::OpenSqliteStore(reg::RegistryDbPath(dir));
  if (!store.ok()) return std::fprintf(stderr, "%s\n", store.status().ToString().c_str()), 1;
  reg::Store& s = **store;

  reg::NewVersion v;
  v.group = "bench";
  v.created_by = "bench";
  v.metrics = {{"map50", 0.9}, {"map50_95", 0.6}, {"precision", 0.8}, {"recall", 0.7}};
  v.lineage.train_config = {{"epochs", 100}, {"batch", 16}, {"lr0", 0.002}};
  v.lineage.split_digest = vqi::Sha256Hex("split");
  v.artifacts = {{"model.onnx", vqi::Sha256Hex("m"), 1, "application/vnd.onnx"},
                 {"report.json", vqi::Sha256Hex("r"), 1, "application/json"}};
  Measure("register", n, [&](int) { return s.Register(v).ok(); });
  Measure("approve_reject", n, [&](int i) {
    const auto to = i % 2 == 0 ? reg::ApprovalStatus::kApproved : reg::ApprovalStatus::kRejected;
    return s.SetApproval("bench", 1 + i / 2, {to, "bench", "bench"}).ok();  // approve, revoke
  });
  if (!s.SetApproval("bench", n, {reg::ApprovalStatus::kApproved, "bench", ""}).ok()) return 1;
  Measure("get", n, [&](int i) { return s.Get("bench", 1 + i % n).ok(); });
  Measure("latest_approved", n, [&](int) { return s.LatestApproved("bench").ok(); });
  Measure("list_1000", quick ? 5 : 20, [&](int) { return s.List("bench").ok(); });

  // End to end: files into the blob store, synced, then the commit.
  auto blobs = vqi::blob::BlobStore::Open(reg::ArtifactsDir(dir),
                                          {reg::kMaxArtifactBytes, vqi::blob::Durability::kBatch});
  if (!blobs.ok()) return 1;
  std::ofstream(dir + "/report.json")
      << R"({"metrics":{"map50":0.9,"map50_95":0.6,"precision":0.8,"recall":0.7}})";
  const int m = quick ? 20 : 100;
  Measure("register_model_1mb", m, [&](int i) {
    std::string bytes(1 << 20, 'x');
    std::memcpy(bytes.data(), &i, sizeof i);  // a new model each time
    std::ofstream(dir + "/model.onnx", std::ios::binary | std::ios::trunc) << bytes;
    reg::RegisterRequest q;
    q.group = "e2e";
    q.created_by = "bench";
    q.model = dir + "/model.onnx";
    q.report = dir + "/report.json";
    return reg::RegisterModel(s, **blobs, q).ok();
  });
  fs::remove_all(dir);
  return 0;
}
