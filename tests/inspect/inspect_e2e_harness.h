// Test support for issue 20's end-to-end tests (tests/inspect/inspect_e2e*_test.cc): the fleet of
// tests/fleet_e2e_harness.h (a real `vqi broker run`, `vqi server --mqtt --tls-auto`, one
// `vqi-agent run --bundle` per thing) running the shipped inspection component `vqi.inspect`
// (components/recipes/vqi-inspect.yaml, the real vqi-inspect binary as its artifact) with a model
// component `vqi.model.tags` made by `vqi component from-model` from a registered, approved,
// random-weight `t` model; an independent results subscriber (`mosquitto_sub`, Debian's
// mosquitto-clients, with the server identity's certificate, which the broker's ACL lets read
// `vqi/v1/results/#`); camera folders fed with synthetic tags; `vqi model predict` to compare.
//
// Binaries: $VQI_BIN, VQI_AGENT_BIN, VQI_INSPECT_BIN, VQI_IPC_BIN; the recipe:
// VQI_SOURCE_DIR/components/recipes/vqi-inspect.yaml; VQI_INSPECT_BACKEND_NAME (the backend
// vqi-inspect links, passed to `vqi model predict` too).
#pragma once

#include <set>
#include <sstream>

#include "fleet_e2e_harness.h"

namespace vqi::e2e {

inline constexpr const char* kInspect = "vqi.inspect";
inline constexpr const char* kGroup = "tags";
inline constexpr const char* kModelComponent = "vqi.model.tags";
inline constexpr const char* kMosquittoSub = "/usr/bin/mosquitto_sub";

// One message as mosquitto_sub printed it (`-v`: "<topic> <payload>").
struct Message {
  std::string topic;
  Json payload;
};

class InspectE2e : public FleetE2e {
 protected:
  void SetUp() override {
    FleetE2e::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (::access(kMosquittoSub, X_OK) != 0)
      GTEST_SKIP() << "no " << kMosquittoSub << " (Debian's mosquitto-clients)";
  }
  void TearDown() override {
    if (HasFailure())
      std::fprintf(stderr, "--- mosquitto_sub (%zu messages) ---\n%s\n", Messages().size(),
                   Tail(sub_.Log(), 3000).c_str());
    for (auto& c : cameras_) c->Stop(5);
    sub_.Stop(5);
    FleetE2e::TearDown();
  }

  static std::string Recipe() {
    return std::string(VQI_SOURCE_DIR) + "/components/recipes/vqi-inspect.yaml";
  }

  // A random-weight `t` model (seed `seed`), registered in group `tags`, approved, and packaged
  // by `vqi component from-model`: the new vqi.model.tags version ("1.0.0", ...).
  std::string NewModel(int seed) {
    const std::string d = dir_ + "/models/" + std::to_string(seed);
    fs::create_directories(d);
    CmdResult r = Vqi("model export --random t --imgsz 96x64 --seed " + std::to_string(seed) +
                      " --out " + d + "/model.onnx");
    EXPECT_EQ(r.code, 0) << r.out;
    const Json report = {{"model", d + "/model.onnx"},
                         {"failed_images", 0},
                         {"metrics",
                          {{"images", 20},
                           {"map50", 0.9},
                           {"map75", 0.5},
                           {"map50_95", 0.6},
                           {"precision", 0.8},
                           {"recall", 0.7},
                           {"f1", 0.75},
                           {"per_class", Json::array()}}}};
    Write(d + "/report.json", report.dump());
    r = Vqi("model register --group " + std::string(kGroup) + " --model " + d +
            "/model.onnx --report " + d + "/report.json --by e2e");
    EXPECT_EQ(r.code, 0) << r.out;
    r = Vqi("model approve --group " + std::string(kGroup) + " --version " +
            std::to_string(++registered_) + " --by e2e");
    EXPECT_EQ(r.code, 0) << r.out;
    r = Vqi("component from-model --group " + std::string(kGroup) + " --key acme --json");
    EXPECT_EQ(r.code, 0) << r.out;
    const std::string version = JsonOf(r).value("version", "");
    EXPECT_FALSE(version.empty()) << r.out;
    return version;
  }

  // vqi.inspect@`version` from the shipped recipe and the real vqi-inspect binary.
  void InspectComponent(const std::string& version) {
    ASSERT_EQ(::access(Recipe().c_str(), R_OK), 0) << "no recipe " << Recipe();
    const CmdResult c =
        Vqi("component create --recipe " + Recipe() + " --artifact " + VQI_INSPECT_BIN +
            " --var COMPONENT_VERSION=" + version + " --var MODEL_GROUP=" + kGroup + " --key acme");
    ASSERT_EQ(c.code, 0) << c.out;
  }

