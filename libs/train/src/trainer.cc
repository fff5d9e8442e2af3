#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <numeric>
#include <opencv2/core.hpp>

#include "data.h"
#include "guard.h"
#include "inference.h"
#include "loss.h"
#include "replicas.h"
#include "smoothed.h"
#include "vqi/base/file.h"
#include "vqi/base/log.h"
#include "vqi/base/progress.h"
#include "vqi/base/system.h"
#include "vqi/model/checkpoint.h"
#include "vqi/train/train.h"
#include "yolo.h"

namespace vqi::train {

Json TrainOptions::ToJson() const {
  return Json{{"epochs", epochs},
              {"batch", batch},
              {"time_limit_min", time_limit_min},
              {"seed", seed},
              {"threads", threads},
              {"optimizer", optimizer},
              {"lr0", lr0},
              {"lrf", lrf},
              {"schedule", schedule},
              {"momentum", momentum},
              {"weight_decay", weight_decay},
              {"warmup_epochs", warmup_epochs},
              {"grad_clip", grad_clip},
              {"ema_decay", ema_decay},
              {"ema_tau", ema_tau},
              {"ema_epochs", ema_epochs},
              {"box_gain", box_gain},
              {"cls_gain", cls_gain},
              {"dfl_gain", dfl_gain},
              {"mosaic", mosaic},
              {"close_mosaic", close_mosaic},
              {"scratch", scratch},
              {"max_scratches", max_scratches},
              {"scratch_min_contrast", scratch_min_contrast},
              {"fliplr", fliplr},
              {"flipud", flipud},
              {"hsv_h", hsv_h},
              {"hsv_s", hsv_s},
              {"hsv_v", hsv_v},
              {"translate", translate},
              {"scale", scale},
              {"init_weights", init_weights},
              {"channels_last", channels_last},
              {"replicas", replicas},
              {"precision", precision}};
}

Json TrainSummary::ToJson() const {
  return Json{{"out_dir", out_dir},
              {"best_checkpoint", best_checkpoint},
              {"last_checkpoint", last_checkpoint},
              {"smoothed_checkpoint", smoothed_checkpoint},
              {"metrics_log", metrics_log},
              {"epochs", epochs},
              {"best_epoch", best_epoch},
              {"best_map50", best_map50},
              {"best_map50_95", best_map50_95},
              {"seconds", seconds},
              {"images_per_sec", images_per_sec}};
}

double EmaDecay(const TrainOptions& o, int steps_per_epoch, double updates) {
  double decay = o.ema_decay, tau = o.ema_tau;
  if (o.ema_epochs > 0 && steps_per_epoch > 0) {
    const double horizon = o.ema_epochs * steps_per_epoch;  // updates
    decay = std::min(decay, std::max(0.0, 1 - 1 / horizon));
    tau = std::min(tau, horizon);
  }
  return decay * (1 - std::exp(-updates / tau));
}

namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// "<what>: <v> is out of range [lo, hi]" unless lo <= v <= hi (NaN is never in range).
template <class T>
Status CheckRange(const char* what, T v, T lo, T hi) {
  if (v >= lo && v <= hi) return Status::Ok();
  return InvalidArgument(fmt::format("{}: {} is out of range [{}, {}]", what, v, lo, hi));
}

Status CheckOptions(const TrainOptions& o) {
  VQI_RETURN_IF_ERROR(o.model.Validate());
  VQI_RETURN_IF_ERROR(CheckRange("epochs", o.epochs, 1, kMaxEpochs));
  VQI_RETURN_IF_ERROR(CheckRange("batch", o.batch, 1, kMaxBatch));
  const int64_t batch_pixels = int64_t{o.batch} * o.model.input_w * o.model.input_h;
  if (batch_pixels > kMaxBatchPixels)
    return ResourceExhausted(fmt::format(
        "batch {} x input {}x{} is {} pixels per step, more than the limit {} (lower batch or "
        "input size)",
        o.batch, o.model.input_w, o.model.input_h, batch_pixels, kMaxBatchPixels));
  if (o.threads != 0) VQI_RETURN_IF_ERROR(CheckThreadCount(o.threads, "threads"));
  VQI_RETURN_IF_ERROR(CheckRange("workers", o.workers, 1, kMaxWorkers));
  VQI_RETURN_IF_ERROR(CheckRange("replicas", o.replicas, 0, kMaxReplicas));
  VQI_RETURN_IF_ERROR(CheckRange("time_limit_min", o.time_limit_min, 0.0, kMaxTimeLimitMin));
  VQI_RETURN_IF_ERROR(CheckRange("lr0", o.lr0, 1e-8, kMaxLearningRate));
  VQI_RETURN_IF_ERROR(CheckRange("lrf", o.lrf, 0.0, 1.0));
  VQI_RETURN_IF_ERROR(CheckRange("momentum", o.momentum, 0.0, 1.0));
  VQI_RETURN_IF_ERROR(CheckRange("weight_decay", o.weight_decay, 0.0, 1.0));
  VQI_RETURN_IF_ERROR(CheckRange("warmup_epochs", o.warmup_epochs, 0.0, double{kMaxEpochs}));
  VQI_RETURN_IF_ERROR(CheckRange("grad_clip", o.grad_clip, 1e-6, 1e6));
  VQI_RETURN_IF_ERROR(CheckRange("ema_decay", o.ema_decay, 0.0, 1.0));
  VQI_RETURN_IF_ERROR(CheckRange("ema_tau", o.ema_tau, 1e-6, 1e12));
  VQI_RETURN_IF_ERROR(CheckRange("ema_epochs", o.ema_epochs, 0.0, double{kMaxEpochs}));
  for (auto [what, v] : {std::pair{"box_gain", o.box_gain}, std::pair{"cls_gain", o.cls_gain},
                         std::pair{"dfl_gain", o.dfl_gain}})
    VQI_RETURN_IF_ERROR(CheckRange(what, v, 0.0, 1000.0));
  VQI_RETURN_IF_ERROR(CheckRange("close_mosaic", o.close_mosaic, 0, kMaxEpochs));
  VQI_RETURN_IF_ERROR(CheckRange("max_scratches", o.max_scratches, 1, 64));
  VQI_RETURN_IF_ERROR(CheckRange("scratch_min_contrast", o.scratch_min_contrast, 0.01, 1.0));
  VQI_RETURN_IF_ERROR(CheckRange("val_every", o.val_every, 1, kMaxEpochs));
  for (auto [what, v] :
       {std::pair{"mosaic", o.mosaic}, std::pair{"scratch", o.scratch},
        std::pair{"fliplr", o.fliplr}, std::pair{"flipud", o.flipud}, std::pair{"hsv_h", o.hsv_h},
        std::pair{"hsv_s", o.hsv_s}, std::pair{"hsv_v", o.hsv_v},
        std::pair{"translate", o.translate}, std::pair{"scale", o.scale}})
    VQI_RETURN_IF_ERROR(CheckRange(what, v, 0.0, 1.0));
  if (o.optimizer != "adamw" && o.optimizer != "sgd")
    return InvalidArgument("optimizer must be adamw or sgd, not '" + o.optimizer + "'");
  if (o.precision != "fp32" && o.precision != "bf16")
    return InvalidArgument("precision must be fp32 or bf16, not '" + o.precision + "'");
  if (o.precision == "bf16" && !__builtin_cpu_supports("avx512bf16"))
    return FailedPrecondition(
        "precision bf16 needs a CPU with AVX512-BF16 (this one has none; use fp32)");
  if (o.schedule != "cosine" && o.schedule != "linear")
    return InvalidArgument("schedule must be cosine or linear, not '" + o.schedule + "'");
  if (o.out_dir.empty()) return InvalidArgument("--out must not be empty");
  return Status::Ok();
}

// Exponential moving average of all floating-point parameters and buffers (Ultralytics
// ModelEMA; the decay schedule is EmaDecay()).
class Ema {
 public:
  Ema(Yolo& model, const TrainOptions& o, int steps_per_epoch)
      : o_(o), steps_per_epoch_(steps_per_epoch) {
    ema_ = Yolo(model->config());
    ema_->eval();
    Copy(*model, *ema_, 0.0);
  }
  void Update(Yolo& model) {
    ++updates_;
    Copy(*model, *ema_, EmaDecay(o_, steps_per_epoch_, updates_));
  }
  Yolo& model() { return ema_; }
  double updates() const { return updates_; }
  void set_updates(double u) { updates_ = u; }

