// registry::Store on SQLite: numbering (also from two processes), the approval state machine
// (every pair), history, latest approved, lineage round trip, hostile input.
#include "vqi/registry/store.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "vqi/base/hash.h"

namespace vqi::registry {
namespace {
namespace fs = std::filesystem;
using S = ApprovalStatus;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "vqi-registry-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto s = OpenSqliteStore(dir_ + "/registry/registry.db", {true, &clock_});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  static NewVersion Version(const std::string& group, const std::string& onnx_bytes = "onnx") {
    NewVersion v;
    v.group = group;
    v.created_by = "alice";
    v.artifacts = {{"model.onnx", Sha256Hex(onnx_bytes), int64_t(onnx_bytes.size()),
                    MediaTypeFor("model.onnx")},
                   {"report.json", Sha256Hex("{}"), 2, MediaTypeFor("report.json")}};
    v.metrics = {{"map50", 0.9}, {"map50_95", 0.6}};
    return v;
  }
  int64_t Reg(const std::string& group = "tags") {
    auto r = store_->Register(Version(group));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->version : 0;
  }
  Status Set(int64_t version, S to, const std::string& reason = "looks good") {
    return store_->SetApproval("tags", version, {to, "bob", reason}).status();
  }

  std::string dir_;
  FakeClock clock_{1796538600000};  // 2026-12-06T06:30:00Z
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, VersionsAreNumberedPerGroupFromOne) {
  NewVersion first = Version("tags");
  first.group_description = "scratch detector for metal tags";
  ASSERT_EQ(store_->Register(first)->version, 1);
  first.group_description = "ignored: the group exists";
  ASSERT_EQ(store_->Register(first)->version, 2);
  EXPECT_EQ(Reg("other"), 1);
  EXPECT_EQ(Reg("tags"), 3);
  auto groups = store_->Groups();
  ASSERT_TRUE(groups.ok());
  ASSERT_EQ(groups->size(), 2u);
  EXPECT_EQ((*groups)[0].name, "other");
  EXPECT_EQ((*groups)[1].versions, 3);
  EXPECT_EQ((*groups)[1].description, "scratch detector for metal tags");
  EXPECT_EQ((*groups)[1].created_by, "alice");
  auto list = store_->List("tags");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[2].version, 3);
  EXPECT_EQ((*list)[0].status, S::kPendingManualApproval);
  EXPECT_EQ((*list)[0].created, "2026-12-06T06:30:00Z");
  for (const ModelVersion& v : *list) {
    ASSERT_EQ(v.artifacts.size(), 2u) << v.Ref();
    EXPECT_EQ(v.artifacts[0].name, "model.onnx");
    EXPECT_EQ(v.artifacts[1].name, "report.json");
  }
}

TEST_F(StoreTest, TwoProcessesRegisteringAtOnceGetDistinctNumbers) {
  constexpr int kEach = 40;
  const std::string path = dir_ + "/registry/registry.db";
  pid_t pids[2];
  for (pid_t& pid : pids) {
    pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto s = OpenSqliteStore(path);
      if (!s.ok()) _exit(10);
      for (int i = 0; i < kEach; ++i)
        if (!(*s)->Register(Version("race")).ok()) _exit(11);
      _exit(0);
    }
  }
  for (pid_t pid : pids) {
    int st = 0;
    ASSERT_EQ(waitpid(pid, &st, 0), pid);
    ASSERT_TRUE(WIFEXITED(st));
    EXPECT_EQ(WEXITSTATUS(st), 0);
  }
  auto list = store_->List("race");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), size_t{2 * kEach});
  for (int i = 0; i < 2 * kEach; ++i) EXPECT_EQ((*list)[i].version, i + 1);
}

// Every (from, to) pair: legal ones move and append an event; the rest are refused naming both
// states and leave status and history unchanged.
TEST_F(StoreTest, EveryTransitionPair) {
  const S all[] = {S::kPendingManualApproval, S::kApproved, S::kRejected};
  int legal = 0;
  for (S from : all) {
    for (S to : all) {
      const int64_t v = Reg();
      // Bring v to `from` along a legal path.
      if (from == S::kApproved) {
        ASSERT_TRUE(Set(v, S::kApproved).ok());
      }
      if (from == S::kRejected) {
        ASSERT_TRUE(Set(v, S::kRejected).ok());
      }
      const size_t before = store_->History("tags", v)->size();
      const bool expect_legal = from != to && to != S::kPendingManualApproval;
      EXPECT_EQ(IsLegalTransition(from, to), expect_legal);
      Status st = Set(v, to);
      auto now = store_->Get("tags", v);
      ASSERT_TRUE(now.ok());
      auto history = store_->History("tags", v);
      ASSERT_TRUE(history.ok());
      if (expect_legal) {
        ++legal;
        EXPECT_TRUE(st.ok()) << ApprovalStatusName(from) << "→" << ApprovalStatusName(to) << ": "
                             << st.ToString();
        EXPECT_EQ(now->status, to);
        ASSERT_EQ(history->size(), before + 1);
        EXPECT_EQ(history->back().from, ApprovalStatusName(from));
        EXPECT_EQ(history->back().to, to);
      } else {
        EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
        const std::string want =
            std::string("from ") + ApprovalStatusName(from) + " to " + ApprovalStatusName(to);
        EXPECT_NE(st.message().find(want), std::string::npos) << st.message();
        EXPECT_EQ(now->status, from);
        EXPECT_EQ(history->size(), before);
      }
    }
  }
  EXPECT_EQ(legal, 4);
}

