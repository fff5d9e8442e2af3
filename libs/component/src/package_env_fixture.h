// Test support: a temporary vqi home with a publisher key ("acme"), the component store and the
// blob store, as PackageModel and ComponentFromModel need them (PackageEnv env_).
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "vqi/component/package.h"

namespace vqi::component {

class PackageEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t = (std::filesystem::temp_directory_path() / "vqi-package-XXXXXX").string();
    ASSERT_NE(::mkdtemp(t.data()), nullptr);
    home_ = t;
    keys_ = signing::KeyStore(home_);
    ASSERT_TRUE(keys_.Create("acme").ok());
    auto s = OpenSqliteStore(ComponentsDbPath(home_));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    blob::BlobStoreOptions o;
    o.max_blob_bytes = kMaxArtifactBytes;
    auto b = blob::BlobStore::Open(ArtifactsDir(home_), o);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    blobs_ = std::move(b).value();
    env_ = {store_.get(), blobs_.get(), &keys_};
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(home_, ec);
  }

  std::string home_;
  signing::KeyStore keys_{"/nonexistent"};
  std::unique_ptr<Store> store_;
  std::unique_ptr<blob::BlobStore> blobs_;
  PackageEnv env_;
};

}  // namespace vqi::component
