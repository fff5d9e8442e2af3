#include <sys/stat.h>

#include <filesystem>

#include "gtest/gtest.h"
#include "test_util.h"
#include "vqi/base/file.h"
#include "vqi/base/hash.h"
#include "vqi/base/json.h"
#include "vqi/signing/encoding.h"
#include "vqi/signing/keys.h"

namespace vqi::signing {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

unsigned Mode(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

TEST(KeyStoreTest, CreateWritesPrivateSecretAndListsTheKey) {
  TempDir home;
  FakeClock clock(1796538600000);  // 2026-12-06T06:30:00Z
  KeyStore keys(home.path(), clock);
  auto info = keys.Create("acme-release");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(Mode(home.path() + "/keys/acme-release.key"), 0600u);
  EXPECT_EQ(Mode(home.path() + "/keys"), 0700u);
  EXPECT_TRUE(FileExists(home.path() + "/keys/acme-release.pub"));
  EXPECT_EQ(info->created, "2026-12-06T06:30:00Z");

  auto pub = keys.Public("acme-release");
  ASSERT_TRUE(pub.ok()) << pub.status().ToString();
  ASSERT_EQ(pub->bytes.size(), kPublicKeyBytes);
  EXPECT_EQ(info->key_id, Sha256Hex(pub->bytes).substr(0, 16));
  EXPECT_EQ(info->public_key_hex, ToHex(pub->bytes));

  auto list = keys.List();
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].name, "acme-release");
  EXPECT_EQ((*list)[0].key_id, info->key_id);
  EXPECT_TRUE((*list)[0].has_secret);
  EXPECT_FALSE((*list)[0].trusted_only);

  auto by_id = keys.Public(info->key_id);
  ASSERT_TRUE(by_id.ok()) << by_id.status().ToString();
  EXPECT_EQ(by_id->name, "acme-release");
}

TEST(KeyStoreTest, CreateNeverOverwrites) {
  TempDir home;
  KeyStore keys(home.path());
  ASSERT_TRUE(keys.Create("k1").ok());
  auto before = ReadFile(home.path() + "/keys/k1.key");
  ASSERT_TRUE(before.ok());
  auto again = keys.Create("k1");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(again.status().message().find("key 'k1' already exists"), std::string::npos)
      << again.status().message();
  EXPECT_EQ(*ReadFile(home.path() + "/keys/k1.key"), *before);
}

TEST(KeyStoreTest, HostileNamesAreRefusedAndWriteNothing) {
  TempDir home;
  KeyStore keys(home.path());
  for (const std::string& name :
       {std::string(""), std::string("../evil"), std::string("a/b"), std::string(".hidden"),
        std::string("-rf"), std::string("a b"), std::string("x\n"), std::string(65, 'a'),
        std::string("\xff\xfe"), std::string("nul\0x", 5), std::string("..")}) {
    auto r = keys.Create(name);
    ASSERT_FALSE(r.ok()) << "accepted: " << name;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << name;
    EXPECT_NE(r.status().message().find("[A-Za-z0-9._-]"), std::string::npos)
        << r.status().message();
    EXPECT_FALSE(keys.Sign(name, "x").ok());
  }
  EXPECT_FALSE(fs::exists(home.path() + "/keys"));
  EXPECT_FALSE(fs::exists(home.path() + "/evil.key"));
  EXPECT_TRUE(keys.Create(std::string(64, 'a')).ok());  // the longest accepted name
  EXPECT_TRUE(keys.Create("A.b_c-9").ok());
}

TEST(KeyStoreTest, SignRefusesASecretKeyReadableByOthers) {
  TempDir home;
  KeyStore keys(home.path());
  ASSERT_TRUE(keys.Create("k").ok());
  const std::string secret = home.path() + "/keys/k.key";
  ASSERT_TRUE(keys.Sign("k", "hello").ok());
  for (unsigned mode : {0644u, 0640u, 0604u, 0620u}) {
    ASSERT_EQ(::chmod(secret.c_str(), mode), 0);
    auto sig = keys.Sign("k", "hello");
    ASSERT_FALSE(sig.ok());
    EXPECT_EQ(sig.status().code(), StatusCode::kPermissionDenied);
    char expect[16];
    std::snprintf(expect, sizeof expect, "mode %04o", mode);
    EXPECT_NE(sig.status().message().find(expect), std::string::npos) << sig.status().message();
    EXPECT_NE(sig.status().message().find("chmod 600 " + secret), std::string::npos);
  }
  ASSERT_EQ(::chmod(secret.c_str(), 0400), 0);
  auto sig = keys.Sign("k", "hello");
  ASSERT_TRUE(sig.ok()) << sig.status().ToString();
  EXPECT_EQ(sig->size(), kSignatureBytes);
}

