// TensorObserver (observe.cc) on the compiled program: every observed tensor equals the
// reference interpreter's value (float rounding, 1e-4 relative), fused and unfused.
#include "vqi/infer/observe.h"

#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "test_util.h"
#include "testing/yolo_like.h"

namespace vqi::infer::onednn {
namespace {

bool ReadFileInto(const std::string& path, std::string* out) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out->append(buf, n);
  std::fclose(f);
  return true;
}

std::string WriteTemp(const std::string& bytes, const std::string& name) {
  auto path = std::filesystem::temp_directory_path() /
              ("vqi_observe_" + std::to_string(::getpid()) + "_" + name);
  FILE* f = std::fopen(path.c_str(), "wb");
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
  return path.string();
}

void CheckObserver(const std::vector<std::string>& names, const std::string& path,
                   const Graph& ref_graph) {
  std::vector<float> in =
      testing::RandomVector(NumElements(ref_graph.tensors[ref_graph.input].shape), 9);
  std::map<std::string, std::vector<float>> want;
  want[ref_graph.tensors[ref_graph.input].name] = in;
  std::vector<float> out;
  ASSERT_TRUE(RefRun(ref_graph, in.data(), &out, [&](int t, const Tensor& v) {
                want[ref_graph.tensors[t].name] = v.f;
              }).ok());
  std::string bytes;
  ASSERT_TRUE(ReadFileInto(path, &bytes));
  ::onnx::ModelProto proto;
  ASSERT_TRUE(proto.ParseFromString(bytes));
  // threads 1 from the file, 2 from the parsed model (the overload `vqi model quantize` uses).
  for (int threads : {1, 2}) {
    auto obs = threads == 1 ? OpenTensorObserver(path, names, threads)
                            : OpenTensorObserver(proto, "parsed " + path, names, threads);
    ASSERT_TRUE(obs.ok()) << obs.status().ToString();
    std::set<std::string> seen;
    for (int rep = 0; rep < 2; ++rep) {
      Status st = (*obs)->Run(in.data(), [&](const std::string& n, const float* d, int64_t c) {
        seen.insert(n);
        const auto& w = want.at(n);
        ASSERT_EQ(static_cast<size_t>(c), w.size()) << n;
        for (int64_t k = 0; k < c; ++k)
          ASSERT_NEAR(d[k], w[k], 1e-4 * std::max(1.f, std::fabs(w[k]))) << n << " at " << k;
      });
      ASSERT_TRUE(st.ok()) << st.ToString();
    }
    EXPECT_EQ(seen.size(), names.size());
  }
}

TEST(OneDnnObserve, ConvInputsAndConcatsMatchReference) {
  model::ModelConfig cfg;
  cfg.scale = "t";
  cfg.input_w = 64;
  cfg.input_h = 64;
  auto bytes = testing::BuildYoloLikeOnnx(cfg, 7, 13);
  ASSERT_TRUE(bytes.ok());
  std::string path = WriteTemp(*bytes, "yolo.onnx");
  auto g = LoadOnnxGraph(*bytes, "m");
  ASSERT_TRUE(g.ok());
  ASSERT_TRUE(OptimizeGraph(&*g, {.fuse = false}).ok());
  // What the quantizer observes: conv inputs and value-preserving ops' outputs, plus the
  // graph output.
  std::set<std::string> names;
  for (const Node& n : g->nodes) {
    if (n.dead) continue;
    if (n.op == "Conv") names.insert(g->tensors[n.in[0]].name);
    if (n.op == "Concat" || n.op == "MaxPool" || n.op == "Resize" || n.op == "Split")
      for (int t : n.out) names.insert(g->tensors[t].name);
  }
  names.insert(g->tensors[g->output].name);
  CheckObserver({names.begin(), names.end()}, path, *g);
  // A tensor that fusion removes (a conv's raw output before SiLU): the unfused program.
  std::vector<std::string> raw;
  for (const Node& n : g->nodes)
    if (!n.dead && n.op == "Sigmoid") raw.push_back(g->tensors[n.in[0]].name);
  ASSERT_FALSE(raw.empty());
  raw.resize(3);
  CheckObserver(raw, path, *g);
  std::filesystem::remove(path);
}

TEST(OneDnnObserve, UnknownNameIsAnError) {
  model::ModelConfig cfg;
  cfg.scale = "t";
  cfg.input_w = 64;
  cfg.input_h = 64;
  auto bytes = testing::BuildYoloLikeOnnx(cfg, 7, 13);
  ASSERT_TRUE(bytes.ok());
  std::string path = WriteTemp(*bytes, "yolo2.onnx");
  auto obs = OpenTensorObserver(path, {"no_such_tensor"}, 1);
  EXPECT_FALSE(obs.ok());
  EXPECT_NE(obs.status().ToString().find("no_such_tensor"), std::string::npos);
  ::onnx::ModelProto proto;
  ASSERT_TRUE(proto.ParseFromString(*bytes));
  obs = OpenTensorObserver(proto, "calib.onnx", {"no_such_tensor"}, 1);
  ASSERT_FALSE(obs.ok());
  EXPECT_NE(obs.status().message().find("calib.onnx: no tensor named 'no_such_tensor'"),
            std::string::npos)
      << obs.status().ToString();
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace vqi::infer::onednn
