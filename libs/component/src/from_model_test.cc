// from-model against the real registry store: the latest Approved version is packaged once.
#include "vqi/component/from_model.h"

#include <filesystem>

#include "gtest/gtest.h"
#include "package_env_fixture.h"

namespace vqi::component {
namespace {

class FromModelTest : public PackageEnvTest {
 protected:
  void SetUp() override {
    PackageEnvTest::SetUp();
    if (HasFatalFailure()) return;
    auto r = registry::OpenSqliteStore(registry::RegistryDbPath(home_));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    registry_ = std::move(r).value();
  }

  int64_t Register(const std::string& onnx, bool approve) {
    registry::NewVersion v;
    v.group = "tags";
    v.created_by = "trainer";
    v.metrics = Json{{"map50", 0.9}};
    auto put = blobs_->Put(onnx);
    EXPECT_TRUE(put.ok());
    v.artifacts.push_back({"model.onnx", put->digest, put->size, "application/octet-stream"});
    auto mv = registry_->Register(v);
    EXPECT_TRUE(mv.ok()) << mv.status().ToString();
    if (approve) {
      auto ev = registry_->SetApproval("tags", mv->version,
                                       {registry::ApprovalStatus::kApproved, "alice", "good"});
      EXPECT_TRUE(ev.ok()) << ev.status().ToString();
    }
    return mv->version;
  }

  std::unique_ptr<registry::Store> registry_;
};

TEST_F(FromModelTest, PackagesTheLatestApprovedOnce) {
  auto none = ComponentFromModel(env_, *registry_, "tags", "acme");
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound) << none.status().ToString();

  Register("model one", true);
  auto first = ComponentFromModel(env_, *registry_, "tags", "acme");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->created);
  EXPECT_EQ(first->component.version, "1.0.0");
  EXPECT_EQ(first->component.source, "registry:tags/1");
  EXPECT_EQ(first->component.publisher, "acme");

  Register("model two", false);  // pending: not the latest approved
  auto same = ComponentFromModel(env_, *registry_, "tags", "acme");
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_FALSE(same->created);
  EXPECT_EQ(same->component.version, "1.0.0");

  ASSERT_TRUE(
      registry_->SetApproval("tags", 2, {registry::ApprovalStatus::kApproved, "alice", ""}).ok());
  auto next = ComponentFromModel(env_, *registry_, "tags", "acme", "Acme Corp");
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_TRUE(next->created);
  EXPECT_EQ(next->component.version, "1.0.1");
  EXPECT_EQ(next->component.source, "registry:tags/2");
  EXPECT_EQ(next->component.publisher, "Acme Corp");
  EXPECT_EQ(*store_->Versions("vqi.model.tags"), (std::vector<std::string>{"1.0.0", "1.0.1"}));
  EXPECT_TRUE(VerifyComponent(*store_, *blobs_, "vqi.model.tags", "1.0.1", *keys_.Trusted()).ok());
}

TEST_F(FromModelTest, ComponentsAreAReferenceSourceForGc) {
  Register("model one", true);
  ASSERT_TRUE(ComponentFromModel(env_, *registry_, "tags", "acme").ok());
  auto extra = blobs_->Put("only a component references this");
  ASSERT_TRUE(extra.ok());
  auto sources = registry::OpenReferenceSources(home_, {ComponentsSource()});
  ASSERT_TRUE(sources.ok()) << sources.status().ToString();
  ASSERT_EQ(sources->size(), 1u);
  EXPECT_EQ((*sources)[0]->SourceName(), "components");
  auto refs = (*sources)[0]->ReferencedDigests();
  ASSERT_TRUE(refs.ok());
  EXPECT_EQ(*refs, *store_->ReferencedDigests());
  EXPECT_EQ(refs->size(), 1u);
  EXPECT_FALSE(refs->count(extra->digest));
}

}  // namespace
}  // namespace vqi::component
