// RegisterModel: the mAP50 gate (below, equal, above, missing metric), report validation naming
// the field, lineage from a real training checkpoint and from flags, artifact dedup.
// Reports are built with libs/eval's ReportToJson and checkpoints with libs/model's
// WriteCheckpoint, so a change of either format breaks these tests.
#include "vqi/registry/register.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "vqi/base/file.h"
#include "vqi/base/hash.h"
#include "vqi/blob/blob_store.h"
#include "vqi/eval/metrics.h"
#include "vqi/model/checkpoint.h"
#include "vqi/registry/artifacts.h"

namespace vqi::registry {
namespace {
namespace fs = std::filesystem;

const std::string kSplitDigest = Sha256Hex("split s1");

// What `vqi model eval --report` writes (detect::EvaluationJson), with libs/eval's metrics.
OrderedJson Report(double map50) {
  eval::EvalReport r;
  r.num_images = 20;
  r.num_gt = 31;
  r.num_classes_with_gt = 1;
  r.map50 = map50;
  r.map50_95 = map50 * 0.6;
  r.precision = 0.8;
  r.recall = 0.7;
  eval::ClassMetrics c;
  c.name = "scratch";
  c.has_gt = true;
  c.ap50 = map50;
  r.classes.push_back(c);
  OrderedJson j;
  j["model"] = "model.onnx";
  j["detector"] = "onnx";
  j["source"] = {
      {"dataset", "metal"}, {"split", "s1"}, {"part", "test"}, {"split_digest", kSplitDigest}};
  j["failed_images"] = 0;
  j["metrics"] = eval::ReportToJson(r);
  return j;
}

class RegisterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "vqi-register-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto s = OpenSqliteStore(RegistryDbPath(dir_));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    auto b =
        blob::BlobStore::Open(ArtifactsDir(dir_), {kMaxArtifactBytes, blob::Durability::kBatch});
    ASSERT_TRUE(b.ok());
    blobs_ = std::move(*b);
    Write("model.onnx", "onnx fp32 bytes");
    Write("model.int8.onnx", "onnx int8 bytes");
    WriteReport("r.json", Report(0.85));
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& bytes) {
    const std::string p = dir_ + "/" + name;
    EXPECT_TRUE(WriteFileAtomic(p, bytes).ok());
    return p;
  }
  std::string WriteReport(const std::string& name, const OrderedJson& j) {
    return Write(name, j.dump(1));
  }
  RegisterRequest Request(const std::string& report = "r.json") {
    RegisterRequest q;
    q.group = "tags";
    q.created_by = "alice";
    q.model = dir_ + "/model.onnx";
    q.report = dir_ + "/" + report;
    return q;
  }
  size_t BlobCount() {
    auto l = ListBlobs(ArtifactsDir(dir_));
    return l.ok() ? l->size() : 999;
  }
  bool NothingStored() {
    auto g = store_->Groups();
    return g.ok() && g->empty() && BlobCount() == 0;
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<blob::BlobStore> blobs_;
};

TEST_F(RegisterTest, GateBelowRefusesAndStoresNothing) {
  WriteReport("low.json", Report(0.71));
  RegisterRequest q = Request("low.json");
  q.min_map50 = 0.8;
  auto r = RegisterModel(*store_, *blobs_, q);
  ASSERT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(), "model mAP50 0.71 is below the gate 0.80 (report " + dir_ +
                                      "/low.json, part test): not registered");
  EXPECT_TRUE(NothingStored());
}

TEST_F(RegisterTest, GateShowsEnoughDigitsToTellTheNumbersApart) {
  WriteReport("close.json", Report(0.7996));
  RegisterRequest q = Request("close.json");
  q.min_map50 = 0.8;
  auto r = RegisterModel(*store_, *blobs_, q);
  EXPECT_NE(r.status().message().find("mAP50 0.7996 is below the gate 0.8000"), std::string::npos)
      << r.status().message();
}

TEST_F(RegisterTest, GateEqualAndAbovePass) {
  WriteReport("eq.json", Report(0.8));
  RegisterRequest q = Request("eq.json");
  q.min_map50 = 0.8;
  auto eq = RegisterModel(*store_, *blobs_, q);
  ASSERT_TRUE(eq.ok()) << eq.status().ToString();
  EXPECT_EQ(eq->version, 1);
  q = Request();
  q.min_map50 = 0.8;
  auto above = RegisterModel(*store_, *blobs_, q);
  ASSERT_TRUE(above.ok()) << above.status().ToString();
  EXPECT_EQ(above->version, 2);
  EXPECT_DOUBLE_EQ(above->metrics["map50"].get<double>(), 0.85);
  EXPECT_EQ(above->metrics["per_class"][0]["name"], "scratch");
  EXPECT_FALSE(above->metrics["per_class"][0].contains("pr_curve_iou50"));  // curves left out
  EXPECT_EQ(above->metrics["source"]["part"], "test");
  EXPECT_EQ(above->status, ApprovalStatus::kPendingManualApproval);
}

