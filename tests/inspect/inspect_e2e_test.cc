// Issue 20 end to end with real processes (inspect_e2e_harness.h): the shipped vqi.inspect
// component and a model component from `vqi component from-model`, deployed by `vqi server`
// through `vqi-agent run --bundle`, results read by an independent `mosquitto_sub`.
// - Acceptance 1: two devices, images fed by `vqi camera simulate` → exactly one valid result
//   per image per device, with the boxes of `vqi model predict` on the same image and model file.
// - Acceptance 3: a new model version deployed while images flow → results switch to it, no
//   image skipped, none inspected twice.
// - Acceptance 7: corrupt, truncated, huge, oversized, empty and non-image files → one error
//   result each, vqi-inspect keeps running (good images after them are inspected); malformed IPC
//   frames on the agent's socket are refused and the agent keeps serving.
#include <sys/socket.h>
#include <sys/un.h>

#include "inspect_e2e_harness.h"

namespace vqi::e2e {
namespace {

using InspectE2eTest = InspectE2e;

TEST_F(InspectE2eTest, TwoDevicesOneResultPerImageWithPredictsBoxes) {
  const std::map<std::string, std::string> sources = {{"cam-1", Images(12, 21)},
                                                      {"cam-2", Images(12, 22)}};
  const std::string model = DeployInspection(2);
  ASSERT_FALSE(HasFailure());
  const auto fed_at = Clock::now();
  for (const Agent& a : agents_) StartCamera(a, sources.at(a.thing), 10);
  for (const Agent& a : agents_) ASSERT_TRUE(WaitResults(a.thing, 12, 30)) << a.thing;
  std::printf("[ e2e ] 2 x 12 images fed at 10/s -> 24 results at mosquitto_sub: %.2f s\n",
              SecondsSince(fed_at));
  std::this_thread::sleep_for(std::chrono::seconds(1));  // nothing more may come

  std::set<std::string> message_ids;
  for (const Agent& a : agents_) {
    const std::vector<Json> results = Results(a.thing);
    EXPECT_EQ(results.size(), 12u) << a.thing << ": exactly one result per image";
    const std::map<std::string, Json> predicted =
        Predict(DeployedModel(a, model), sources.at(a.thing));
    ASSERT_EQ(predicted.size(), 12u);
    std::map<std::string, int> seen;
    for (const Json& r : results) {
      const std::string name = r["image"].value("name", "");
      ++seen[name];
      ASSERT_TRUE(predicted.count(name)) << a.thing << ": not fed: " << name;
      const std::string sha = Sha256Hex(Slurp(sources.at(a.thing) + "/" + name));
      EXPECT_EQ(r["schema"], "vqi.inspect.result/1");
      EXPECT_EQ(r["thing"], a.thing);
      EXPECT_EQ(r["component"], kInspect);
      EXPECT_EQ(r["id"], a.thing + ":" + sha) << name;
      EXPECT_EQ(r["image"]["id"], sha) << name;
      EXPECT_EQ(r["model"]["version"], "1") << r["model"].dump();
      EXPECT_EQ(r["image_name"], name);
      EXPECT_TRUE(r.contains("timestamp") && r.contains("inference-results")) << r.dump();
      EXPECT_TRUE(message_ids.insert(r.value("vqiMessageId", "")).second) << r.dump();
      ExpectSameBoxes(r, predicted.at(name));
    }
    for (const auto& [name, n] : seen) EXPECT_EQ(n, 1) << a.thing << ": " << name;
  }
  // The control plane stored the same 24 (its own subscriber) and refused none.
  EXPECT_TRUE(WaitFor(
      [&] {
        auto j = ParseJson(Vqi("results stats --json").out, "results stats");
        if (!j.ok()) return false;
        int64_t images = 0, refused = 0;
        for (const Json& t : *j) {
          images += t.value("images", 0);
          refused += t.value("refused", 0);
        }
        return images == 24 && refused == 0;
      },
      10))
      << Vqi("results stats").out;
}

TEST_F(InspectE2eTest, NewModelWhileImagesFlowNoneSkippedNoneTwice) {
  const std::string src = Images(50, 31);
  const std::string model1 = DeployInspection(1);
  ASSERT_FALSE(HasFailure());
  const Agent& a = agents_[0];
  const std::string model2 = NewModel(12);  // registered and packaged before the camera starts
  ASSERT_NE(model2, model1);
  Proc& camera = StartCamera(a, src, 3);  // 50 images in ~17 s: the update lands mid-stream
  ASSERT_TRUE(WaitResults(a.thing, 8, 30));
  const std::string d2 = Deploy("d2", InspectDoc(model2, "1.0.0"));
  ASSERT_TRUE(WaitDeployment(d2, "SUCCEEDED", 60));
  const size_t at_switch = Names(Results(a.thing)).size();
  std::printf(
      "[ e2e ] model %s -> %s deployed while images flow: SUCCEEDED in %.2f s, %zu of 50 "
      "results by then\n",
      model1.c_str(), model2.c_str(), last_wait_seconds_, at_switch);
  ASSERT_LT(at_switch, 45u) << "the camera ran out before the update: the test proves nothing";
  EXPECT_TRUE(WaitFor([&] { return !camera.Alive(); }, 30)) << "the camera finishes";
  EXPECT_EQ(camera.Stop(1), 0) << camera.Log();
  ASSERT_TRUE(WaitResults(a.thing, 50, 30));
  std::this_thread::sleep_for(std::chrono::seconds(1));

  const std::vector<Json> results = Results(a.thing);
  std::set<std::string> fed;
  for (const std::string& f : Files(src)) fed.insert(fs::path(f).filename().string());
  EXPECT_EQ(Names(results), fed) << "no image skipped";
  EXPECT_EQ(results.size(), fed.size()) << "no image inspected twice";
  // The versions in arrival order: 1 ... 1 2 ... 2 (a switch, never back), each result with
  // the boxes of `vqi model predict` under the model it names.
  const std::map<std::string, Json> p1 = Predict(DeployedModel(a, model1), src);
  const std::map<std::string, Json> p2 = Predict(DeployedModel(a, model2), src);
  std::string versions;
  size_t v1 = 0, v2 = 0;
  for (const Json& r : results) {
    const std::string v = r["model"].value("version", "");
    if (versions.empty() || versions.back() != v.back()) versions += v;
    const std::string name = r["image"].value("name", "");
    if (v == "1") {
      ++v1;
      ExpectSameBoxes(r, p1.at(name));
    } else if (v == "2") {
      ++v2;
      ExpectSameBoxes(r, p2.at(name));
    }
  }
  EXPECT_EQ(versions, "12") << "model versions in arrival order";
  EXPECT_GT(v1, 0u);
  EXPECT_GT(v2, 0u);
  EXPECT_EQ(v1 + v2, results.size());
  std::printf("[ e2e ] %zu results with model 1, %zu with model 2, each image once\n", v1, v2);
}

// One raw exchange on the agent's IPC socket: sends `bytes`, returns the first answer frame's
// JSON ("" when none) and whether the agent closed the connection afterwards.
struct RawAnswer {
  std::string json;
  bool closed = false;
};
RawAnswer RawIpc(const std::string& socket_path, const std::string& bytes) {
  RawAnswer out;
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket_path.c_str());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return out;
  }
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  (void)!::write(fd, bytes.data(), bytes.size());
  std::string in;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) in.append(buf, static_cast<size_t>(n));
  out.closed = n == 0;
  ::close(fd);
  if (in.size() >= 4) {
    const uint32_t len = (uint32_t(uint8_t(in[0])) << 24) | (uint32_t(uint8_t(in[1])) << 16) |
                         (uint32_t(uint8_t(in[2])) << 8) | uint32_t(uint8_t(in[3]));
    out.json = in.substr(4, len);
  }
  return out;
}
std::string Frame(const std::string& body) {
  const uint32_t n = static_cast<uint32_t>(body.size());
  return std::string{char(n >> 24), char(n >> 16), char(n >> 8), char(n)} + body;
}

