// `vqi model export`: checkpoint -> ONNX (libs/onnx). `vqi model optimize` lives in
// infer_cmd_optimize.cc because it measures the accuracy change with libs/infer.
#include <cstdio>

#include "cli.h"
#include "vqi/base/file.h"
#include "vqi/onnx/export.h"
#include "vqi/onnx/weights.h"

namespace vqi::cli {
namespace {

struct ExportArgs {
  std::string checkpoint, out, version = "1", random_scale, imgsz = "640x640", classes = "scratch";
  bool float16 = false;
  uint32_t seed = 0;
};

Result<model::Checkpoint> RandomFromArgs(const ExportArgs& a) {
  model::ModelConfig cfg;
  cfg.name = "random-yolov8" + a.random_scale;
  cfg.scale = a.random_scale;
  int w = 0, h = 0;
  if (std::sscanf(a.imgsz.c_str(), "%dx%d", &w, &h) == 2) {
    cfg.input_w = w;
    cfg.input_h = h;
  } else if (std::sscanf(a.imgsz.c_str(), "%d", &w) == 1) {
    cfg.input_w = cfg.input_h = w;
  } else {
    return InvalidArgument("--imgsz '" + a.imgsz + "': expected WxH or N");
  }
  cfg.class_names.clear();
  size_t start = 0;
  while (start <= a.classes.size()) {
    size_t comma = a.classes.find(',', start);
    if (comma == std::string::npos) comma = a.classes.size();
    cfg.class_names.push_back(a.classes.substr(start, comma - start));
    start = comma + 1;
  }
  VQI_RETURN_IF_ERROR(cfg.Validate());
  return onnx::RandomCheckpoint(cfg, a.seed);
}

Status RunExport(const ExportArgs& a, const Context& ctx) {
  if (a.checkpoint.empty() == a.random_scale.empty())
    return InvalidArgument("give exactly one of --checkpoint or --random");
  onnx::ExportOptions opt;
  opt.model_version = a.version;
  opt.float16_weights = a.float16;
  std::string bytes;
  if (!a.checkpoint.empty()) {
    VQI_ASSIGN_OR_RETURN(model::Checkpoint ck, model::ReadCheckpoint(a.checkpoint));
    VQI_ASSIGN_OR_RETURN(bytes, onnx::ExportOnnx(ck, opt, a.checkpoint));
  } else {
    VQI_ASSIGN_OR_RETURN(model::Checkpoint ck, RandomFromArgs(a));
    VQI_ASSIGN_OR_RETURN(bytes, onnx::ExportOnnx(ck, opt, "random checkpoint"));
  }
  VQI_RETURN_IF_ERROR(WriteFileAtomic(a.out, bytes));
  VQI_ASSIGN_OR_RETURN(onnx::OnnxSummary s, onnx::CheckOnnx(bytes, a.out));
  auto dims = [](const std::vector<int64_t>& d) {
    std::string r;
    for (size_t i = 0; i < d.size(); ++i) r += (i ? "x" : "") + std::to_string(d[i]);
    return r;
  };
  if (ctx.json) {
    Json j = {{"out", a.out},
              {"bytes", bytes.size()},
              {"input", {{"name", s.input_name}, {"shape", s.input_shape}}},
              {"output", {{"name", s.output_name}, {"shape", s.output_shape}}},
              {"opset", s.opset},
              {"nodes", s.node_count},
              {"metadata", s.metadata}};
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("wrote %s (%zu bytes): %s %s -> %s %s, opset %lld, %d nodes, checker OK\n",
                a.out.c_str(), bytes.size(), s.input_name.c_str(), dims(s.input_shape).c_str(),
                s.output_name.c_str(), dims(s.output_shape).c_str(),
                static_cast<long long>(s.opset), s.node_count);
  }
  return Status::Ok();
}

const bool kRegistered = Register([](CLI::App& app, Context& ctx) {
  CLI::App& model = Noun(app, "model", "Train, evaluate and run detectors");
  auto* args = new ExportArgs();  // lives for the process
  auto* ex = model.add_subcommand(
      "export", "Export a checkpoint to ONNX (YOLOv8 detection I/O: images -> output0)");
  ex->add_option("--checkpoint", args->checkpoint, "checkpoint (.safetensors) to export");
  ex->add_option("--out", args->out, "ONNX file to write")->required();
  ex->add_option("--model-version", args->version, "metadata vqi.model_version");
  ex->add_flag("--float16", args->float16, "store conv weights as float16 (half the size)");
  ex->add_option("--random", args->random_scale,
                 "instead of a checkpoint: seeded random weights at this scale (t|n|s|m|l|x)");
  ex->add_option("--imgsz", args->imgsz, "with --random: input WxH or N (default 640x640)");
  ex->add_option("--classes", args->classes, "with --random: comma-separated class names");
  ex->add_option("--seed", args->seed, "with --random: weight seed");
  ex->callback([args, &ctx] { Exit(RunExport(*args, ctx)); });
});

}  // namespace
}  // namespace vqi::cli
