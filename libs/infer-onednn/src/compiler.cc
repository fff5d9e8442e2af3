// The compiled program: creation of its steps (once, at load), execution, and details.
#include <omp.h>
#include <strings.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iomanip>
#include <map>
#include <sstream>

#include "compiled_program.h"
#include "softmax_strided.h"

namespace vqi::infer::onednn {

using dnnl::memory;

Buffer AlignedBuffer(int64_t bytes) {
  size_t n = static_cast<size_t>((std::max<int64_t>(bytes, 64) + 63) / 64 * 64);
  Buffer b(static_cast<uint8_t*>(std::aligned_alloc(64, n)));
  if (b) std::memset(b.get(), 0, n);
  return b;
}

// dst[p] = src0[p] | src1[p] | ... for `pixels` pixels, `chunk[k]` bytes of input k per pixel.
// Fixed-size copies for the usual chunk sizes compile to plain vector moves.
void ConcatChannelsLast(const uint8_t* const* src, const int64_t* chunk, size_t n, int64_t pixels,
                        uint8_t* dst) {
  int64_t total = 0;
  for (size_t k = 0; k < n; ++k) total += chunk[k];
  auto pixel = [&](int64_t p) {
    uint8_t* d = dst + p * total;
    for (size_t k = 0; k < n; ++k) {
      const uint8_t* s = src[k] + p * chunk[k];
      switch (chunk[k]) {
        case 8:
          std::memcpy(d, s, 8);
          break;
        case 16:
          std::memcpy(d, s, 16);
          break;
        case 32:
          std::memcpy(d, s, 32);
          break;
        case 64:
          std::memcpy(d, s, 64);
          break;
        case 128:
          std::memcpy(d, s, 128);
          break;
        default:
          std::memcpy(d, s, static_cast<size_t>(chunk[k]));
      }
      d += chunk[k];
    }
  };
  // Even a serialized OpenMP region allocates its team in libgomp: small concats stay out.
  if (pixels * total >= (int64_t{1} << 18) && omp_get_max_threads() > 1) {
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < pixels; ++p) pixel(p);
  } else {
    for (int64_t p = 0; p < pixels; ++p) pixel(p);
  }
}

uint8_t* Model::Ptr(int t, int64_t extra, const float* in, float* out) {
  const TensorPlan& tp = p_.tp[t];
  int r = tp.root;
  uint8_t* base;
  if (r == p_.g.input) {
    base = reinterpret_cast<uint8_t*>(const_cast<float*>(in));
  } else if (r == p_.output) {
    base = reinterpret_cast<uint8_t*>(out);
  } else {
    base = arena_.get() + p_.arena_off[r];
  }
  return base ? base + tp.root_off + extra : nullptr;
}

memory Model::Mem(int t, const memory::desc& md, int64_t extra_off) {
  const Tensor& tt = p_.g.tensors[t];
  if (tt.is_const) {
    auto it = const_mem_.find(t);
    if (it != const_mem_.end()) return it->second;
    memory m(MdOf(p_, t), eng_);
    std::memcpy(m.get_data_handle(), tt.f.data(), tt.f.size() * sizeof(float));
    const_mem_[t] = m;
    return m;
  }
  int r = p_.tp[t].root;
  if (r == p_.g.input || r == p_.output) {
    memory m(md, eng_, DNNL_MEMORY_NONE);
    ext_.push_back({m, r == p_.g.input ? 0 : 1, p_.tp[t].root_off + extra_off});
    return m;
  }
  return memory(md, eng_, Ptr(t, extra_off));
}

bool OmpThreadsSpin() {
  static const bool spin = [] {
    const char* p = std::getenv("OMP_WAIT_POLICY");
    if (p && strcasecmp(p, "passive") == 0) return false;
    if (const char* c = std::getenv("GOMP_SPINCOUNT")) {
      char* end = nullptr;
      long long v = std::strtoll(c, &end, 10);
      if (end != c && *end == '\0' && v < 1000) return false;
    }
    return true;
  }();
  return spin;
}

int64_t SerialConvMacs(int64_t option) {
  if (option >= 0) return option;
  return OmpThreadsSpin() ? 0 : kSerialConvMacsPassive;
}

