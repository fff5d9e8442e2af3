// Training throughput (images/s) per model scale and input size: forward + loss + backward +
// SGD step at batch 16 on random inputs (no data loading). Usage:
//   train_bench [--scales t,n] [--sizes 480x320,320x224] [--batch 16] [--steps 3] [--threads N]
//               [--layout nchw|nhwc]
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "vqi/base/system.h"
#include "vqi/train/train.h"

namespace {

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string scales = "t,n", sizes = "480x320,320x224";
  int batch = 16, steps = 3, threads = vqi::HardwareThreads();
  bool channels_last = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--scales") scales = v;
    else if (k == "--sizes") sizes = v;
    else if (k == "--batch") batch = std::atoi(v.c_str());
    else if (k == "--steps") steps = std::atoi(v.c_str());
    else if (k == "--threads") threads = std::atoi(v.c_str());
    else if (k == "--layout" && (v == "nchw" || v == "nhwc")) channels_last = v == "nhwc";
    else {
      std::fprintf(stderr, "unknown flag %s\n", k.c_str());
      return 2;
    }
  }
  std::printf("%-6s %-9s %6s %8s %12s\n", "scale", "imgsz", "batch", "threads", "images/s");
  for (const auto& scale : SplitList(scales)) {
    for (const auto& size : SplitList(sizes)) {
      vqi::model::ModelConfig cfg;
      cfg.scale = scale;
      if (std::sscanf(size.c_str(), "%dx%d", &cfg.input_w, &cfg.input_h) != 2) {
        std::fprintf(stderr, "bad size %s (expected WxH)\n", size.c_str());
        return 2;
      }
      auto r = vqi::train::MeasureTrainStep(cfg, batch, steps, threads, channels_last);
      if (!r.ok()) {
        std::fprintf(stderr, "%s %s: %s\n", scale.c_str(), size.c_str(),
                     r.status().ToString().c_str());
        return 1;
      }
      std::printf("%-6s %-9s %6d %8d %12.2f\n", scale.c_str(), size.c_str(), batch, threads, *r);
      std::fflush(stdout);
    }
  }
  return 0;
}