TEST_F(StoreTest, HistoryKeepsActorTimeAndReason) {
  const int64_t v = Reg();
  ASSERT_TRUE(store_->SetApproval("tags", v, {S::kApproved, "bob", "mAP ok"}).ok());
  clock_.Advance(90'000);
  ASSERT_TRUE(
      store_->SetApproval("tags", v, {S::kRejected, "carol", "false rejects\non line 3"}).ok());
  auto h = store_->History("tags", v);
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 3u);
  EXPECT_EQ((*h)[0].from, "none");
  EXPECT_EQ((*h)[0].to, S::kPendingManualApproval);
  EXPECT_EQ((*h)[0].actor, "alice");
  EXPECT_EQ((*h)[1].actor, "bob");
  EXPECT_EQ((*h)[1].reason, "mAP ok");
  EXPECT_EQ((*h)[1].time, "2026-12-06T06:30:00Z");
  EXPECT_EQ((*h)[2].from, "Approved");
  EXPECT_EQ((*h)[2].actor, "carol");
  EXPECT_EQ((*h)[2].time, "2026-12-06T06:31:30Z");
  EXPECT_EQ((*h)[2].reason, "false rejects\non line 3");
  EXPECT_LT((*h)[1].seq, (*h)[2].seq);
  EXPECT_EQ(store_->Get("tags", v)->status_changed, "2026-12-06T06:31:30Z");
}

TEST_F(StoreTest, RejectNeedsReasonAndActor) {
  const int64_t v = Reg();
  EXPECT_EQ(Set(v, S::kRejected, "").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->SetApproval("tags", v, {S::kApproved, "", ""}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(Set(v, S::kApproved, "").ok());  // approving needs no reason
  EXPECT_EQ(store_->History("tags", v)->size(), 2u);
}

TEST_F(StoreTest, LatestApproved) {
  auto none = store_->LatestApproved("tags");
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_NE(none.status().message().find("'tags' does not exist"), std::string::npos);
  Reg(), Reg(), Reg();
  ASSERT_TRUE(Set(2, S::kRejected).ok());
  none = store_->LatestApproved("tags");
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_NE(none.status().message().find(
                "no Approved version (versions: 1 PendingManualApproval, 2 Rejected, 3 "
                "PendingManualApproval)"),
            std::string::npos)
      << none.status().message();
  ASSERT_TRUE(Set(1, S::kApproved).ok());
  ASSERT_TRUE(Set(3, S::kApproved).ok());
  EXPECT_EQ(store_->LatestApproved("tags")->version, 3);
  ASSERT_TRUE(Set(2, S::kApproved).ok());  // approving an older version later: still 3
  EXPECT_EQ(store_->LatestApproved("tags")->version, 3);
  ASSERT_TRUE(Set(3, S::kRejected).ok());  // revoke
  EXPECT_EQ(store_->LatestApproved("tags")->version, 2);
  EXPECT_EQ(store_->Groups()->at(0).latest_approved, 2);
}

TEST_F(StoreTest, LineageMetricsAndArtifactsRoundTrip) {
  ASSERT_EQ(Reg(), 1);
  NewVersion v = Version("tags", "onnx v2");
  v.description = "fine-tuned on new scratches";
  v.metrics = {{"map50", 0.91}, {"per_class", {{{"name", "scratch"}, {"ap50", 0.91}}}}};
  v.lineage.dataset = "metal";
  v.lineage.split = "s1";
  v.lineage.split_digest = Sha256Hex("split");
  v.lineage.train_config = {{"epochs", 30}, {"lr0", 0.002}};
  v.lineage.source_revision = "e63e5b4";
  v.lineage.parent = "tags/1";
  v.lineage.run_id = "run-7";
  auto r = store_->Register(v);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto got = store_->Get("tags", 2);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->description, v.description);
  EXPECT_EQ(got->metrics, v.metrics);
  EXPECT_EQ(got->lineage.dataset, "metal");
  EXPECT_EQ(got->lineage.split, "s1");
  EXPECT_EQ(got->lineage.split_digest, v.lineage.split_digest);
  EXPECT_EQ(got->lineage.train_config, v.lineage.train_config);
  EXPECT_EQ(got->lineage.source_revision, "e63e5b4");
  EXPECT_EQ(got->lineage.parent, "tags/1");
  EXPECT_EQ(got->lineage.run_id, "run-7");
  ASSERT_EQ(got->artifacts.size(), 2u);
  const ArtifactRef* onnx = got->Artifact("model.onnx");
  ASSERT_NE(onnx, nullptr);
  EXPECT_EQ(onnx->digest, Sha256Hex("onnx v2"));
  EXPECT_EQ(onnx->size, 7);
  EXPECT_EQ(onnx->media_type, "application/vnd.onnx");
  auto refs = store_->ReferencedDigests();
  ASSERT_TRUE(refs.ok());
  EXPECT_EQ(*refs,
            (std::set<std::string>{Sha256Hex("onnx"), Sha256Hex("onnx v2"), Sha256Hex("{}")}));
}

TEST_F(StoreTest, ParentMustExist) {
  NewVersion v = Version("tags");
  v.lineage.parent = "tags/4";
  auto r = store_->Register(v);
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("lineage.parent"), std::string::npos);
  v.lineage.parent = "tags-4";
  EXPECT_EQ(store_->Register(v).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Groups()->size(), 0u);  // nothing stored, not even the group
}