  // The configuration merged into vqi.inspect by every deployment of these tests: the camera
  // folder relative to the component's work folder (the same document fits every device), the
  // backend vqi-inspect links and one thread (as `vqi model predict --threads 1`), a threshold
  // a random-weight model reaches, no uncertain band (a random-weight model's best scores fall
  // in the default one, and uploads of every image would share the spool and the subscriber's
  // log; uploads are acceptance 4's). `extra` is merged over it.
  static Json InspectConfig(const Json& extra = Json::object()) {
    Json c = {{"ImageDirectory", "camera"},
              {"ScoreThreshold", 0.001},
              {"UncertainBand", {1.0, 1.0}},
              {"Backend", VQI_INSPECT_BACKEND_NAME},
              {"Threads", 1},
              {"SettleSeconds", 0.3}};
    c.merge_patch(extra);
    return c;
  }
  static std::string InspectDoc(const std::string& model, const std::string& inspect,
                                const Json& config = InspectConfig()) {
    const Json doc = {
        {"deploymentName", "inspect e2e"},
        {"components",
         {{kModelComponent, {{"componentVersion", model}}},
          {kInspect,
           {{"componentVersion", inspect}, {"configurationUpdate", {{"merge", config.dump()}}}}}}},
        {"deploymentPolicies", {{"failureHandlingPolicy", "ROLLBACK"}}}};
    return doc.dump();
  }

  // The camera folder of `a`'s vqi.inspect (made before the deployment: vqi-inspect refuses to
  // start without it, as it would on a device whose camera is not mounted).
  static std::string Camera(const Agent& a) { return a.root + "/work/" + kInspect + "/camera"; }
  void MakeCameras() {
    for (const Agent& a : agents_) fs::create_directories(Camera(a));
  }