// Multiply-accumulates of a convolution step (output elements x input channels per group x
// kernel window).
int64_t Model::ConvMacs(const LOp& op) const {
  const Node& n = p_.g.nodes[op.node];
  const Shape& w = p_.g.tensors[n.in[1]].shape;
  return NumElements(p_.g.tensors[op.out[0]].shape) * w[1] * w[2] * w[3];
}

// Small steps run on one thread: a primitive created for one thread executes inline, without
// an OpenMP fork/join, which costs more than the work below these sizes (measured on the t
// scale at 320x224: 2 threads everywhere 3.6 ms, small steps serial 2.x ms; see the design
// note). CompileOptions::serial_conv_macs / serial_bytes set the thresholds.
int Model::StepThreads(const LOp& op) const {
  if (opt_.threads <= 1) return 1;
  const int64_t kMacs = SerialConvMacs(opt_.serial_conv_macs), kBytes = opt_.serial_bytes;
  if (op.out.empty() || op.out[0] < 0) return opt_.threads;
  if (op.kind == LKind::kDetectDecode) {  // compute-bound: ~8 MAC-equivalents per bin
    const Node& n = p_.g.nodes[op.node];
    int64_t work = NumElements(p_.g.tensors[op.out[0]].shape) * n.Int("reg_max", 16) * 8;
    return work < kMacs ? 1 : opt_.threads;
  }
  if (op.kind == LKind::kConv) {
    int64_t macs = ConvMacs(op);
    if (op.int8) macs /= 2;  // VNNI: int8 MACs cost about half (or less) of fp32 ones
    return macs < kMacs ? 1 : opt_.threads;
  }
  return BytesOf(p_, op.out[0]) < kBytes ? 1 : opt_.threads;
}

// Threads: omp_set_num_threads sets the nthreads-var ICV of the calling thread only (OpenMP
// 5.1, 3.2.1; libgomp keeps it in the thread's task ICVs), so each instance sets its own count
// for its primitives and gives the caller's value back before returning: instances with
// different counts coexist in one process (compiler_test ThreadsArePerInstance).
Status Model::Build() {
  const int caller = omp_get_max_threads();
  Status st = BuildSteps();
  omp_set_num_threads(caller);
  return st;
}

Status Model::BuildSteps() {
  omp_set_num_threads(opt_.threads);
  arena_ = AlignedBuffer(p_.arena_bytes);
  if (!arena_) return Unavailable("cannot allocate the tensor arena");
  for (const LOp& op : p_.ops) {
    size_t first = steps_.size();
    int threads = StepThreads(op);
    omp_set_num_threads(threads);
    Status st = Add(op);
    omp_set_num_threads(opt_.threads);
    VQI_RETURN_IF_ERROR(st);
    for (size_t k = first; k < steps_.size(); ++k) steps_[k].threads = threads;
    if (op.kind == LKind::kConv && first < steps_.size()) {  // the convolution (then post-ops)
      const Shape& w = p_.g.tensors[p_.g.nodes[op.node].in[1]].shape;
      steps_[first].macs = ConvMacs(op);
      steps_[first].pointwise = w[2] * w[3] == 1;
    }
  }
  size_t scratch = 0;
  for (const Step& s : steps_) scratch = std::max(scratch, s.scratch.get_size());
  scratch_ = AlignedBuffer(static_cast<int64_t>(scratch));
  for (Step& s : steps_) {
    if (s.scratch.get_size() > 0)
      s.args[DNNL_ARG_SCRATCHPAD] = memory(s.scratch, eng_, scratch_.get());
    for (const auto& [k, m] : s.args) s.c_args.push_back({k, m.get()});
  }
  return Status::Ok();
}

Status Model::Run(const float* input, float* output) {
  const int caller = omp_get_max_threads();
  Status st = RunSteps(input, output);
  omp_set_num_threads(caller);
  return st;
}