 private:
  static void Copy(torch::nn::Module& src, torch::nn::Module& dst, double d) {
    torch::NoGradGuard ng;
    auto sp = src.named_parameters(), dp = dst.named_parameters();
    for (auto& p : dp) p.value().mul_(d).add_(sp[p.key()].detach(), 1 - d);
    auto sb = src.named_buffers(), db = dst.named_buffers();
    for (auto& b : db) {
      if (!b.value().is_floating_point()) {
        b.value().copy_(sb[b.key()]);
        continue;
      }
      b.value().mul_(d).add_(sb[b.key()], 1 - d);
    }
  }
  Yolo ema_{nullptr};
  const TrainOptions& o_;
  int steps_per_epoch_;
  double updates_ = 0;
};

// Converts the 4-D parameters (convolution weights) to channels-last in place; the tensors
// keep their identity, so optimizer state keyed by them stays attached.
void ToChannelsLast(torch::nn::Module& m) {
  torch::NoGradGuard ng;
  for (auto& p : m.parameters())
    if (p.dim() == 4 && !p.is_contiguous(torch::MemoryFormat::ChannelsLast))
      p.set_data(p.data().contiguous(torch::MemoryFormat::ChannelsLast));
}

struct Groups {
  std::vector<torch::Tensor> decay, no_decay_bn, bias;
};

Groups SplitParams(torch::nn::Module& m) {
  Groups g;
  for (auto& p : m.named_parameters()) {
    if (!p.value().requires_grad()) continue;
    const std::string& n = p.key();
    if (n.ends_with(".bias"))
      g.bias.push_back(p.value());
    else if (n.find(".bn.") != std::string::npos)
      g.no_decay_bn.push_back(p.value());
    else
      g.decay.push_back(p.value());
  }
  return g;
}

std::unique_ptr<torch::optim::Optimizer> MakeOptimizer(const TrainOptions& o, const Groups& g,
                                                       double wd) {
  using namespace torch::optim;
  if (o.optimizer == "sgd") {
    auto opt = [&](double decay) {
      return std::make_unique<SGDOptions>(
          SGDOptions(o.lr0).momentum(o.momentum).nesterov(true).weight_decay(decay));
    };
    std::vector<OptimizerParamGroup> groups;
    groups.emplace_back(g.no_decay_bn, opt(0));
    groups.emplace_back(g.decay, opt(wd));
    groups.emplace_back(g.bias, opt(0));
    return std::make_unique<SGD>(std::move(groups), SGDOptions(o.lr0));
  }
  auto opt = [&](double decay) {
    return std::make_unique<AdamWOptions>(AdamWOptions(o.lr0)
                                              .betas({o.momentum > 0.99 ? 0.9 : o.momentum, 0.999})
                                              .weight_decay(decay));
  };
  std::vector<OptimizerParamGroup> groups;
  groups.emplace_back(g.no_decay_bn, opt(0));
  groups.emplace_back(g.decay, opt(wd));
  groups.emplace_back(g.bias, opt(0));
  return std::make_unique<AdamW>(std::move(groups), AdamWOptions(o.lr0));
}

void SetLr(torch::optim::Optimizer& opt, size_t group, double lr) {
  opt.param_groups()[group].options().set_lr(lr);
}

double LrFactor(const TrainOptions& o, double epoch, int total) {
  double x = std::min(epoch / std::max(1, total), 1.0);
  if (o.schedule == "linear") return (1 - x) * (1.0 - o.lrf) + o.lrf;
  return ((1 - std::cos(x * M_PI)) / 2) * (o.lrf - 1) + 1;
}

std::string RunId() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", std::gmtime(&t));
  return std::string("train-") + buf;
}