TEST(KeyStoreTest, SignWithUnknownKeyNamesTheFix) {
  TempDir home;
  KeyStore keys(home.path());
  auto sig = keys.Sign("nobody", "x");
  ASSERT_FALSE(sig.ok());
  EXPECT_EQ(sig.status().code(), StatusCode::kNotFound);
  EXPECT_NE(sig.status().message().find("vqi key create nobody"), std::string::npos);
}

TEST(KeyStoreTest, EditedSecretKeyFileIsDataLoss) {
  TempDir home;
  KeyStore keys(home.path());
  ASSERT_TRUE(keys.Create("a").ok());
  ASSERT_TRUE(keys.Create("b").ok());
  // Put b's public half into a's secret key file: the halves no longer belong together.
  auto a = ParseJson(*ReadFile(home.path() + "/keys/a.key"));
  auto b = ParseJson(*ReadFile(home.path() + "/keys/b.pub"));
  ASSERT_TRUE(a.ok() && b.ok());
  (*a)["public_key"] = (*b)["public_key"];
  (*a)["key_id"] = (*b)["key_id"];
  const std::string path = home.path() + "/keys/a.key";
  ASSERT_TRUE(WriteFileAtomic(path, a->dump()).ok());
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  auto sig = keys.Sign("a", "x");
  ASSERT_FALSE(sig.ok());
  EXPECT_EQ(sig.status().code(), StatusCode::kDataLoss) << sig.status().ToString();
}

TEST(KeyStoreTest, TrustAnExportedPublicKey) {
  TempDir publisher, device;
  KeyStore pub_keys(publisher.path());
  auto created = pub_keys.Create("acme");
  ASSERT_TRUE(created.ok());
  auto exported = pub_keys.ExportPublic("acme");
  ASSERT_TRUE(exported.ok()) << exported.status().ToString();
  EXPECT_EQ(exported->find("secret"), std::string::npos);
  const std::string file = device.path() + "/acme.pub";
  ASSERT_TRUE(WriteFileAtomic(file, *exported).ok());

  KeyStore dev_keys(device.path() + "/home");
  auto t = dev_keys.Trust("acme-co", file);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->key_id, created->key_id);
  EXPECT_TRUE(t->trusted_only);
  auto trusted = dev_keys.Trusted();
  ASSERT_TRUE(trusted.ok());
  ASSERT_EQ(trusted->count(created->key_id), 1u);
  EXPECT_EQ(trusted->at(created->key_id).name, "acme-co");
  EXPECT_FALSE(dev_keys.Sign("acme-co", "x").ok());   // a device holds no secret
  EXPECT_TRUE(dev_keys.Trust("acme-co", file).ok());  // same key again: a no-op

  ASSERT_TRUE(pub_keys.Create("other").ok());
  ASSERT_TRUE(WriteFileAtomic(file, *pub_keys.ExportPublic("other")).ok());
  auto clash = dev_keys.Trust("acme-co", file);
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(clash.status().message().find(created->key_id), std::string::npos);
}

TEST(KeyStoreTest, TrustRefusesMalformedPublicKeyFiles) {
  TempDir home;
  KeyStore keys(home.path());
  ASSERT_TRUE(keys.Create("acme").ok());
  auto good = ParseJson(*keys.ExportPublic("acme"));
  ASSERT_TRUE(good.ok());
  const std::string file = home.path() + "/in.pub";
  struct Case {
    std::string text, expect;
  };
  Json wrong_id = *good;
  wrong_id["key_id"] = "0000000000000000";
  Json short_key = *good;
  short_key["public_key"] = "abcd";
  Json secret_format = *good;
  secret_format["format"] = "vqi-secret-key/1";
  for (const Case& c : {Case{"not json", "in.pub"}, Case{"[]", "not a JSON object"},
                        Case{wrong_id.dump(), "does not match the public key"},
                        Case{short_key.dump(), "public_key: expected 64 hex digits"},
                        Case{secret_format.dump(), "is not 'vqi-public-key/1'"}}) {
    ASSERT_TRUE(WriteFileAtomic(file, c.text).ok());
    auto r = keys.Trust("x", file);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos) << r.status().message();
  }
  EXPECT_FALSE(fs::exists(home.path() + "/keys/trusted/x.pub"));
}

TEST(KeyStoreTest, Rfc3339) {
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(951782400999), "2000-02-29T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(-1), "1969-12-31T23:59:59Z");
}

}  // namespace
}  // namespace vqi::signing