Status Model::RunSteps(const float* input, float* output) {
  omp_set_num_threads(opt_.threads);
  last_in_ = input;
  last_out_ = output;
  if (p_.const_output) {
    const auto& f = p_.g.tensors[p_.output].f;
    std::memcpy(output, f.data(), f.size() * sizeof(float));
    return Status::Ok();
  }
  for (External& e : ext_) {
    uint8_t* base = e.which == 0 ? reinterpret_cast<uint8_t*>(const_cast<float*>(input))
                                 : reinterpret_cast<uint8_t*>(output);
    e.mem.set_data_handle(base + e.off);
  }
  int threads = opt_.threads;
  using Clock = std::chrono::steady_clock;
  Clock::time_point last{};
  if (opt_.profile) last = Clock::now();
  try {
    for (size_t i = 0; i < steps_.size(); ++i) {
      if (opt_.profile && i > 0) {
        Clock::time_point now = Clock::now();
        steps_[i - 1].prof_ms += std::chrono::duration<double, std::milli>(now - last).count();
        last = now;
      }
      Step& s = steps_[i];
      if (s.threads != threads) omp_set_num_threads(threads = s.threads);
      if (s.nhwc_concat) {
        for (size_t k = 0; k < s.src.size(); ++k) s.src[k] = Ptr(s.ref->in[k], 0, input, output);
        ConcatChannelsLast(s.src.data(), s.chunk.data(), s.src.size(), s.outer,
                           Ptr(s.ref->out[0], 0, input, output));
        continue;
      }
      if (s.decode) {
        for (size_t k = 0; k < s.dbox.size(); ++k) {
          s.dbox[k].data = reinterpret_cast<const float*>(Ptr(s.ref->in[2 * k], 0, input, output));
          s.dcls[k].data =
              reinterpret_cast<const float*>(Ptr(s.ref->in[2 * k + 1], 0, input, output));
        }
        DetectDecode(s.dparams, s.dbox.data(), s.dcls.data(), s.dbox.size(),
                     reinterpret_cast<float*>(Ptr(s.ref->out[0], 0, input, output)));
        continue;
      }
      if (s.strided_softmax) {
        SoftmaxStrided(reinterpret_cast<const float*>(Ptr(s.ref->in[0], 0, input, output)),
                       reinterpret_cast<float*>(Ptr(s.ref->out[0], 0, input, output)), s.outer,
                       s.len, s.inner);
        continue;
      }
      if (s.ref) {
        for (size_t k = 0; k < s.ref->in.size(); ++k) {
          int t = s.ref->in[k];
          if (t >= 0 && !p_.g.tensors[t].is_const)
            s.ref_in[k].f = reinterpret_cast<const float*>(Ptr(t, 0, input, output));
        }
        for (size_t k = 0; k < s.ref->out.size(); ++k)
          if (s.ref->out[k] >= 0)
            s.ref_out[k].f = reinterpret_cast<float*>(Ptr(s.ref->out[k], 0, input, output));
        RefOp(p_.g.nodes[s.ref->node], p_.g.opset, s.ref_in, s.ref_out);
        continue;
      }
      dnnl_status_t r = dnnl_primitive_execute(s.prim.get(), stream_.get(),
                                               static_cast<int>(s.c_args.size()), s.c_args.data());
      if (r != dnnl_success) {
        return Internal("oneDNN execution failed at " + s.label + " (status " +
                        std::to_string(static_cast<int>(r)) + ")");
      }
    }
    stream_.wait();
    if (opt_.profile && !steps_.empty()) {
      steps_.back().prof_ms +=
          std::chrono::duration<double, std::milli>(Clock::now() - last).count();
      ++prof_runs_;
    }
  } catch (const dnnl::error& e) {
    return Internal(std::string("oneDNN execution failed: ") + e.what());
  }
  return Status::Ok();
}