  // `count` synthetic tag images (`vqi dataset synth`, seed `seed`): their folder.
  std::string Images(int count, int seed) {
    const std::string d = dir_ + "/synth-" + std::to_string(seed);
    const CmdResult r = Vqi("dataset synth --count " + std::to_string(count) + " --seed " +
                            std::to_string(seed) + " --out " + d);
    EXPECT_EQ(r.code, 0) << r.out;
    return d + "/images";
  }
  static std::vector<std::string> Files(const std::string& folder) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(folder)) out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    return out;
  }
  // Puts `data` into `a`'s camera folder as `name`, as a camera would: written beside it under
  // a hidden name, then renamed in (vqi-inspect sees IN_MOVED_TO).
  void Feed(const Agent& a, const std::string& name, const std::string& data) {
    const std::string tmp = Camera(a) + "/." + name + ".tmp";
    {
      std::ofstream f(tmp, std::ios::binary);
      f << data;
    }
    ASSERT_EQ(::rename(tmp.c_str(), (Camera(a) + "/" + name).c_str()), 0) << name;
  }
  void FeedFile(const Agent& a, const std::string& path) {
    Feed(a, fs::path(path).filename().string(), Slurp(path));
  }

  // mosquitto_sub on vqi/v1/results/# (QoS 1, persistent session, so an outage loses nothing
  // for it either), printing "topic payload" per message.
  void StartSubscriber() {
    const std::string pki = home_ + "/pki";
    ASSERT_TRUE(WaitFor([&] { return fs::exists(pki + "/identities/vqi-server.key"); }, 10));
    // (stdbuf -oL: its stdout is a file, flushed per line so the test sees each message.)
    ASSERT_TRUE(sub_.Start({"/usr/bin/stdbuf",
                            "-oL",
                            kMosquittoSub,
                            "-h",
                            "127.0.0.1",
                            "-p",
                            std::to_string(broker_port_),
                            "--cafile",
                            pki + "/ca.pem",
                            "--cert",
                            pki + "/identities/vqi-server.pem",
                            "--key",
                            pki + "/identities/vqi-server.key",
                            "-i",
                            "e2e-mosquitto-sub",
                            "-c",
                            "-q",
                            "1",
                            "-t",
                            "vqi/v1/results/#",
                            "-v",
                            "-d"},
                           dir_ + "/mosquitto_sub.log"));
    // Subscribed once its SUBACK arrived (-d prints it; debug lines never start with "vqi/").
    ASSERT_TRUE(sub_.WaitLog("received SUBACK", 10)) << sub_.Log();
    ASSERT_TRUE(sub_.Alive()) << sub_.Log();
  }

  // Every message mosquitto_sub printed so far, in arrival order (lines that are not
  // "vqi/... {json}" — its own errors — are skipped; a payload that is not JSON fails the test).
  std::vector<Message> Messages() {
    std::vector<Message> out;
    std::istringstream in(sub_.Log());
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("vqi/", 0) != 0) continue;
      const size_t sp = line.find(' ');
      auto j = ParseJson(sp == std::string::npos ? "" : line.substr(sp + 1), "mosquitto_sub");
      EXPECT_TRUE(j.ok()) << line.substr(0, 300);
      if (j.ok()) out.push_back({line.substr(0, sp), *j});
    }
    return out;
  }
  // The result messages of thing `thing` (topic vqi/v1/results/<thing>/vqi.inspect).
  std::vector<Json> Results(const std::string& thing) {
    std::vector<Json> out;
    const std::string topic = "vqi/v1/results/" + thing + "/" + kInspect;
    for (Message& m : Messages())
      if (m.topic == topic) out.push_back(std::move(m.payload));
    return out;
  }
  // Waits until `thing` has results for `n` distinct image names.
  bool WaitResults(const std::string& thing, size_t n, double seconds) {
    return WaitFor([&] { return Names(Results(thing)).size() >= n; }, seconds);
  }
  static std::set<std::string> Names(const std::vector<Json>& results) {
    std::set<std::string> s;
    for (const Json& r : results) s.insert(r["image"].value("name", ""));
    return s;
  }

  // The detections of `vqi model predict` (one thread, vqi-inspect's backend) per file name.
  std::map<std::string, Json> Predict(const std::string& model, const std::string& images) {
    const CmdResult r = Vqi("--threads 1 model predict --model " + model + " --images " + images +
                            " --conf 0.001 --backend " + VQI_INSPECT_BACKEND_NAME);
    EXPECT_EQ(r.code, 0) << r.out;
    std::map<std::string, Json> out;
    std::istringstream in(r.out);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] != '{') continue;
      auto p = ParseJson(line, "vqi model predict");
      if (!p.ok()) continue;
      out[fs::path((*p)["file"].get<std::string>()).filename().string()] = (*p)["detections"];
    }
    return out;
  }
  // Adds a failure for every difference between a result's detections and predict's.
  static void ExpectSameBoxes(const Json& result, const Json& predicted) {
    const std::string name = result["image"].value("name", "");
    const Json& ours = result["detections"];
    ASSERT_EQ(ours.size(), predicted.size()) << name;
    for (size_t i = 0; i < ours.size(); ++i) {
      EXPECT_EQ(ours[i]["box"].dump(), predicted[i]["box"].dump()) << name << " #" << i;
      EXPECT_EQ(ours[i]["confidence"].dump(), predicted[i]["score"].dump()) << name << " #" << i;
      EXPECT_EQ(ours[i]["class"], predicted[i]["class"]) << name << " #" << i;
    }
    EXPECT_EQ(result["verdict"], predicted.empty() ? "pass" : "fail") << name;
  }

  // The pid of `a`'s running vqi-inspect (0: none): the process whose environment holds the
  // agent's root and whose executable is vqi-inspect.
  static pid_t InspectPid(const Agent& a) {
    for (const auto& e : fs::directory_iterator("/proc")) {
      const std::string pid = e.path().filename().string();
      if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
      std::error_code ec;
      const fs::path exe = fs::read_symlink(e.path() / "exe", ec);
      if (ec || exe.filename() != "vqi-inspect") continue;
      std::string env = Slurp(e.path().string() + "/environ");
      std::replace(env.begin(), env.end(), '\0', '\n');
      if (("\n" + env).find("\nVQI_AGENT_ROOT=" + a.root + "\n") != std::string::npos)
        return static_cast<pid_t>(std::stol(pid));
    }
    return 0;
  }

  // Model 1.0.0 (seed 11) and vqi.inspect 1.0.0 on `things` devices with camera folders, the
  // subscriber listening; the deployment SUCCEEDED. Returns the model component version.
  std::string DeployInspection(int things, const Json& config = InspectConfig()) {
    const std::string model = NewModel(11);
    EXPECT_EQ(model, "1.0.0");
    InspectComponent("1.0.0");
    if (HasFatalFailure()) return "";
    StartFleet(things);
    if (HasFatalFailure()) return "";
    MakeCameras();
    StartSubscriber();
    if (HasFatalFailure()) return "";
    const std::string id = Deploy("d1", InspectDoc(model, "1.0.0", config));
    EXPECT_TRUE(WaitDeployment(id, "SUCCEEDED", 60));
    std::printf("[ e2e ] model %s + vqi.inspect 1.0.0 -> SUCCEEDED on %d devices: %.2f s\n",
                model.c_str(), things, last_wait_seconds_);
    return model;
  }
  // The deployed model file on `a` (what vqi-inspect loaded).
  static std::string DeployedModel(const Agent& a, const std::string& version) {
    return a.root + "/packages/artifacts/" + kModelComponent + "/" + version + "/model.onnx";
  }
  // `vqi camera simulate --from FROM --to <a's camera> --fps FPS` (names in sorted order).
  Proc& StartCamera(const Agent& a, const std::string& from, double fps) {
    cameras_.push_back(std::make_unique<Proc>());
    EXPECT_TRUE(
        cameras_.back()->Start({std::getenv("VQI_BIN"), "camera", "simulate", "--from", from,
                                "--to", InspectE2e::Camera(a), "--fps", std::to_string(fps)},
                               dir_ + "/camera-" + a.thing + ".log"));
    return *cameras_.back();
  }

  Proc sub_;
  std::vector<std::unique_ptr<Proc>> cameras_;
  int registered_ = 0;
};

}  // namespace vqi::e2e
