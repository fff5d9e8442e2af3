// Signing and the component store: manifest sign/verify per second, and create/verify
// throughput of a component with one large artifact (issue 18).
//   component_bench [artifact MiB = 64]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "vqi/base/file.h"
#include "vqi/base/hash.h"
#include "vqi/component/package.h"
#include "vqi/signing/manifest.h"

namespace {

using Steady = std::chrono::steady_clock;
double Seconds(Steady::time_point t0) {
  return std::chrono::duration<double>(Steady::now() - t0).count();
}

int Fail(const vqi::Status& st) {
  std::fprintf(stderr, "error: %s\n", st.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  using namespace vqi;
  const int mib = argc > 1 ? std::atoi(argv[1]) : 64;
  if (mib < 1 || mib > 4096) return Fail(InvalidArgument("artifact MiB must be 1..4096"));
  std::string tmpl = (fs::temp_directory_path() / "vqi-component-bench-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) return Fail(Unavailable("mkdtemp"));
  const std::string home = tmpl;

  signing::KeyStore keys(home);
  if (auto k = keys.Create("bench"); !k.ok()) return Fail(k.status());
  signing::Manifest m;
  m.component = "vqi.model.tags";
  m.version = "1.0.0";
  m.publisher = "bench";
  m.recipe = Json{
      {"ComponentName", "vqi.model.tags"},
      {"Manifests", Json::array({Json{{"Lifecycle", {{"install", std::string(1500, 's')}}}}})}};
  m.artifacts = {{"model.onnx", "vqi://a", std::string(64, 'a'), 12000000, "NONE"},
                 {"model.int8.onnx", "vqi://b", std::string(64, 'b'), 3000000, "NONE"}};

  const int kSign = 2000;
  signing::SignedManifest signed_m;
  auto t0 = Steady::now();
  for (int i = 0; i < kSign; ++i) {
    auto s = signing::SignManifest(keys, "bench", m);
    if (!s.ok()) return Fail(s.status());
    signed_m = *s;
  }
  const double sign_s = Seconds(t0);
  auto trusted = keys.Trusted();
  if (!trusted.ok()) return Fail(trusted.status());
  const int kVerify = 10000;
  t0 = Steady::now();
  for (int i = 0; i < kVerify; ++i)
    if (Status st = signing::VerifySignature(signed_m.manifest, signed_m.signature, *trusted);
        !st.ok())
      return Fail(st);
  const double verify_s = Seconds(t0);
  std::printf(
      "manifest %zu bytes: sign (key file read + canonical + Ed25519) %.0f/s, "
      "verify (canonical + Ed25519) %.0f/s\n",
      signed_m.bytes.size(), kSign / sign_s, kVerify / verify_s);

  // One component with a `mib` MiB artifact.
  std::string big(static_cast<size_t>(mib) << 20, '\0');
  for (size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>(i * 2654435761u >> 24);
  if (Status st = WriteFileAtomic(home + "/in/model.onnx", big); !st.ok()) return Fail(st);
  big.clear();
  big.shrink_to_fit();
  if (Status st = WriteFileAtomic(home + "/in/recipe.json",
                                  R"({"RecipeFormatVersion":"2020-01-25","ComponentName":"c",
      "ComponentVersion":"1.0.0","Manifests":[{"Artifacts":[{"Uri":"s3://b/model.onnx"}]}]})");
      !st.ok())
    return Fail(st);
  auto store = component::OpenSqliteStore(component::ComponentsDbPath(home));
  if (!store.ok()) return Fail(store.status());
  blob::BlobStoreOptions o;
  o.max_blob_bytes = component::kMaxArtifactBytes;
  o.durability = blob::Durability::kBatch;
  auto blobs = blob::BlobStore::Open(component::ArtifactsDir(home), o);
  if (!blobs.ok()) return Fail(blobs.status());
  component::PackageEnv env{store->get(), blobs->get(), &keys};
  component::CreateRequest req{home + "/in/recipe.json", {home + "/in/model.onnx"}, {}, "bench"};
  t0 = Steady::now();
  auto created = component::CreateComponent(env, req);
  if (!created.ok()) return Fail(created.status());
  const double create_s = Seconds(t0);
  t0 = Steady::now();
  if (Status st = component::VerifyComponent(**store, **blobs, "c", "1.0.0", *trusted); !st.ok())
    return Fail(st);
  const double cverify_s = Seconds(t0);
  std::printf(
      "component with a %d MiB artifact: create %.2f s (%.0f MiB/s: hash, copy, sync, sign, "
      "commit), verify %.2f s (%.0f MiB/s: re-hash + signature)\n",
      mib, create_s, mib / create_s, cverify_s, mib / cverify_s);
  std::error_code ec;
  fs::remove_all(home, ec);
  return 0;
}
