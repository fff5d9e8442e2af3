// The component IPC end to end in one process: IpcServer on a socket in a temporary folder,
// IpcClient as the component (docs/design/ipc.md).
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "gtest/gtest.h"
#include "vqi/agent/ipc_server.h"
#include "vqi/base/file.h"
#include "vqi/ipc_client/client.h"

namespace vqi::agent {
namespace {

const char* kInspect = "com.example.Inspect";

class IpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t = (std::filesystem::temp_directory_path() / "vqi-ipc-XXXXXX").string();
    ASSERT_NE(::mkdtemp(t.data()), nullptr);
    dir_ = t;
    SpoolOptions so;
    so.dir = dir_ + "/spool";
    so.max_messages = 5;
    auto spool = Spool::Open(so);
    ASSERT_TRUE(spool.ok());
    spool_ = std::move(*spool);
    IpcServerOptions o;
    o.socket_path = dir_ + "/ipc.sock";
    o.thing = "dev-a";
    o.max_connections = 4;
    o.max_frame_bytes = 64 * 1024;
    auto server = IpcServer::Start(o, spool_.get(), [this] { ++spooled_; });
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    inspect_token_ =
        server_->Register({kInspect, Json::parse(R"({"ScoreThreshold": 0.25, "accessControl": {
           "aws.greengrass.ipc.mqttproxy": {"i:1": {"operations": ["aws.greengrass#PublishToIoTCore"],
                                                    "resources": ["vqi/v1/results/dev-a/com.example.Inspect/#"]}},
           "aws.greengrass.ipc.pubsub": {"i:2": {"operations": ["*"], "resources": ["camera/*"]}}}})"),
                           dir_ + "/metrics.jsonl"});
    other_token_ = server_->Register({"com.example.Other", Json{{"Secret", "s3cr3t"}}, ""});
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<ipc::IpcClient> Client(const std::string& token) {
    auto c = ipc::IpcClient::Connect(dir_ + "/ipc.sock", token);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(*c) : nullptr;
  }
  // A raw connection for bytes no client would send.
  int Raw() {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::string p = dir_ + "/ipc.sock";
    std::memcpy(a.sun_path, p.data(), p.size());
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    return fd;
  }

  std::string dir_;
  std::unique_ptr<Spool> spool_;
  std::unique_ptr<IpcServer> server_;
  std::string inspect_token_, other_token_;
  std::atomic<int> spooled_{0};
};

TEST_F(IpcTest, AuthorizedCloudPublishIsSpooledUnauthorizedIsRefused) {
  auto c = Client(inspect_token_);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->component(), kInspect);
  auto id = c->PublishToIoTCore("vqi/v1/results/dev-a/com.example.Inspect", {{"verdict", "pass"}});
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto stored = spool_->After(0, 10);
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].id, *id);
  EXPECT_EQ(stored[0].component, kInspect);
  EXPECT_EQ(spooled_.load(), 1);

  auto denied = c->PublishToIoTCore("vqi/v1/results/dev-a/com.example.Other", {{"x", 1}});
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(denied.status().message().find("accessControl"), std::string::npos);
  // A component with no grant at all.
  auto o = Client(other_token_);
  auto none = o->PublishToIoTCore("vqi/v1/results/dev-a/com.example.Other", {{"x", 1}});
  EXPECT_EQ(none.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(spool_->Stats().messages, 1u);
  EXPECT_GE(server_->Stats().denied, 2u);
}

TEST_F(IpcTest, FullSpoolAnswersResourceExhaustedAndKeepsTheStoredOnes) {
  auto c = Client(inspect_token_);
  const std::string topic = "vqi/v1/results/dev-a/com.example.Inspect";
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c->PublishToIoTCore(topic, {{"n", i}}).ok());
  auto full = c->PublishToIoTCore(topic, {{"n", 5}});
  EXPECT_EQ(full.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(spool_->Stats().messages, 5u);
  ASSERT_TRUE(spool_->Remove(spool_->After(0, 1)[0].seq).ok());  // one acknowledged
  EXPECT_TRUE(c->PublishToIoTCore(topic, {{"n", 5}}).ok());
}

TEST_F(IpcTest, OwnConfigurationReadAndUpdatedOthersOnlyWithAGrant) {
  auto c = Client(inspect_token_);
  auto v = c->GetConfiguration("", "/ScoreThreshold");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, 0.25);
  EXPECT_EQ(c->GetConfiguration("", "/Missing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(c->GetConfiguration("com.example.Other").status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(c->SubscribeToConfigurationUpdate("com.example.Other").code(),
            StatusCode::kPermissionDenied);

  ASSERT_TRUE(c->SubscribeToConfigurationUpdate().ok());
  Json updated = c->GetConfiguration().value();
  updated["ScoreThreshold"] = 0.5;
  server_->Register({kInspect, updated, dir_ + "/metrics.jsonl"});
  auto e = c->NextEvent(3000);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->kind, "configurationUpdate");
  EXPECT_EQ(e->payload["ScoreThreshold"], 0.5);

  // With a grant, another component's configuration can be read.
  auto o = Client(other_token_);
  EXPECT_EQ(o->GetConfiguration(kInspect).status().code(), StatusCode::kPermissionDenied);
  server_->Register({"com.example.Other",
                     Json::parse(R"({"Secret": "s3cr3t", "accessControl": {"vqi.ipc.config":
                       {"o:1": {"operations": ["vqi#GetConfiguration"],
                                "resources": ["com.example.Inspect"]}}}})"),
                     ""});
  auto read = o->GetConfiguration(kInspect, "/ScoreThreshold");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, 0.5);
}

