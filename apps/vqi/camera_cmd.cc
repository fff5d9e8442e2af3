// `vqi camera simulate`: a stand-in for an industrial camera (libs/inspect camera.h).
#include <cstdio>

#include "cli.h"
#include "vqi/inspect/camera.h"

namespace vqi::cli {
namespace {

struct CameraFlags {
  inspect::CameraOptions options;
  bool verbose = false;
};

Status RunSimulate(const Context& ctx, const CameraFlags& f) {
  VQI_ASSIGN_OR_RETURN(
      inspect::CameraReport r,
      inspect::SimulateCamera(f.options, RealClock(), [&](const std::string& name) {
        if (f.verbose) std::printf("%s\n", name.c_str()), std::fflush(stdout);
      }));
  if (ctx.json) {
    std::printf("{\"files\": %lld, \"bytes\": %lld, \"seconds\": %.3f}\n",
                static_cast<long long>(r.files), static_cast<long long>(r.bytes), r.seconds);
  } else {
    std::fprintf(stderr, "wrote %lld files (%lld bytes) to %s in %.2f s\n",
                 static_cast<long long>(r.files), static_cast<long long>(r.bytes),
                 f.options.to.c_str(), r.seconds);
  }
  return Status::Ok();
}

const bool kRegistered = Register([](CLI::App& app, Context& ctx) {
  CLI::App& camera = Noun(app, "camera", "A simulated camera for demos and tests");
  auto f = std::make_shared<CameraFlags>();
  auto* sim = camera.add_subcommand(
      "simulate", "copy files into a camera folder at a fixed rate (write, then rename)");
  sim->add_option("--from", f->options.from, "folder of images to send")
      ->required()
      ->check(NonEmpty());
  sim->add_option("--to", f->options.to, "the camera folder (created)")
      ->required()
      ->check(NonEmpty());
  sim->add_option("--fps", f->options.fps, "files per second")->check(InRange(0.001, 1000.0));
  sim->add_option("--count", f->options.count,
                  "files to write (default: each file once; more cycles through them)")
      ->check(InRange<int64_t>(0, 100000000));
  sim->add_flag("--verbose", f->verbose, "print each file name as it is written");
  sim->callback([&ctx, f] { Exit(RunSimulate(ctx, *f)); });
});

}  // namespace
}  // namespace vqi::cli
