// ParseUploadMessage: a good upload reads back; every malformed or mismatched field is refused
// naming the field (size, sha256, base64, thing, component, metadata, ids).
#include "vqi/results/upload_message.h"

#include <gtest/gtest.h>

#include "upload_test_util.h"

namespace vqi::results {
namespace {

using testing::BmpBytes;
using testing::UploadDoc;
using testing::UploadTopicOf;

TEST(UploadMessageTest, AGoodUploadReadsBack) {
  const std::string bytes = BmpBytes(8, 6, 1);
  auto u = ParseUploadMessage(UploadTopicOf("cam-1"), UploadDoc("cam-1", bytes, "ab-1").dump());
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->thing, "cam-1");
  EXPECT_EQ(u->component, "vqi.inspect");
  EXPECT_EQ(u->bytes, bytes);
  EXPECT_EQ(u->sha256, Sha256Hex(bytes));
  EXPECT_EQ(u->message_id, "ab-1");
  EXPECT_EQ(u->content_type, "image/bmp");
  EXPECT_EQ(u->model_name, "tags");
  EXPECT_EQ(u->model_version, "1.2.0");
  EXPECT_EQ(u->result_id, "cam-1:" + Sha256Hex(bytes));
  EXPECT_DOUBLE_EQ(u->best_score, 0.45);
  EXPECT_EQ(u->image_name, u->name);
}

TEST(UploadMessageTest, FlatMetadataSpellingsAndNoMetadataAreRead) {
  const std::string bytes = BmpBytes(8, 6, 2);
  Json d = UploadDoc("cam-1", bytes, "ab-2");
  d["metadata"] = {{"modelName", "m"},
                   {"modelVersion", "2.0.0"},
                   {"best_score", 0.3},
                   {"result_id", "cam-1:x"},
                   {"imageName", "f.bmp"}};
  auto u = ParseUploadMessage(UploadTopicOf("cam-1"), d.dump());
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->model_name, "m");
  EXPECT_EQ(u->model_version, "2.0.0");
  EXPECT_DOUBLE_EQ(u->best_score, 0.3);
  EXPECT_EQ(u->result_id, "cam-1:x");
  EXPECT_EQ(u->image_name, "f.bmp");
  d.erase("metadata");
  u = ParseUploadMessage(UploadTopicOf("cam-1"), d.dump());
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->model_version, "");
  EXPECT_EQ(u->best_score, -1);
}

// Exactly the metadata vqi-inspect attaches (libs/inspect ipc_sink.cc UploadMetadata).
TEST(UploadMessageTest, VqiInspectsMetadataIsRead) {
  const std::string bytes = BmpBytes(8, 6, 6);
  const std::string sha = Sha256Hex(bytes);
  Json d = UploadDoc("cam-1", bytes, "ab-6");
  d["metadata"] = {{"thing", "cam-1"},
                   {"component", "vqi.inspect"},
                   {"modelName", "tags"},
                   {"modelVersion", "3.0.0"},
                   {"resultId", "cam-1:" + sha},
                   {"bestScore", 0.52},
                   {"imageName", "p.bmp"},
                   {"imageId", sha},
                   {"timestamp", "2026-12-06T10:00:00.123Z"},
                   {"verdict", "fail"}};
  auto u = ParseUploadMessage(UploadTopicOf("cam-1"), d.dump());
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->model_name, "tags");
  EXPECT_EQ(u->model_version, "3.0.0");
  EXPECT_EQ(u->result_id, "cam-1:" + sha);
  EXPECT_DOUBLE_EQ(u->best_score, 0.52);
  EXPECT_EQ(u->image_name, "p.bmp");
  d["metadata"]["imageId"] = Sha256Hex("another file");  // not the bytes that were inspected
  EXPECT_EQ(ParseUploadMessage(UploadTopicOf("cam-1"), d.dump()).status().code(),
            StatusCode::kInvalidArgument);
}

struct Bad {
  const char* what;
  std::function<void(Json&)> change;
  StatusCode code;
  const char* names;  // a word the message must contain
};

