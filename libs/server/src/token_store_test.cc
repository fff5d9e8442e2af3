#include "vqi/server/token_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "vqi/base/file.h"

namespace vqi::server {
namespace {

class TokenStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = std::filesystem::temp_directory_path() /
            ("vqi_tokens_" + std::to_string(getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(home_);
    auto s = OpenTokenStore(home_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(home_);
  }
  std::string home_;
  std::unique_ptr<TokenStore> store_;
};

TEST_F(TokenStoreTest, CreateThenAuthenticate) {
  auto t = store_->Create("ci", Scope::kWrite);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->token.size(), 4u + 12 + 1 + 64);
  EXPECT_EQ(t->token.rfind("vqi_" + t->info.id + "_", 0), 0u);
  auto a = store_->Authenticate(t->token);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->name, "ci");
  EXPECT_EQ(a->scope, Scope::kWrite);
}

TEST_F(TokenStoreTest, TheTokenIsNotStored) {
  auto t = store_->Create("ci", Scope::kAdmin);
  ASSERT_TRUE(t.ok());
  auto bytes = ReadFile(home_ + "/server/tokens.db");
  ASSERT_TRUE(bytes.ok());
  const std::string secret = t->token.substr(t->token.rfind('_') + 1);
  EXPECT_EQ(bytes->find(secret), std::string::npos);
  EXPECT_EQ(bytes->find(t->token), std::string::npos);
}

TEST_F(TokenStoreTest, WrongSecretUnknownIdAndMalformedAreRefused) {
  auto t = store_->Create("ci", Scope::kRead);
  ASSERT_TRUE(t.ok());
  std::string wrong = t->token;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  EXPECT_EQ(store_->Authenticate(wrong).status().code(), StatusCode::kPermissionDenied);
  std::string other_id = t->token;
  other_id[4] = other_id[4] == '0' ? '1' : '0';
  EXPECT_EQ(store_->Authenticate(other_id).status().code(), StatusCode::kPermissionDenied);
  for (const char* bad : {"", "vqi_", "Bearer x", "vqi_zzzzzzzzzzzz_"})
    EXPECT_EQ(store_->Authenticate(bad).status().code(), StatusCode::kPermissionDenied) << bad;
  std::string upper = t->token;
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  EXPECT_FALSE(store_->Authenticate(upper).ok());
}

TEST_F(TokenStoreTest, RevokeByNameOrId) {
  auto a = store_->Create("a", Scope::kRead);
  auto b = store_->Create("b", Scope::kDevice);
  ASSERT_TRUE(a.ok() && b.ok());
  auto ra = store_->Revoke("a");
  ASSERT_TRUE(ra.ok()) << ra.status().ToString();
  EXPECT_TRUE(ra->revoked_at.has_value());
  EXPECT_EQ(store_->Authenticate(a->token).status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(store_->Authenticate(b->token).ok());
  ASSERT_TRUE(store_->Revoke(b->info.id).ok());
  EXPECT_FALSE(store_->Authenticate(b->token).ok());
  EXPECT_TRUE(store_->Revoke("a").ok());  // twice: unchanged
  EXPECT_EQ(store_->Revoke("nope").status().code(), StatusCode::kNotFound);
}

TEST_F(TokenStoreTest, NamesAreUniqueAndValidated) {
  ASSERT_TRUE(store_->Create("ci", Scope::kRead).ok());
  EXPECT_EQ(store_->Create("ci", Scope::kWrite).status().code(), StatusCode::kAlreadyExists);
  for (const char* bad : {"", "a b", "x/y", "é"})
    EXPECT_EQ(store_->Create(bad, Scope::kRead).status().code(), StatusCode::kInvalidArgument)
        << bad;
  EXPECT_FALSE(store_->Create(std::string(65, 'a'), Scope::kRead).ok());
  EXPECT_TRUE(store_->Create(std::string(64, 'a'), Scope::kRead).ok());
}

TEST_F(TokenStoreTest, ListAndReopen) {
  ASSERT_TRUE(store_->Create("one", Scope::kRead).ok());
  auto two = store_->Create("two", Scope::kAdmin);
  ASSERT_TRUE(two.ok());
  store_.reset();
  auto s = OpenTokenStore(home_);
  ASSERT_TRUE(s.ok());
  auto list = (*s)->List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "one");
  EXPECT_EQ((*list)[1].scope, Scope::kAdmin);
  EXPECT_TRUE((*s)->Authenticate(two->token).ok());
}

}  // namespace
}  // namespace vqi::server