TEST_F(StoreTest, HostileInputIsRefusedAndNothingStored) {
  for (const std::string& bad :
       std::vector<std::string>{"", "-x", ".hidden", "a/b", "a b", "../up", "é",
                                std::string(65, 'a'), std::string("a\0b", 3)}) {
    auto r = store_->Register(Version(bad));
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(r.status().message().find("model group name"), std::string::npos)
        << r.status().message();
  }
  EXPECT_TRUE(store_->Register(Version(std::string(64, 'a'))).ok());
  const int64_t v = Reg();
  Status huge = Set(v, S::kRejected, std::string(kMaxReasonBytes + 1, 'x'));
  EXPECT_EQ(huge.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(huge.message().find("reason has 1025 bytes, more than the maximum of 1024"),
            std::string::npos)
      << huge.message();
  EXPECT_EQ(Set(v, S::kRejected, "bad \xff utf8").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->SetApproval("tags", v, {S::kApproved, "bob\x1b[31m", ""}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Get("tags", v)->status, S::kPendingManualApproval);

  NewVersion art = Version("tags");
  art.artifacts[0].name = "../model.onnx";
  EXPECT_EQ(store_->Register(art).status().code(), StatusCode::kInvalidArgument);
  art = Version("tags");
  art.artifacts[1].name = "model.onnx";
  EXPECT_NE(store_->Register(art).status().message().find("used twice"), std::string::npos);
  art = Version("tags");
  art.artifacts[0].digest = "ABC";
  EXPECT_EQ(store_->Register(art).status().code(), StatusCode::kInvalidArgument);
  art = Version("tags");
  art.metrics = {{"blob", std::string(kMaxMetricsJsonBytes, 'x')}};
  EXPECT_EQ(store_->Register(art).status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(store_->List("tags")->size(), 1u);
}

TEST_F(StoreTest, NotFoundNamesWhatExists) {
  Reg(), Reg();
  auto g = store_->Get("tag", 1);
  EXPECT_EQ(g.status().code(), StatusCode::kNotFound);
  EXPECT_NE(g.status().message().find("groups: tags"), std::string::npos) << g.status().message();
  auto v = store_->Get("tags", 9);
  EXPECT_NE(v.status().message().find("tags/9 does not exist (versions 1..2)"), std::string::npos)
      << v.status().message();
  EXPECT_EQ(store_->History("tags", 9).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->SetApproval("tags", 9, {S::kApproved, "bob", ""}).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store_->CreateGroup("tags", "", "bob").status().code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(store_->CreateGroup("empty", "nothing yet", "bob").ok());
  EXPECT_NE(store_->LatestApproved("empty").status().message().find("it has no versions"),
            std::string::npos);
}

TEST_F(StoreTest, ReopenKeepsEverything) {
  Reg();
  ASSERT_TRUE(Set(1, S::kApproved).ok());
  store_.reset();
  auto s = OpenSqliteStore(dir_ + "/registry/registry.db", {false, &clock_});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->LatestApproved("tags")->version, 1);
  EXPECT_EQ(OpenSqliteStore(dir_ + "/nope/registry.db", {false, nullptr}).status().code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace vqi::registry