TEST(UploadMessageTest, EveryBadFieldIsRefusedNamingIt) {
  const std::string bytes = BmpBytes(8, 6, 3);
  const std::string other = BmpBytes(8, 6, 4);
  const std::vector<Bad> cases = {
      {"kind", [](Json& d) { d["kind"] = "result"; }, StatusCode::kInvalidArgument, "kind"},
      {"thing", [](Json& d) { d["thing"] = "cam-2"; }, StatusCode::kPermissionDenied, "thing"},
      {"component", [](Json& d) { d["component"] = "x"; }, StatusCode::kPermissionDenied,
       "component"},
      {"size lies", [&](Json& d) { d["size"] = bytes.size() + 1; }, StatusCode::kInvalidArgument,
       "size"},
      {"size type", [](Json& d) { d["size"] = "12"; }, StatusCode::kInvalidArgument, "size"},
      {"size negative", [](Json& d) { d["size"] = -1; }, StatusCode::kInvalidArgument, "size"},
      {"size huge", [](Json& d) { d["size"] = 1u << 30; }, StatusCode::kResourceExhausted, "size"},
      {"sha256 of other bytes", [&](Json& d) { d["sha256"] = Sha256Hex(other); },
       StatusCode::kInvalidArgument, "sha256"},
      {"sha256 form", [](Json& d) { d["sha256"] = "ABC"; }, StatusCode::kInvalidArgument, "sha256"},
      {"base64", [](Json& d) { d["dataBase64"] = "!!!!"; }, StatusCode::kInvalidArgument,
       "dataBase64"},
      {"base64 type", [](Json& d) { d["dataBase64"] = 5; }, StatusCode::kInvalidArgument,
       "dataBase64"},
      {"base64 other bytes", [&](Json& d) { d["dataBase64"] = ipc::Base64Encode(other); },
       StatusCode::kInvalidArgument, "sha256"},
      {"no message id", [](Json& d) { d.erase("vqiMessageId"); }, StatusCode::kInvalidArgument,
       "vqiMessageId"},
      {"no name", [](Json& d) { d.erase("name"); }, StatusCode::kInvalidArgument, "name"},
      {"name slash", [](Json& d) { d["name"] = "a/b.bmp"; }, StatusCode::kInvalidArgument, "name"},
      {"metadata type", [](Json& d) { d["metadata"] = 3; }, StatusCode::kInvalidArgument,
       "metadata"},
      {"metadata thing", [](Json& d) { d["metadata"]["thing"] = "cam-9"; },
       StatusCode::kPermissionDenied, "metadata.thing"},
      {"metadata result id", [](Json& d) { d["metadata"]["resultId"] = "cam-9:x"; },
       StatusCode::kPermissionDenied, "resultId"},
      {"metadata image id", [&](Json& d) { d["metadata"]["image"]["id"] = Sha256Hex(other); },
       StatusCode::kInvalidArgument, "metadata.image.id"},
      {"metadata score", [](Json& d) { d["metadata"]["bestScore"] = 7; },
       StatusCode::kInvalidArgument, "bestScore"},
      {"metadata version type", [](Json& d) { d["metadata"]["model"]["version"] = 2; },
       StatusCode::kInvalidArgument, "metadata.model.version"},
      {"not an object", [](Json& d) { d = Json::array(); }, StatusCode::kInvalidArgument, "object"},
  };
  for (const Bad& c : cases) {
    Json d = UploadDoc("cam-1", bytes, "ab-3");
    c.change(d);
    auto u = ParseUploadMessage(UploadTopicOf("cam-1"), d.dump());
    ASSERT_FALSE(u.ok()) << c.what;
    EXPECT_EQ(u.status().code(), c.code) << c.what << ": " << u.status().ToString();
    EXPECT_NE(u.status().message().find(c.names), std::string::npos)
        << c.what << ": " << u.status().ToString();
  }
}

TEST(UploadMessageTest, TopicPayloadAndFileLimits) {
  const std::string bytes = BmpBytes(8, 6, 5);
  const std::string doc = UploadDoc("cam-1", bytes, "ab-4").dump();
  EXPECT_EQ(ParseUploadMessage(testing::Topic("cam-1"), doc).status().code(),
            StatusCode::kInvalidArgument);  // a plain results topic
  EXPECT_EQ(ParseUploadMessage("vqi/v1/results/cam-1/vqi.inspect/other", doc).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseUploadMessage(UploadTopicOf("cam-1"), "not json").status().code(),
            StatusCode::kInvalidArgument);
  // The message is bounded before parsing, the file before decoding.
  EXPECT_EQ(
      ParseUploadMessage(UploadTopicOf("cam-1"), std::string(500 * 1024, ' ')).status().code(),
      StatusCode::kResourceExhausted);
  EXPECT_EQ(ParseUploadMessage(UploadTopicOf("cam-1"), doc, bytes.size() - 1).status().code(),
            StatusCode::kResourceExhausted);
  const std::string big(kDefaultMaxUploadBytes, 'x');
  auto at_limit =
      ParseUploadMessage(UploadTopicOf("cam-1"), UploadDoc("cam-1", big, "ab-5").dump());
  EXPECT_TRUE(at_limit.ok()) << at_limit.status().ToString();  // not an image: the ingestor's job
  auto over =
      ParseUploadMessage(UploadTopicOf("cam-1"), UploadDoc("cam-1", big + "x", "ab-6").dump());
  EXPECT_EQ(over.status().code(), StatusCode::kResourceExhausted) << over.status().ToString();
}

}  // namespace
}  // namespace vqi::results