AugmentOptions AugmentFrom(const TrainOptions& o) {
  AugmentOptions a;
  a.mosaic = o.mosaic;
  a.scratch = o.scratch;
  a.max_scratches = o.max_scratches;
  a.scratch_min_contrast = o.scratch_min_contrast;
  a.fliplr = o.fliplr;
  a.flipud = o.flipud;
  a.hsv_h = o.hsv_h;
  a.hsv_s = o.hsv_s;
  a.hsv_v = o.hsv_v;
  a.translate = o.translate;
  a.scale = o.scale;
  return a;
}

// One replica's share of a step: its images, gained loss terms and wall seconds.
struct PartResult {
  int images = 0;
  double box = 0, cls = 0, dfl = 0;
  double forward = 0, loss = 0, backward = 0, targets_s = 0, assign_s = 0;
};

// Wall seconds of one epoch by phase, on the trainer thread; `workers` sums the augmentation
// stages on the loader threads (they overlap the trainer). Written to metrics.jsonl.
struct EpochProfile {
  double data_wait = 0, to_tensor = 0, forward = 0, loss_targets = 0, loss_assign = 0,
         loss_terms = 0, backward = 0, clip_step = 0, ema = 0, validation = 0, checkpoint = 0;
  // With replicas: forward/loss/backward above are the first part's (on this thread);
  // replica_wait = waiting for the other parts after it, grad_sum = summing their gradients.
  double replica_wait = 0, grad_sum = 0;
  double worker_build = 0;
  AugmentTimes workers;
  Json ToJson() const {
    return Json{{"data_wait", data_wait},
                {"to_tensor", to_tensor},
                {"forward", forward},
                {"loss_targets", loss_targets},
                {"loss_assign", loss_assign},
                {"loss_terms", loss_terms},
                {"backward", backward},
                {"clip_step", clip_step},
                {"ema", ema},
                {"validation", validation},
                {"checkpoint", checkpoint},
                {"replica_wait", replica_wait},
                {"grad_sum", grad_sum},
                {"worker_build", worker_build},
                {"workers", workers.ToJson()}};
  }
};

struct State {
  int epoch = 0;     // epochs completed
  int total = 0;     // planned epochs (may shrink to fit a time limit)
  double best = -1;  // best fitness
  int best_epoch = 0;
  double map50 = 0, map50_95 = 0;
  double elapsed = 0;  // training seconds across resumes
  std::string run_id;
};