// Per step kind: ms per run, share, and for convolutions the achieved GFLOP/s (2 FLOP per MAC);
// then the twelve slowest steps.
std::string Model::Profile() const {
  if (prof_runs_ == 0) return "";
  const double runs = static_cast<double>(prof_runs_);
  double total = 0;
  std::map<std::string, std::pair<double, int64_t>> kinds;  // ms, macs
  std::map<std::string, int> counts;
  for (const Step& s : steps_) {
    std::string kind = s.label.substr(0, s.label.find(' '));
    if (kind == "conv" || kind == "conv_s8") {
      kind += s.pointwise ? "(1x1)" : "(kxk)";
      if (s.threads == 1) kind += "[serial]";
    }
    kinds[kind].first += s.prof_ms / runs;
    kinds[kind].second += s.macs;
    ++counts[kind];
    total += s.prof_ms / runs;
  }
  std::ostringstream os;
  os.setf(std::ios::fixed);
  os.precision(3);
  os << " profile: runs=" << prof_runs_ << " total_ms=" << total;
  for (const auto& [k, v] : kinds) {
    os << " | " << k << " x" << counts[k] << " " << v.first << "ms " << std::setprecision(1)
       << 100 * v.first / total << "%";
    if (v.second > 0) os << " " << 2e-6 * static_cast<double>(v.second) / v.first << "GFLOP/s";
    os << std::setprecision(3);
  }
  std::vector<const Step*> order;
  for (const Step& s : steps_) order.push_back(&s);
  std::sort(order.begin(), order.end(),
            [](const Step* a, const Step* b) { return a->prof_ms > b->prof_ms; });
  os << " | slowest:";
  for (size_t k = 0; k < std::min<size_t>(12, order.size()); ++k) {
    const Step& s = *order[k];
    os << " [" << s.label << " " << s.impl << " t" << s.threads << " " << s.prof_ms / runs << "ms";
    if (s.macs > 0) os << " " << 2e-6 * static_cast<double>(s.macs) / (s.prof_ms / runs) << "GF/s";
    os << "]";
  }
  // Every step in program order (label, implementation, threads, ms per run).
  os << " | steps:";
  for (const Step& s : steps_)
    os << " [" << s.label << " " << s.impl << " t" << s.threads << " " << s.prof_ms / runs << "]";
  return os.str();
}

std::string Model::Details() const {
  std::map<std::string, int> impls;
  for (const Step& s : steps_) {
    std::string kind = s.label.substr(0, s.label.find(' '));
    ++impls[kind + "=" + s.impl];
  }
  std::ostringstream os;
  os << "threads=" << opt_.threads << " isa=";
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::avx512_core_amx:
      os << "avx512_core_amx";
      break;
    case dnnl::cpu_isa::avx512_core_bf16:
      os << "avx512_core_bf16";
      break;
    case dnnl::cpu_isa::avx512_core_vnni:
      os << "avx512_core_vnni";
      break;
    case dnnl::cpu_isa::avx512_core:
      os << "avx512_core";
      break;
    case dnnl::cpu_isa::avx2_vnni:
      os << "avx2_vnni";
      break;
    case dnnl::cpu_isa::avx2:
      os << "avx2";
      break;
    default:
      os << "other";
      break;
  }
  os << " layout=" << (p_.block == 16 ? "nChw16c" : p_.block == 8 ? "nChw8c" : "nhwc");
  int serial = 0;
  for (const Step& s : steps_) serial += s.threads == 1;
  os << " steps=" << steps_.size() << " serial_steps=" << serial
     << " serial_macs=" << SerialConvMacs(opt_.serial_conv_macs)
     << " omp_wait=" << (OmpThreadsSpin() ? "spin" : "passive") << " arena_bytes=" << p_.arena_bytes
     << " impls:";
  for (const auto& [k, v] : impls) os << " " << k << "x" << v;
  os << Profile();
  if (opt_.profile) os << " | tuning:" << tune_log_;
  return os.str();
}

Result<std::unique_ptr<CompiledModel>> Compile(Graph g, const CompileOptions& options) {
  Program p;
  p.g = std::move(g);
  p.keep = options.keep;
  p.forced_block = options.block;
  p.bf16 = options.bf16;
  try {
    VQI_RETURN_IF_ERROR(Lower(&p));
    VQI_RETURN_IF_ERROR(PlanMemory(&p));
    auto m = std::make_unique<Model>(std::move(p), options);
    VQI_RETURN_IF_ERROR(m->Build());
    return std::unique_ptr<CompiledModel>(std::move(m));
  } catch (const dnnl::error& e) {  // engine/stream/memory creation outside a node's step
    return Internal(std::string("oneDNN error while compiling: ") + e.what());
  }
}

}  // namespace vqi::infer::onednn
