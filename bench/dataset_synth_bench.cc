// Synthetic metal tags per second: SynthesizeTag at 450x300, single thread, and with JPEG
// encoding as `vqi dataset synth` stores them. Usage: dataset_synth_bench [count=1000]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <opencv2/imgcodecs.hpp>
#include <vector>

#include "vqi/dataset/synth.h"

int main(int argc, char** argv) {
  const int count = argc > 1 ? std::atoi(argv[1]) : 1000;
  if (count <= 0) {
    std::fprintf(stderr, "usage: %s [count > 0]\n", argv[0]);
    return 2;
  }
  cv::setNumThreads(1);
  vqi::dataset::SynthOptions options;  // 450x300, defect probability 0.8, up to 4 scratches
  using Clock = std::chrono::steady_clock;

  size_t boxes = 0, bytes = 0;
  // Wall time and this process's CPU time (the machine may be shared).
  std::clock_t c0 = std::clock();
  auto t0 = Clock::now();
  for (int i = 0; i < count; ++i)
    boxes += vqi::dataset::SynthesizeTag(options, static_cast<uint64_t>(i)).boxes.size();
  const double synth_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const double synth_cpu = double(std::clock() - c0) / CLOCKS_PER_SEC;

  c0 = std::clock();
  t0 = Clock::now();
  std::vector<uchar> buf;
  for (int i = 0; i < count; ++i) {
    const auto img = vqi::dataset::SynthesizeTag(options, static_cast<uint64_t>(i));
    cv::imencode(".jpg", img.bgr, buf, {cv::IMWRITE_JPEG_QUALITY, 95});
    bytes += buf.size();
  }
  const double jpeg_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const double jpeg_cpu = double(std::clock() - c0) / CLOCKS_PER_SEC;

  std::printf("dataset_synth_bench: %d tags %dx%d, %zu boxes\n", count, options.width,
              options.height, boxes);
  std::printf("  synthesize only     %8.1f images/s wall, %8.1f images/s per CPU-second\n",
              count / synth_s, count / synth_cpu);
  std::printf(
      "  synthesize + JPEG   %8.1f images/s wall, %8.1f images/s per CPU-second"
      " (%.1f KiB/image)\n",
      count / jpeg_s, count / jpeg_cpu, bytes / 1024.0 / count);
  return 0;
}