Status SaveState(const std::string& path, Yolo& model, Ema& ema, torch::optim::Optimizer& opt,
                 const State& s) {
  try {
    torch::serialize::OutputArchive a;
    torch::serialize::OutputArchive am, ae, ao;
    model->save(am);
    ema.model()->save(ae);
    opt.save(ao);
    a.write("model", am);
    a.write("ema", ae);
    a.write("optimizer", ao);
    a.write("scalars", torch::tensor({static_cast<double>(s.epoch), static_cast<double>(s.total),
                                      s.best, static_cast<double>(s.best_epoch), s.map50,
                                      s.map50_95, s.elapsed, ema.updates()},
                                     torch::kDouble));
    std::string tmp = path + ".tmp";
    a.save_to(tmp);
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
      return Unavailable(path + ": cannot rename the saved state into place");
  } catch (const c10::Error& e) {
    return Internal(path + ": cannot save training state: " + e.what_without_backtrace());
  }
  return Status::Ok();
}

Status LoadState(const std::string& path, Yolo& model, Ema& ema, torch::optim::Optimizer& opt,
                 State* s) {
  try {
    torch::serialize::InputArchive a, am, ae, ao;
    a.load_from(path);
    a.read("model", am);
    a.read("ema", ae);
    a.read("optimizer", ao);
    model->load(am);
    ema.model()->load(ae);
    opt.load(ao);
    torch::Tensor sc;
    a.read("scalars", sc);
    auto v = sc.accessor<double, 1>();
    s->epoch = static_cast<int>(v[0]);
    s->total = static_cast<int>(v[1]);
    s->best = v[2];
    s->best_epoch = static_cast<int>(v[3]);
    s->map50 = v[4];
    s->map50_95 = v[5];
    s->elapsed = v[6];
    ema.set_updates(v[7]);
  } catch (const c10::Error& e) {
    return DataLoss(path +
                    ": cannot resume from this training state: " + e.what_without_backtrace());
  }
  return Status::Ok();
}

Status WriteCkpt(const std::string& path, const TrainOptions& o, const TrainData& d, Ema& ema,
                 const State& s, const Json& metrics) {
  model::Checkpoint c;
  c.model = o.model;
  c.train = o.ToJson();
  c.train["source"] = d.source;
  c.split_digest = d.split_digest;
  c.metrics = metrics;
  c.run_id = s.run_id;
  c.epoch = s.epoch;
  c.weights = ExportWeights(*ema.model());
  return model::WriteCheckpoint(path, c);
}

Status AppendLine(const std::string& path, const std::string& line) {
  std::ofstream f(path, std::ios::app);
  f << line << "\n";
  f.flush();
  if (!f) return Unavailable(path + ": cannot append metrics");
  return Status::Ok();
}

}  // namespace