TEST_F(IpcTest, LocalTopicsStateMetricsAndUpload) {
  auto a = Client(inspect_token_);
  auto b = Client(inspect_token_);
  ASSERT_TRUE(b->SubscribeToTopic("camera/+").ok());
  ASSERT_TRUE(a->PublishToTopic("camera/frames", {{"frame", 7}}).ok());
  auto e = b->NextEvent(3000);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->topic, "camera/frames");
  EXPECT_EQ(e->payload["frame"], 7);
  EXPECT_EQ(a->PublishToTopic("robot/arm", {{"x", 1}}).code(), StatusCode::kPermissionDenied);

  ASSERT_TRUE(a->UpdateState("RUNNING").ok());
  EXPECT_EQ(server_->States()[kInspect], "RUNNING");
  EXPECT_EQ(a->UpdateState("SLEEPING").code(), StatusCode::kInvalidArgument);

  ASSERT_TRUE(a->PutMetric("defect_rate", 0.125).ok());
  auto lines = ReadFile(dir_ + "/metrics.jsonl");
  ASSERT_TRUE(lines.ok());
  EXPECT_EQ(ParseJson(lines->substr(0, lines->find('\n'))).value()["value"], 0.125);

  ASSERT_TRUE(WriteFileAtomic(dir_ + "/img.jpg", std::string("\xff\xd8\x00\x01", 4)).ok());
  auto up = a->UploadFile(dir_ + "/img.jpg", "image/jpeg", {{"score", 0.45}});
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  auto stored = spool_->After(0, 10);
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].topic, "vqi/v1/results/dev-a/com.example.Inspect/upload");
  auto body = ParseJson(stored[0].payload).value();
  EXPECT_EQ(body["size"], 4);
  EXPECT_EQ(ipc::Base64Decode(body["dataBase64"].get<std::string>()).value(),
            std::string("\xff\xd8\x00\x01", 4));
}

TEST_F(IpcTest, WrongTokenMalformedAndOversizedFramesAreRefusedAndTheServerCarriesOn) {
  auto bad = ipc::IpcClient::Connect(dir_ + "/ipc.sock", "not-a-token");
  EXPECT_EQ(bad.status().code(), StatusCode::kPermissionDenied);

  int fd = Raw();  // garbage JSON
  ASSERT_TRUE(::write(fd, "\0\0\0\x05hello", 9) == 9);
  ipc::FrameReader r;
  auto answer = ipc::ReadFrame(fd, r, 3000);
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_EQ((*answer)["code"], "InvalidArgument");
  char byte;
  EXPECT_EQ(::recv(fd, &byte, 1, 0), 0);  // then closed
  ::close(fd);

  fd = Raw();  // a length above the server's limit (64 KiB here)
  ASSERT_TRUE(::write(fd, "\x00\x10\x00\x00", 4) == 4);
  ipc::FrameReader r2;
  answer = ipc::ReadFrame(fd, r2, 3000);
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_NE((*answer)["error"].get<std::string>().find("1048576"), std::string::npos);
  ::close(fd);

  fd = Raw();  // a request before Connect
  ASSERT_TRUE(ipc::WriteFrame(fd, Json{{"op", "PublishToIoTCore"}, {"id", 1}}).ok());
  ipc::FrameReader r3;
  answer = ipc::ReadFrame(fd, r3, 3000);
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ((*answer)["code"], "PermissionDenied");
  ::close(fd);

  auto c = Client(inspect_token_);  // still serving
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->Call({{"op", "Nope"}}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(c->UpdateState("RUNNING").ok());
  EXPECT_EQ(server_->Stats().malformed, 2u);
}

TEST_F(IpcTest, ConnectionLimitAndUnregister) {
  std::vector<std::unique_ptr<ipc::IpcClient>> held;
  for (int i = 0; i < 4; ++i) held.push_back(Client(inspect_token_));
  auto fifth = ipc::IpcClient::Connect(dir_ + "/ipc.sock", inspect_token_);
  EXPECT_EQ(fifth.status().code(), StatusCode::kResourceExhausted);
  held.clear();
  // The server accepts before it reads hang-ups in one poll pass: wait until it saw them.
  for (int i = 0; i < 500 && server_->Stats().open > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(server_->Stats().open, 0u);
  auto c = Client(other_token_);
  ASSERT_NE(c, nullptr);
  server_->Unregister("com.example.Other");
  EXPECT_FALSE(c->UpdateState("RUNNING").ok());  // closed or refused
  EXPECT_EQ(ipc::IpcClient::Connect(dir_ + "/ipc.sock", other_token_).status().code(),
            StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace vqi::agent