TEST_F(InspectE2eTest, BadFilesGiveErrorResultsAndMalformedFramesAreRefused) {
  const std::string src = Images(3, 41);
  const std::vector<std::string> good = Files(src);
  DeployInspection(1, InspectConfig({{"MaxImageBytes", 1 << 20}}));
  ASSERT_FALSE(HasFailure());
  const Agent& a = agents_[0];
  const pid_t inspect = InspectPid(a);
  ASSERT_GT(inspect, 0);

  const std::string jpeg = Slurp(good[0]);
  const unsigned char png[] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0,    13,
                               'I',  'H', 'D', 'R', 0,    0,    0x75, 0x30, 0, 0, 0x75, 0x30,
                               8,    2,   0,   0,   0,    0,    0,    0,    0, 0};
  // name → the error code its result must carry
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"notes.txt", "InvalidArgument"},    // not an image
      {"empty.jpg", "InvalidArgument"},    // nothing in it
      {"corrupt.jpg", "InvalidArgument"},  // a JPEG start, then noise, then an end marker
      {"cut.jpg", "InvalidArgument"},      // a real JPEG truncated to a third
      {"huge.png", "ResourceExhausted"},   // a header claiming 30000 x 30000 pixels
      {"big.jpg", "ResourceExhausted"}};   // 2 MiB, over MaxImageBytes (1 MiB)
  const std::map<std::string, std::string> data = {
      {"notes.txt", "not an image\n"},
      {"empty.jpg", ""},
      {"corrupt.jpg", "\xff\xd8\xff\xe0" + Bytes(20000, 5) + "\xff\xd9"},
      {"cut.jpg", jpeg.substr(0, jpeg.size() / 3)},
      {"huge.png", std::string(png, png + sizeof png)},
      {"big.jpg", jpeg + Bytes(2 << 20, 6)}};
  FeedFile(a, good[0]);
  for (const auto& [name, code] : bad) Feed(a, name, data.at(name));
  FeedFile(a, good[1]);
  ASSERT_TRUE(WaitResults(a.thing, 2 + bad.size(), 30));

  std::map<std::string, Json> by_name;
  for (const Json& r : Results(a.thing))
    EXPECT_TRUE(by_name.emplace(r["image"].value("name", ""), r).second) << r.dump();
  for (const auto& [name, code] : bad) {
    ASSERT_TRUE(by_name.count(name)) << name;
    const Json& r = by_name[name];
    EXPECT_EQ(r["verdict"], "error") << r.dump();
    EXPECT_EQ(r["error"].value("code", ""), code) << r.dump();
    EXPECT_NE(r["error"].value("message", "").find(name), std::string::npos) << r.dump();
    std::printf("[ e2e ] %-12s -> %s: %s\n", name.c_str(), code.c_str(),
                r["error"].value("message", "").substr(0, 140).c_str());
  }
  for (int i : {0, 1}) {
    const std::string name = fs::path(good[i]).filename().string();
    EXPECT_NE(by_name[name].value("verdict", ""), "error") << by_name[name].dump();
  }
  EXPECT_EQ(InspectPid(a), inspect) << "vqi-inspect kept running (never restarted)";

  // Malformed frames on the agent's socket: one InvalidArgument answer each, then closed.
  const std::string sock = a.root + "/ipc.socket";
  for (const std::string& bytes : {std::string("\xff\xff\xff\xff", 4) + "x",  // length > 1 MiB
                                   std::string(4, '\0'),                      // length 0
                                   Frame("this is not JSON"), Frame("[1, 2, 3]")}) {
    const RawAnswer r = RawIpc(sock, bytes);
    EXPECT_NE(r.json.find("\"InvalidArgument\""), std::string::npos) << r.json;
    EXPECT_NE(r.json.find("malformed IPC frame"), std::string::npos) << r.json;
    EXPECT_TRUE(r.closed);
  }
  // A wrong token, a request before Connect: PermissionDenied, then closed.
  for (const std::string& body :
       {std::string(R"({"op": "Connect", "id": 0, "token": "not-a-token"})"),
        std::string(R"({"op": "PublishToIoTCore", "id": 1, "topic": "vqi/v1/results/cam-1/x",
                        "payload": {}})")}) {
    const RawAnswer r = RawIpc(sock, Frame(body));
    EXPECT_NE(r.json.find("\"PermissionDenied\""), std::string::npos) << r.json;
    EXPECT_TRUE(r.closed);
  }
  // The agent keeps serving: the next image's result is published through it.
  FeedFile(a, good[2]);
  EXPECT_TRUE(WaitResults(a.thing, 3 + bad.size(), 20));
  EXPECT_EQ(InspectPid(a), inspect);
  EXPECT_TRUE(a.proc->Alive());
  EXPECT_EQ(AgentStatus(a)["components"][kInspect].value("state", ""), "RUNNING");
}

}  // namespace
}  // namespace vqi::e2e