TEST_F(RegisterTest, MissingOrBadMetricNamesTheField) {
  OrderedJson j = Report(0.9);
  j["metrics"].erase("map50");
  WriteReport("nomap.json", j);
  auto r = RegisterModel(*store_, *blobs_, Request("nomap.json"));
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("field metrics.map50 is missing"), std::string::npos)
      << r.status().message();

  j = Report(0.9);
  j["metrics"]["recall"] = "high";
  WriteReport("str.json", j);
  r = RegisterModel(*store_, *blobs_, Request("str.json"));
  EXPECT_NE(r.status().message().find("field metrics.recall must be a number, not string"),
            std::string::npos)
      << r.status().message();

  j = Report(0.9);
  j["metrics"]["map50"] = 1.5;
  WriteReport("big.json", j);
  r = RegisterModel(*store_, *blobs_, Request("big.json"));
  EXPECT_NE(r.status().message().find("metrics.map50 is 1.5, outside [0, 1]"), std::string::npos);

  j = Report(0.9);
  j["metrics"]["per_class"][0] = 3;
  WriteReport("pc.json", j);
  r = RegisterModel(*store_, *blobs_, Request("pc.json"));
  EXPECT_NE(r.status().message().find("metrics.per_class[0] must be an object"), std::string::npos);

  WriteReport("arr.json", OrderedJson::array());
  r = RegisterModel(*store_, *blobs_, Request("arr.json"));
  EXPECT_NE(r.status().message().find("expected a JSON object, not array"), std::string::npos);

  Write("trunc.json", Report(0.9).dump().substr(0, 40));
  r = RegisterModel(*store_, *blobs_, Request("trunc.json"));
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("trunc.json"), std::string::npos) << r.status().message();

  j = Report(0.9);
  j["failed_images"] = 3;
  WriteReport("failed.json", j);
  r = RegisterModel(*store_, *blobs_, Request("failed.json"));
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("3 images failed"), std::string::npos);

  r = RegisterModel(*store_, *blobs_, Request("none.json"));
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(NothingStored());
}

TEST_F(RegisterTest, SameOnnxRegisteredTwiceIsOneBlob) {
  ASSERT_TRUE(RegisterModel(*store_, *blobs_, Request()).ok());
  const size_t after_first = BlobCount();
  EXPECT_EQ(after_first, 2u);  // model.onnx, report.json
  auto second = RegisterModel(*store_, *blobs_, Request());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->version, 2);
  EXPECT_EQ(BlobCount(), after_first);
  const ArtifactRef* m = second->Artifact(kModelArtifact);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->digest, Sha256Hex("onnx fp32 bytes"));
  auto bytes = blobs_->Get(m->digest);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, "onnx fp32 bytes");
  EXPECT_EQ(*blobs_->Get(second->Artifact(kReportArtifact)->digest), *ReadFile(dir_ + "/r.json"));
}