namespace {

Result<TrainSummary> TrainImpl(const TrainOptions& o, const TrainData& d) {
  const auto t_start = Clock::now();
  const int threads = o.threads > 0 ? o.threads : HardwareThreads();
  SetTorchThreads(threads);
  cv::setNumThreads(1);

  // Data.
  VQI_ASSIGN_OR_RETURN(std::vector<LabeledImage> train_set, LoadImages(d.train));
  if (d.synthetic_train > 0) {
    auto s = SynthesizeImages(d.synthetic_train, 0, d.synthetic_seed);
    train_set.insert(train_set.end(), s.begin(), s.end());
  }
  if (train_set.empty()) return InvalidArgument("no training images");
  std::vector<LabeledImage> val_set;
  if (d.synthetic_val > 0) {
    val_set = SynthesizeImages(d.synthetic_val, static_cast<uint64_t>(d.synthetic_train) + 100000,
                               d.synthetic_seed);
  } else if (!d.val.empty()) {
    VQI_ASSIGN_OR_RETURN(val_set, LoadImages(d.val));
  } else {
    val_set = train_set;
  }
  for (const auto& im : train_set)
    for (const auto& b : im.boxes)
      if (b.class_id < 0 || b.class_id >= o.model.nc())
        return InvalidArgument(im.name + ": box class id " + std::to_string(b.class_id) +
                               " outside the model's " + std::to_string(o.model.nc()) + " classes");

  VQI_RETURN_IF_ERROR(MakeDirs(o.out_dir));
  const std::string last = o.out_dir + "/last.safetensors", best = o.out_dir + "/best.safetensors",
                    state_path = o.out_dir + "/last.state",
                    metrics_path = o.out_dir + "/metrics.jsonl",
                    smoothed = o.out_dir + "/smoothed.safetensors";

  // Model, EMA, optimizer, loss.
  torch::manual_seed(o.seed);
  Yolo model(o.model);
  if (!o.init_weights.empty() && !o.resume) {
    VQI_ASSIGN_OR_RETURN(model::Checkpoint init, model::ReadCheckpoint(o.init_weights));
    Status st = ImportWeights(*model, init.weights);
    if (!st.ok()) return st.WithContext(o.init_weights + " (--init)");
  }
  if (o.channels_last) ToChannelsLast(*model);
  const int nb = static_cast<int>((train_set.size() + static_cast<size_t>(o.batch) - 1) /
                                  static_cast<size_t>(o.batch));
  Ema ema(model, o, nb);  // nb = optimizer steps (EMA updates) per epoch
  if (o.channels_last) ToChannelsLast(*ema.model());
  Groups groups = SplitParams(*model);
  const double wd = o.weight_decay * o.batch / 64.0;
  auto opt = MakeOptimizer(o, groups, wd);
  const AugmentOptions aug = AugmentFrom(o);

  State st;
  SmoothedBest smooth;  // the "smoothed" checkpoint choice (smoothed.h)
  st.total = o.epochs;
  st.run_id = RunId();
  if (o.resume) {
    if (!FileExists(state_path))
      return NotFound(state_path + ": nothing to resume (no training state in --out)");
    VQI_RETURN_IF_ERROR(LoadState(state_path, model, ema, *opt, &st));
    if (o.channels_last) {  // loading replaces the tensors' layout with the saved one
      ToChannelsLast(*model);
      ToChannelsLast(*ema.model());
    }
    st.total = o.epochs;  // --epochs may extend a finished run
    auto prev = model::ReadCheckpoint(last);
    if (prev.ok()) st.run_id = prev->run_id;
    if (st.epoch >= st.total)
      return FailedPrecondition(o.out_dir + ": training already finished (" +
                                std::to_string(st.epoch) + " epochs)");
    smooth.Replay(metrics_path);
  } else {
    std::remove(metrics_path.c_str());
  }

  // Data-parallel replicas (replicas.h), built after the weights are final (loaded, resumed,
  // channels-last): their parameters share the model's storage from here on. The calling
  // thread runs the first part with `rep_threads` threads, validation with all of them.
  const int nrep = ReplicaCount(o, threads);
  const int rep_threads = std::max(1, threads / nrep);
  std::vector<Yolo> reps;
  std::vector<std::unique_ptr<ReplicaThread>> rep_workers;
  std::vector<DetectionLoss> loss_fns(static_cast<size_t>(nrep),
                                      DetectionLoss(o.model, {o.box_gain, o.cls_gain, o.dfl_gain}));
  for (int k = 1; k < nrep; ++k) {
    reps.push_back(MakeReplica(model));
    rep_workers.push_back(std::make_unique<ReplicaThread>(rep_threads));
  }
  if (nrep > 1) SetTorchThreads(rep_threads);
  // The calling thread (and libtorch's default for new threads, which the replica threads
  // set to theirs) gets `threads` back when training ends, however it ends.
  struct RestoreThreads {
    int n;
    bool on;
    ~RestoreThreads() {
      if (on) SetTorchThreads(n);
    }
  } restore_threads{threads, nrep > 1};

  const int warmup_iters = std::max(static_cast<int>(std::lround(o.warmup_epochs * nb)), 20);
  const double elapsed_before = st.elapsed;  // training time of earlier invocations
  int64_t images_seen = 0;
  double train_seconds = 0;
  Json last_metrics = Json::object();
  TrainSummary sum;

  const Layout layout = o.channels_last ? Layout::kHwc : Layout::kChw;
  // The training images scaled to the input once for the run when they fit (the set is
  // small): augmentation then resizes only the images that get synthetic scratches.
  std::vector<ScaledImage> scaled;
  if (static_cast<int64_t>(train_set.size()) * o.model.input_w * o.model.input_h * 3 <=
      kMaxScaledPoolBytes)
    scaled = ScalePool(train_set, o.model.input_w, o.model.input_h);
  const std::vector<ScaledImage>* scaled_pool = scaled.empty() ? nullptr : &scaled;
  // The loader of one epoch: its batches depend only on (seed, epoch, mosaic), so the next
  // epoch's loader starts during validation and checkpoint writing of this one.
  auto make_loader = [&](int epoch) {
    const bool mosaic = epoch < st.total - o.close_mosaic;
    // Epoch order: a seeded shuffle, independent of everything but (seed, epoch).
    std::vector<int> order(train_set.size());
    std::iota(order.begin(), order.end(), 0);
    auto rng = MakeRng(o.seed, 0x0bde, static_cast<uint64_t>(epoch));
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
    return std::make_unique<BatchLoader>(&train_set, order, o.batch, mosaic, aug, o.model.input_w,
                                         o.model.input_h,
                                         MakeRng(o.seed, 0xa06, static_cast<uint64_t>(epoch))(),
                                         std::max(1, o.workers), layout, scaled_pool);
  };
  std::unique_ptr<BatchLoader> next_loader;
  const bool bf16 = o.precision == "bf16";

  for (int epoch = st.epoch; epoch < st.total; ++epoch) {
    const auto t_epoch = Clock::now();
    const bool mosaic = epoch < st.total - o.close_mosaic;
    std::unique_ptr<BatchLoader> loader = next_loader ? std::move(next_loader) : make_loader(epoch);
    ProgressBar bar(nb, "epoch " + std::to_string(epoch + 1) + "/" + std::to_string(st.total),
                    false);
    if (!o.progress) bar.Finish();
    model->train();
    double sbox = 0, scls = 0, sdfl = 0;
    int steps = 0;
    EpochProfile prof;
    for (int b = 0; b < nb; ++b) {
      auto tp = Clock::now();
      auto lap = [&tp](double& into) {
        auto now = Clock::now();
        into += std::chrono::duration<double>(now - tp).count();
        tp = now;
      };
      Batch batch = loader->Next();
      lap(prof.data_wait);
      prof.workers.Add(batch.times);
      prof.worker_build += batch.build_s;
      // Learning rates: warm-up from 0 (biases from 0.1 with SGD) to the scheduled value.
      const int64_t it = static_cast<int64_t>(epoch) * nb + b;
      const double sched = o.lr0 * LrFactor(o, epoch, st.total);
      for (size_t g = 0; g < 3; ++g) {
        double lr = sched;
        if (it < warmup_iters) {
          double x = static_cast<double>(it) / warmup_iters;
          double start = (g == 2 && o.optimizer == "sgd") ? 0.1 : 0.0;
          lr = start + (sched - start) * x;
        }
        SetLr(*opt, g, lr);
        if (o.optimizer == "sgd" && it < warmup_iters) {
          double x = static_cast<double>(it) / warmup_iters;
          static_cast<torch::optim::SGDOptions&>(opt->param_groups()[g].options())
              .momentum(0.8 + (o.momentum - 0.8) * x);
        }
      }
      const int64_t ih = o.model.input_h, iw = o.model.input_w;
      auto x = layout == Layout::kHwc
                   ? torch::from_blob(batch.images.data(), {batch.size, 3, ih, iw},
                                      {3 * ih * iw, 1, 3 * iw, 3}, torch::kFloat)
                   : torch::from_blob(batch.images.data(), {batch.size, 3, ih, iw}, torch::kFloat);
      // The batch in parts, one per replica: images [start, start + size), targets with their
      // image index made part-local.
      const int parts = std::min(nrep, batch.size);
      std::vector<std::vector<float>> part_targets(static_cast<size_t>(parts));
      std::vector<int> part_start(static_cast<size_t>(parts) + 1);
      for (int k = 0; k <= parts; ++k) part_start[static_cast<size_t>(k)] = batch.size * k / parts;
      for (size_t i = 0; i + 6 <= batch.targets.size(); i += 6) {
        const int img = static_cast<int>(batch.targets[i]);
        int k = 0;
        while (img >= part_start[static_cast<size_t>(k) + 1]) ++k;
        auto& t = part_targets[static_cast<size_t>(k)];
        t.insert(t.end(), batch.targets.begin() + static_cast<std::ptrdiff_t>(i),
                 batch.targets.begin() + static_cast<std::ptrdiff_t>(i) + 6);
        t[t.size() - 6] = static_cast<float>(img - part_start[static_cast<size_t>(k)]);
      }
      std::vector<PartResult> results(static_cast<size_t>(parts));
      auto run_part = [&](int k) {
        const auto uk = static_cast<size_t>(k);
        Yolo& m = k == 0 ? model : reps[uk - 1];
        const int start = part_start[uk], n = part_start[uk + 1] - start;
        auto& t = part_targets[uk];
        auto xs = parts == 1 ? x : x.narrow(0, start, n);
        auto ts =
            torch::from_blob(t.data(), {static_cast<int64_t>(t.size() / 6), 6}, torch::kFloat);
        PartResult& r = results[uk];
        auto t0 = Clock::now();
        std::vector<torch::Tensor> feats;
        {
          Bf16Forward bf16_forward(bf16);
          feats = m->forward(xs);
        }
        auto t1 = Clock::now();
        auto loss = loss_fns[uk](feats, ts);
        auto t2 = Clock::now();
        // Gradients set to none rather than zero-filled (libtorch 1.13's Optimizer::zero_grad
        // fills): backward then writes them instead of adding into zeros (every trainable
        // parameter is the model's and gets a gradient each step).
        m->zero_grad(/*set_to_none=*/true);
        loss.total.backward();
        auto t3 = Clock::now();
        r.images = n;
        r.box = loss.box, r.cls = loss.cls, r.dfl = loss.dfl;
        r.forward = std::chrono::duration<double>(t1 - t0).count();
        r.loss = std::chrono::duration<double>(t2 - t1).count();
        r.backward = std::chrono::duration<double>(t3 - t2).count();
        r.targets_s = loss.targets_s, r.assign_s = loss.assign_s;
      };
      for (int k = 1; k < parts; ++k) {
        Yolo& rep = reps[static_cast<size_t>(k) - 1];
        VQI_CHECK_MSG(SharesParameters(model, rep), "replica lost its shared parameters");
        CopyBuffers(model, rep);  // DDP's buffer broadcast: the first part's running stats
        rep_workers[static_cast<size_t>(k) - 1]->Start([&run_part, k] { run_part(k); });
      }
      lap(prof.to_tensor);
      std::exception_ptr part0_error;  // the other parts use this frame: wait before unwinding
      try {
        run_part(0);
      } catch (...) {
        part0_error = std::current_exception();
      }
      if (part0_error) {
        for (int k = 1; k < parts; ++k) {
          try {
            rep_workers[static_cast<size_t>(k) - 1]->Wait();
          } catch (...) {
          }
        }
        std::rethrow_exception(part0_error);
      }
      prof.forward += results[0].forward;
      prof.loss_targets += results[0].targets_s;
      prof.loss_assign += results[0].assign_s;
      prof.loss_terms += results[0].loss - results[0].targets_s - results[0].assign_s;
      prof.backward += results[0].backward;
      tp = Clock::now();  // the part's phases are counted above
      for (int k = 1; k < parts; ++k) rep_workers[static_cast<size_t>(k) - 1]->Wait();
      lap(prof.replica_wait);
      // Sum of the parts' gradients in part order (deterministic): the gradient of the sum of
      // their losses, each (gained terms) x (part size), as one loss over the whole batch.
      for (int k = 1; k < parts; ++k) AddGradients(model, reps[static_cast<size_t>(k) - 1]);
      lap(prof.grad_sum);
      torch::nn::utils::clip_grad_norm_(model->parameters(), o.grad_clip);
      opt->step();
      lap(prof.clip_step);
      ema.Update(model);
      lap(prof.ema);
      PartResult loss;  // size-weighted mean of the parts' terms
      for (const auto& r : results) {
        const double w = static_cast<double>(r.images) / batch.size;
        loss.box += r.box * w, loss.cls += r.cls * w, loss.dfl += r.dfl * w;
      }
      sbox += loss.box, scls += loss.cls, sdfl += loss.dfl;
      ++steps;
      images_seen += batch.size;
      char suffix[128];
      std::snprintf(suffix, sizeof suffix, "box %.3f cls %.3f dfl %.3f", sbox / steps, scls / steps,
                    sdfl / steps);
      bar.Update(b + 1, suffix);
    }
    bar.Finish();
    const double epoch_train_s = Since(t_epoch);
    train_seconds += epoch_train_s;
    st.epoch = epoch + 1;

    // Fit the schedule into the time budget (Ultralytics-style): re-plan total epochs from
    // the measured epoch time.
    if (o.time_limit_min > 0) {
      double per_epoch = (elapsed_before + Since(t_start)) / std::max(1, st.epoch);
      int fit = static_cast<int>(o.time_limit_min * 60 / per_epoch);
      st.total = std::clamp(fit, st.epoch, o.epochs);
    }
    const bool final_epoch = st.epoch >= st.total;
    loader.reset();
    if (!final_epoch) next_loader = make_loader(st.epoch);  // works while we validate
    const bool validate = final_epoch || st.epoch % std::max(1, o.val_every) == 0 ||
                          st.epoch > st.total - std::max(1, st.total / 4);
    Json m{{"epoch", st.epoch},
           {"epochs", st.total},
           {"box", sbox / steps},
           {"cls", scls / steps},
           {"dfl", sdfl / steps},
           {"lr", opt->param_groups()[1].options().get_lr()},
           {"mosaic", mosaic},
           {"train_seconds", epoch_train_s},
           {"images_per_sec", static_cast<double>(train_set.size()) / epoch_train_s}};
    if (validate) {
      auto t_val = Clock::now();
      // With replicas, half of the images on the first replica's thread (same result).
      VQI_ASSIGN_OR_RETURN(ValMetrics vm, Validate(ema.model(), val_set, 8,
                                                   nrep > 1 ? rep_workers.front().get() : nullptr));
      m["map50"] = vm.map50;
      m["map50_95"] = vm.map50_95;
      m["precision"] = vm.precision;
      m["recall"] = vm.recall;
      m["val_seconds"] = Since(t_val);
      prof.validation = m["val_seconds"].get<double>();
      double fitness = Fitness(vm.map50, vm.map50_95);  // Ultralytics fitness
      if (smooth.Add(fitness)) VQI_RETURN_IF_ERROR(WriteCkpt(smoothed, o, d, ema, st, m));
      if (fitness >= st.best) {
        st.best = fitness;
        st.best_epoch = st.epoch;
        st.map50 = vm.map50;
        st.map50_95 = vm.map50_95;
        last_metrics = m;
        VQI_RETURN_IF_ERROR(WriteCkpt(best, o, d, ema, st, m));
      }
    }
    st.elapsed += Since(t_epoch);
    m["elapsed_seconds"] = st.elapsed;
    const auto t_ckpt = Clock::now();
    VQI_RETURN_IF_ERROR(WriteCkpt(last, o, d, ema, st, m));
    VQI_RETURN_IF_ERROR(SaveState(state_path, model, ema, *opt, st));
    prof.checkpoint = Since(t_ckpt);
    m["profile"] = prof.ToJson();
    // Wall time of this invocation so far (checkpoint writing included, unlike elapsed).
    m["wall_seconds"] = Since(t_start);
    VQI_RETURN_IF_ERROR(AppendLine(metrics_path, m.dump()));
    if (o.verbose) {
      double remaining = st.elapsed / st.epoch * (st.total - st.epoch);
      VQI_LOG_INFO("epoch {}/{} box {:.3f} cls {:.3f} dfl {:.3f} {:.1f} img/s{} eta {:.0f}s",
                   st.epoch, st.total, sbox / steps, scls / steps, sdfl / steps,
                   m["images_per_sec"].get<double>(),
                   validate ? fmt::format(" mAP50 {:.3f} mAP50-95 {:.3f}", m["map50"].get<double>(),
                                          m["map50_95"].get<double>())
                            : std::string(),
                   remaining);
    }
  }
  if (!FileExists(best)) VQI_RETURN_IF_ERROR(WriteCkpt(best, o, d, ema, st, last_metrics));
  if (!FileExists(smoothed)) VQI_RETURN_IF_ERROR(WriteCkpt(smoothed, o, d, ema, st, last_metrics));

  sum.out_dir = o.out_dir;
  sum.best_checkpoint = best;
  sum.last_checkpoint = last;
  sum.smoothed_checkpoint = smoothed;
  sum.metrics_log = metrics_path;
  sum.epochs = st.epoch;
  sum.best_epoch = st.best_epoch;
  sum.best_map50 = st.map50;
  sum.best_map50_95 = st.map50_95;
  sum.seconds = Since(t_start);
  sum.images_per_sec = train_seconds > 0 ? images_seen / train_seconds : 0;
  return sum;
}

}  // namespace

