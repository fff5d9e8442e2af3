#include "vqi/component/store.h"

#include <filesystem>

#include "gtest/gtest.h"
#include "vqi/base/hash.h"

namespace vqi::component {
namespace {

class TempHome {
 public:
  TempHome() {
    std::string t = (std::filesystem::temp_directory_path() / "vqi-cstore-XXXXXX").string();
    path_ = ::mkdtemp(t.data()) ? t : "";
  }
  ~TempHome() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

StoredComponent Sample(const std::string& name, const std::string& version, char sig = 's') {
  StoredComponent c;
  c.name = name;
  c.version = version;
  c.publisher = "Acme";
  c.key_id = "0123456789abcdef";
  c.recipe_json = R"({"ComponentName":")" + name + R"("})";
  c.recipe_text = "ComponentName: " + name + "\n";
  c.artifacts = {{"run.sh", "s3://b/run.sh", Sha256Hex("run"), 3, "NONE"},
                 {"model.onnx", "s3://b/model.onnx", Sha256Hex(name + version), 9, "NONE"}};
  c.manifest = "manifest of " + name + "@" + version;
  c.signature = std::string(64, sig);
  return c;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = OpenSqliteStore(ComponentsDbPath(home_.path()), {true, &clock_});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  TempHome home_;
  FakeClock clock_{1796538600000};
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, PutGetRoundTrip) {
  auto put = store_->Put(Sample("com.acme.app", "1.0.0"));
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_TRUE(put->created);
  EXPECT_EQ(put->component.created, "2026-12-06T06:30:00Z");
  auto got = store_->Get("com.acme.app", "1.0.0");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  const StoredComponent want = Sample("com.acme.app", "1.0.0");
  EXPECT_EQ(got->recipe_json, want.recipe_json);
  EXPECT_EQ(got->recipe_text, want.recipe_text);
  EXPECT_EQ(got->manifest, want.manifest);
  EXPECT_EQ(got->signature, want.signature);
  ASSERT_EQ(got->artifacts.size(), 2u);
  EXPECT_EQ(got->artifacts[0], want.artifacts[1]);  // sorted by name
  EXPECT_EQ(got->artifacts[1], want.artifacts[0]);
}

TEST_F(StoreTest, VersionsAreImmutable) {
  ASSERT_TRUE(store_->Put(Sample("c", "1.0.0")).ok());
  clock_.Advance(60000);
  // Byte-identical: a no-op that returns what is stored.
  auto same = store_->Put(Sample("c", "1.0.0"));
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_FALSE(same->created);
  EXPECT_EQ(same->component.created, "2026-12-06T06:30:00Z");
  // Anything different: refused, the stored version unchanged.
  StoredComponent other = Sample("c", "1.0.0", 't');
  other.manifest += " changed";
  auto r = store_->Put(other);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(r.status().message().find("component c@1.0.0 is already stored"), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("versions are immutable"), std::string::npos);
  EXPECT_EQ(store_->Get("c", "1.0.0")->signature, std::string(64, 's'));
}

TEST_F(StoreTest, RefusesUnsignedAndMalformed) {
  StoredComponent c = Sample("c", "1.0.0");
  c.signature.clear();
  auto r = store_->Put(c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("signed components only"), std::string::npos);
  c = Sample("c", "1.0.0");
  c.artifacts[1].name = "run.sh";
  EXPECT_EQ(store_->Put(c).status().code(), StatusCode::kInvalidArgument);
  c = Sample("c", "1.0.0");
  c.artifacts[0].digest = "../../etc/passwd";
  EXPECT_EQ(store_->Put(c).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Get("c", "1.0.0").status().code(), StatusCode::kNotFound);
}

TEST_F(StoreTest, VersionsListAndReferences) {
  for (const char* v : {"1.0.10", "1.0.9", "1.0.0", "1.0.0-rc.1", "2.0.0"})
    ASSERT_TRUE(store_->Put(Sample("vqi.model.tags", v)).ok()) << v;
  ASSERT_TRUE(store_->Put(Sample("vqi.inference", "0.1.0")).ok());
  auto versions = store_->Versions("vqi.model.tags");
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(*versions,
            (std::vector<std::string>{"1.0.0-rc.1", "1.0.0", "1.0.9", "1.0.10", "2.0.0"}));
  auto all = store_->List("");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "vqi.inference");
  EXPECT_EQ((*all)[1].latest, "2.0.0");
  auto filtered = store_->List("model");
  ASSERT_TRUE(filtered.ok());
  ASSERT_EQ(filtered->size(), 1u);
  EXPECT_EQ((*filtered)[0].versions.size(), 5u);

  auto missing = store_->Get("vqi.model.tags", "3.0.0");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("versions: 1.0.0-rc.1, 1.0.0, 1.0.9"),
            std::string::npos)
      << missing.status().message();
  EXPECT_EQ(store_->Versions("nope").status().code(), StatusCode::kNotFound);

  auto refs = store_->ReferencedDigests();
  ASSERT_TRUE(refs.ok());
  EXPECT_EQ(refs->size(), 7u);  // run.sh shared by all + one model per version
  EXPECT_TRUE(refs->count(Sha256Hex("run")));
  EXPECT_TRUE(refs->count(Sha256Hex(std::string("vqi.inference") + "0.1.0")));
}

TEST(VersionLessTest, SemanticOrder) {
  EXPECT_TRUE(VersionLess("1.0.9", "1.0.10"));
  EXPECT_TRUE(VersionLess("1.0.0-alpha", "1.0.0-alpha.1"));
  EXPECT_TRUE(VersionLess("1.0.0-alpha.1", "1.0.0-alpha.beta"));
  EXPECT_TRUE(VersionLess("1.0.0-beta.2", "1.0.0-beta.11"));
  EXPECT_TRUE(VersionLess("1.0.0-rc.1", "1.0.0"));
  EXPECT_FALSE(VersionLess("1.0.0", "1.0.0"));
  EXPECT_TRUE(VersionLess("9.9.9", "not-a-version"));
  EXPECT_FALSE(VersionLess("not-a-version", "9.9.9"));
}

}  // namespace
}  // namespace vqi::component