TEST_F(RegisterTest, LineageFromTheTrainingRun) {
  // A run folder as `vqi model train --out run` leaves it.
  fs::create_directories(dir_ + "/run");
  model::Checkpoint ck;
  ck.train = {{"epochs", 30}, {"lr0", 0.002}, {"source", "dataset metal split s1"}};
  ck.split_digest = kSplitDigest;
  ck.run_id = "run-42";
  ck.epoch = 29;
  float w[2] = {1, 2};
  ck.weights["model.0.conv.weight"] = Tensor::F32({2}, w);
  // `--run` alone takes the recipe's choice.
  Status st = model::WriteCheckpoint(
      dir_ + "/run/" + std::string(kDefaultRunCheckpoint) + ".safetensors", ck);
  ASSERT_TRUE(st.ok()) << st.ToString();

  RegisterRequest q = Request();
  q.run_dir = dir_ + "/run";
  q.model_int8 = dir_ + "/model.int8.onnx";
  q.source_revision = "e63e5b4";
  auto r = RegisterModel(*store_, *blobs_, q);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const ModelVersion v = *store_->Get("tags", r->version);
  EXPECT_EQ(v.lineage.dataset, "metal");
  EXPECT_EQ(v.lineage.split, "s1");
  EXPECT_EQ(v.lineage.split_digest, kSplitDigest);
  EXPECT_EQ(v.lineage.train_config["epochs"], 30);
  EXPECT_EQ(v.lineage.run_id, "run-42");
  EXPECT_EQ(v.lineage.source_revision, "e63e5b4");
  ASSERT_EQ(v.artifacts.size(), 4u);
  EXPECT_NE(v.Artifact(kCheckpointArtifact), nullptr);
  EXPECT_NE(v.Artifact(kInt8Artifact), nullptr);
  EXPECT_EQ(v.Artifact(kCheckpointArtifact)->media_type, "application/vnd.safetensors");

  // A fine-tune of it names its parent.
  q.parent = "tags/1";
  auto child = RegisterModel(*store_, *blobs_, q);
  ASSERT_TRUE(child.ok()) << child.status().ToString();
  EXPECT_EQ(child->lineage.parent, "tags/1");

  // A flag contradicting the checkpoint is refused, naming both values.
  q.split_digest = Sha256Hex("another split");
  auto bad = RegisterModel(*store_, *blobs_, q);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find(kSplitDigest), std::string::npos);
  EXPECT_NE(bad.status().message().find(q.split_digest), std::string::npos);

  // Another of the run's checkpoints, chosen by name: its own lineage is recorded.
  const std::string other = std::string(kDefaultRunCheckpoint) == "last" ? "best" : "last";
  ck.run_id = "run-42-" + other;
  ck.epoch = 30;
  st = model::WriteCheckpoint(dir_ + "/run/" + other + ".safetensors", ck);
  ASSERT_TRUE(st.ok()) << st.ToString();
  q = Request();
  q.run_dir = dir_ + "/run";
  q.run_checkpoint = other;
  auto chosen = RegisterModel(*store_, *blobs_, q);
  ASSERT_TRUE(chosen.ok()) << chosen.status().ToString();
  EXPECT_EQ(chosen->lineage.run_id, "run-42-" + other);
  // One the run does not have, and a name that is not a choice, each named in the error.
  q.run_checkpoint = "smoothed";
  auto missing = RegisterModel(*store_, *blobs_, q);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("no smoothed.safetensors"), std::string::npos)
      << missing.status().ToString();
  q.run_checkpoint = "../model";
  auto bad_choice = RegisterModel(*store_, *blobs_, q);
  EXPECT_EQ(bad_choice.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_choice.status().message().find("'../model': not one of best, last, smoothed"),
            std::string::npos)
      << bad_choice.status().ToString();

  // A run folder without a checkpoint, and a checkpoint that is not one.
  q = Request();
  q.run_dir = dir_;
  EXPECT_EQ(RegisterModel(*store_, *blobs_, q).status().code(), StatusCode::kNotFound);
  q = Request();
  q.checkpoint = dir_ + "/model.onnx";
  EXPECT_EQ(RegisterModel(*store_, *blobs_, q).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->List("tags")->size(), 3u);
}

TEST_F(RegisterTest, LineageFromFlagsAndTheReport) {
  // No run: the evaluated split is recorded, the revision is unknown.
  auto r = RegisterModel(*store_, *blobs_, Request());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->lineage.dataset, "metal");
  EXPECT_EQ(r->lineage.split_digest, kSplitDigest);
  EXPECT_EQ(r->lineage.source_revision, "unknown");
  EXPECT_TRUE(r->lineage.train_config.empty());
  RegisterRequest q = Request();
  q.dataset = "other";
  q.split = "s9";
  q.train_config = {{"epochs", 5}};
  auto f = RegisterModel(*store_, *blobs_, q);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->lineage.dataset, "other");
  EXPECT_EQ(f->lineage.split, "s9");
  EXPECT_EQ(f->lineage.train_config["epochs"], 5);
}

TEST_F(RegisterTest, HostileRequestsStoreNothing) {
  RegisterRequest q = Request();
  q.group = "../etc";
  EXPECT_EQ(RegisterModel(*store_, *blobs_, q).status().code(), StatusCode::kInvalidArgument);
  q = Request();
  q.description = std::string(kMaxDescriptionBytes + 1, 'd');
  EXPECT_EQ(RegisterModel(*store_, *blobs_, q).status().code(), StatusCode::kResourceExhausted);
  q = Request();
  q.model = dir_;  // a directory
  EXPECT_EQ(RegisterModel(*store_, *blobs_, q).status().code(), StatusCode::kInvalidArgument);
  q = Request();
  q.parent = "tags/7";
  EXPECT_EQ(RegisterModel(*store_, *blobs_, q).status().code(), StatusCode::kNotFound);
  q = Request();
  q.created_by = "";
  EXPECT_EQ(RegisterModel(*store_, *blobs_, q).status().code(), StatusCode::kInvalidArgument);
  q = Request();
  q.source_revision = "abc\ndef";
  EXPECT_EQ(RegisterModel(*store_, *blobs_, q).status().code(), StatusCode::kInvalidArgument);
  auto g = store_->Groups();
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(g->empty());
}

}  // namespace
}  // namespace vqi::registry