int ReplicaCount(const TrainOptions& o, int threads) {
  // Auto: one replica per thread while every part keeps at least kMinAutoPartImages images
  // for its BatchNorm statistics (batch 16 on 2 threads: 2 parts of 8, as Ultralytics' DDP
  // on 2 devices); one intra-op team of all threads otherwise.
  constexpr int kMinAutoPartImages = 8;
  int r = o.replicas > 0 ? o.replicas : std::min(threads, o.batch / kMinAutoPartImages);
  return std::max(1, std::min({r, o.batch, threads}));
}

Result<TrainSummary> Train(const TrainOptions& o, const TrainData& d) {
  VQI_RETURN_IF_ERROR(CheckOptions(o));
  return Guarded("training", [&] { return TrainImpl(o, d); });
}

}  // namespace vqi::train

namespace vqi::train {
namespace {

Result<double> MeasureTrainStepImpl(const model::ModelConfig& cfg, int batch, int steps,
                                    int threads, bool channels_last) {
  SetTorchThreads(threads > 0 ? threads : HardwareThreads());
  torch::manual_seed(0);
  Yolo model(cfg);
  model->train();
  torch::optim::SGD opt(model->parameters(),
                        torch::optim::SGDOptions(0.01).momentum(0.937).nesterov(true));
  DetectionLoss loss_fn(cfg);
  auto x = torch::rand({batch, 3, cfg.input_h, cfg.input_w});
  if (channels_last) {
    ToChannelsLast(*model);
    x = x.contiguous(torch::MemoryFormat::ChannelsLast);
  }
  std::vector<float> t;
  for (int b = 0; b < batch; ++b)
    for (int k = 0; k < 3; ++k) {
      float cx = cfg.input_w * (0.2f + 0.3f * k), cy = cfg.input_h * 0.5f;
      t.insert(t.end(), {static_cast<float>(b), 0, cx - 20, cy - 15, cx + 20, cy + 15});
    }
  auto targets = torch::from_blob(t.data(), {static_cast<int64_t>(t.size() / 6), 6}).clone();
  auto step = [&] {
    auto l = loss_fn(model->forward(x), targets);
    opt.zero_grad();
    l.total.backward();
    opt.step();
  };
  step();
  auto t0 = Clock::now();
  for (int i = 0; i < steps; ++i) step();
  return batch * steps / Since(t0);
}

}  // namespace

Result<double> MeasureTrainStep(const model::ModelConfig& cfg, int batch, int steps, int threads,
                                bool channels_last) {
  VQI_RETURN_IF_ERROR(cfg.Validate());
  if (batch < 1 || batch > kMaxBatch || steps < 1)
    return InvalidArgument("batch must be in [1, " + std::to_string(kMaxBatch) +
                           "] and steps >= 1");
  if (threads != 0) VQI_RETURN_IF_ERROR(CheckThreadCount(threads, "threads"));
  return Guarded("training step",
                 [&] { return MeasureTrainStepImpl(cfg, batch, steps, threads, channels_last); });
}

}  // namespace vqi::train
