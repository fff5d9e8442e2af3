// `vqi store verify|gc` as library calls: a flipped byte and a missing blob are found; gc keeps
// what any source references, removes the rest, refuses when a source fails, and waits for a
// registration holding the artifact lock.
#include "vqi/registry/artifacts.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "vqi/base/hash.h"
#include "vqi/blob/blob_store.h"

namespace vqi::registry {
namespace {
namespace fs = std::filesystem;

class FakeSource : public ReferenceSource {
 public:
  FakeSource(std::string name, std::set<std::string> refs) : name_(name), refs_(refs) {}
  std::string SourceName() const override { return name_; }
  Result<std::set<std::string>> ReferencedDigests() override {
    if (!fail_.ok()) return fail_;
    return refs_;
  }
  std::string name_;
  std::set<std::string> refs_;
  Status fail_;
};

class ArtifactsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "vqi-artifacts-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto b = blob::BlobStore::Open(dir_ + "/artifacts", {kMaxArtifactBytes});
    ASSERT_TRUE(b.ok());
    blobs_ = std::move(*b);
    for (const char* s : {"model a", "model b", "report", "component zip"})
      digests_.push_back(blobs_->Put(s)->digest);
  }
  void TearDown() override { fs::remove_all(dir_); }
  const ArtifactLock& Lock() {
    if (!lock_) {
      auto l = ArtifactLock::Exclusive(blobs_->dir());
      EXPECT_TRUE(l.ok());
      lock_ = std::make_unique<ArtifactLock>(std::move(l).value());
    }
    return *lock_;
  }

  std::string dir_;
  std::unique_ptr<blob::BlobStore> blobs_;
  std::vector<std::string> digests_;
  std::unique_ptr<ArtifactLock> lock_;
};

TEST_F(ArtifactsTest, VerifyFindsAFlippedByteAndAMissingBlob) {
  FakeSource reg("registry", {digests_[0], digests_[1], Sha256Hex("never stored")});
  auto clean = VerifyArtifacts(*blobs_, {});
  ASSERT_TRUE(clean.ok());
  EXPECT_TRUE(clean->ok());
  EXPECT_EQ(clean->blobs, 4);

  const std::string path = *blobs_->Path(digests_[1]);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(3);
    f.put('X');  // "modXl b"
  }
  auto c = VerifyArtifacts(*blobs_, {&reg});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE(c->ok());
  ASSERT_EQ(c->corrupt.size(), 1u);
  EXPECT_NE(c->corrupt[0].find(path), std::string::npos);
  EXPECT_NE(c->corrupt[0].find(Sha256Hex("modXl b")), std::string::npos);
  ASSERT_EQ(c->missing.size(), 1u);
  EXPECT_EQ(c->missing[0], Sha256Hex("never stored") + " (referenced by registry)");
}

TEST_F(ArtifactsTest, GcKeepsWhatAnySourceReferencesAndRemovesTheRest) {
  FakeSource reg("registry", {digests_[0], digests_[2]});
  FakeSource comp("components", {digests_[3]});
  auto dry = CollectArtifacts(*blobs_, {&reg, &comp}, /*dry_run=*/true, Lock());
  ASSERT_TRUE(dry.ok()) << dry.status().ToString();
  EXPECT_EQ(dry->removed, 1);
  EXPECT_EQ(dry->kept, 3);
  EXPECT_EQ(dry->removed_digests, std::vector<std::string>{digests_[1]});
  EXPECT_EQ(dry->bytes_freed, 7);
  EXPECT_TRUE(*blobs_->Exists(digests_[1]));  // dry run: nothing deleted

  auto gc = CollectArtifacts(*blobs_, {&reg, &comp}, false, Lock());
  ASSERT_TRUE(gc.ok());
  EXPECT_EQ(gc->removed, 1);
  EXPECT_EQ(gc->kept, 3);
  EXPECT_FALSE(*blobs_->Exists(digests_[1]));
  for (int i : {0, 2, 3}) EXPECT_TRUE(*blobs_->Exists(digests_[i])) << i;
}

TEST_F(ArtifactsTest, GcRefusesWhenASourceCannotBeRead) {
  FakeSource reg("registry", {});
  FakeSource comp("components", {});
  comp.fail_ = DataLoss("components.db is damaged");
  auto gc = CollectArtifacts(*blobs_, {&reg, &comp}, false, Lock());
  EXPECT_EQ(gc.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(gc.status().message().find("cannot read the references of components"),
            std::string::npos);
  for (const std::string& d : digests_) EXPECT_TRUE(*blobs_->Exists(d));
}

TEST_F(ArtifactsTest, GcWaitsForAWriterHoldingTheLock) {
  auto shared = ArtifactLock::Shared(blobs_->dir());
  ASSERT_TRUE(shared.ok());
  // Another process (flock is per open file description) cannot take it exclusively.
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto ex = ArtifactLock::Exclusive(blobs_->dir(), 200);
    _exit(!ex.ok() && ex.status().code() == StatusCode::kUnavailable ? 0 : 1);
  }
  int st = 0;
  ASSERT_EQ(waitpid(pid, &st, 0), pid);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  // A second shared holder is fine.
  EXPECT_TRUE(ArtifactLock::Shared(blobs_->dir(), 200).ok());
}

TEST_F(ArtifactsTest, SourcesOfAHome) {
  const std::string home = dir_;
  const KnownSource components{"components", "components/components.db", nullptr};
  // Neither database exists: nothing references anything.
  auto none = OpenReferenceSources(home, {RegistrySource(), components});
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());
  // The registry exists: it is opened and read.
  ASSERT_TRUE(OpenSqliteStore(RegistryDbPath(home)).ok());
  auto one = OpenReferenceSources(home, {RegistrySource(), components});
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0]->SourceName(), "registry");
  EXPECT_TRUE((*one)[0]->ReferencedDigests()->empty());
  // A component database this build cannot read: refuse (gc must not run).
  fs::create_directories(home + "/components");
  std::ofstream(home + "/components/components.db") << "x";
  auto refused = OpenReferenceSources(home, {RegistrySource(), components});
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("cannot read its references"), std::string::npos);
  // A damaged registry database: refuse too.
  fs::remove(home + "/components/components.db");
  std::ofstream(RegistryDbPath(home), std::ios::trunc) << std::string(4096, 'j');
  auto damaged = OpenReferenceSources(home, {RegistrySource()});
  EXPECT_EQ(damaged.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(damaged.status().message().find("DataLoss"), std::string::npos)
      << damaged.status().message();
}

}  // namespace
}  // namespace vqi::registry
