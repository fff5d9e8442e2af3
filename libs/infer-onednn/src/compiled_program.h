// Internal to the compiler: the compiled program (Model) — one step per primitive or own
// loop, created once by Build from the lowered Program, executed in order by Run. Split over
// compiler.cc (build, run, details), steps.cc (one step per LOp kind) and steps_conv.cc (fp32
// and int8 convolutions).
#pragma once

#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "compiler.h"
#include "detect_decode.h"
#include "lowering.h"
#include "ops.h"

namespace vqi::infer::onednn {

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};
using Buffer = std::unique_ptr<uint8_t, FreeDeleter>;

// A zeroed, 64-byte-aligned buffer of at least `bytes` (null when the allocation fails).
Buffer AlignedBuffer(int64_t bytes);

// dst[p] = src0[p] | src1[p] | ... for `pixels` pixels, `chunk[k]` bytes of input k per pixel.
void ConcatChannelsLast(const uint8_t* const* src, const int64_t* chunk, size_t n, int64_t pixels,
                        uint8_t* dst);

// The oneDNN eltwise algorithm of a fused activation (alpha/beta clamped for Clip).
dnnl::algorithm ActAlg(const std::string& act, float* alpha, float* beta);

struct Step {
  std::string label;       // "kind node-name"
  std::string impl;        // oneDNN implementation name
  int threads = 1;         // OpenMP threads the primitive was created for (and runs with)
  int64_t macs = 0;        // multiply-accumulates of a convolution (profile)
  bool pointwise = false;  // a 1x1 convolution (profile)
  double prof_ms = 0;      // accumulated time over the profiled runs (CompileOptions::profile)
  dnnl::primitive prim{};
  std::unordered_map<int, dnnl::memory> args{};
  std::vector<dnnl_exec_arg_t> c_args{};  // args flattened once for the C API (no allocation)
  dnnl::memory::desc scratch{};
  // Reference fallback, or (with `strided_softmax`) the strided softmax loop.
  const LOp* ref = nullptr;
  bool strided_softmax = false;
  int64_t outer = 0, len = 0, inner = 0;
  // Channel concat of channels-last tensors (own loop): `outer` pixels, `chunk` bytes of each
  // input per pixel; `src` is refilled every run (sized once: no allocation).
  bool nhwc_concat = false;
  std::vector<int64_t> chunk{};
  std::vector<const uint8_t*> src{};
  // The fused detect decode (own loop): box/class inputs per level, their data pointers
  // refilled every run (sized once: no allocation).
  bool decode = false;
  DecodeParams dparams{};
  std::vector<DecodeInput> dbox{}, dcls{};
  std::vector<InValue> ref_in{};
  std::vector<OutValue> ref_out{};
};

// A dnnl::memory bound to the caller's input (which = 0) or output (which = 1) buffer.
struct External {
  dnnl::memory mem;
  int which;
  int64_t off;
};

// Not thread-safe (one Run at a time), like CompiledModel.
class Model final : public CompiledModel {
 public:
  Model(Program p, const CompileOptions& o)
      : p_(std::move(p)), opt_(o), eng_(dnnl::engine::kind::cpu, 0), stream_(eng_) {}

  Status Build();
  Status BuildSteps();

  const Shape& InputShape() const override { return p_.g.tensors[p_.g.input].shape; }
  const Shape& OutputShape() const override { return p_.g.tensors[p_.g.output].shape; }
  size_t ArenaBytes() const override { return static_cast<size_t>(p_.arena_bytes); }
  const float* Kept(int tensor) const override {
    auto it = p_.kept.find(tensor);
    if (it == p_.kept.end()) return nullptr;
    int r = p_.tp[it->second].root;
    if (r < 0 || (r != p_.g.input && r != p_.output && p_.arena_off[r] < 0)) return nullptr;
    return reinterpret_cast<const float*>(
        const_cast<Model*>(this)->Ptr(it->second, 0, last_in_, last_out_));
  }
  Status Run(const float* input, float* output) override;
  Status RunSteps(const float* input, float* output);
  std::string Details() const override;
  std::string Profile() const;  // the per-kind breakdown appended to Details() when profiling

 private:
  const Node* NodeOf(const LOp& op) const { return op.node >= 0 ? &p_.g.nodes[op.node] : nullptr; }
  std::string Label(const LOp& op, const char* kind) const {
    return std::string(kind) + " " + (op.node >= 0 ? p_.g.nodes[op.node].name : "(copy)");
  }
  // A dnnl::memory for tensor t (view of its root), optionally with another desc and byte offset.
  dnnl::memory Mem(int t, const dnnl::memory::desc& md, int64_t extra_off = 0);
  dnnl::memory Mem(int t) { return Mem(t, MdOf(p_, t)); }
  uint8_t* Ptr(int t, int64_t extra = 0, const float* in = nullptr, float* out = nullptr);
  dnnl::primitive_attr Attr() const {
    dnnl::primitive_attr a;
    a.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    return a;
  }
  Status Add(const LOp& op);
  int StepThreads(const LOp& op) const;
  int64_t ConvMacs(const LOp& op) const;
  Status AddConv(const LOp& op);
  Status AddReorder(const LOp& op, dnnl::memory src, dnnl::memory dst, float scale = 0);
  Status AddConvInt8(const LOp& op);
  // conv_tuning.cc: the fastest implementation of a convolution among those oneDNN offers
  // (and Winograd for fp32 3x3 stride 1), measured once per process and shape.
  // `binary[k]` is the source desc of binary post-op k (empty for other post-ops).
  dnnl::convolution_forward::primitive_desc TuneConv(
      const LOp& op, dnnl::convolution_forward::primitive_desc first,
      const dnnl::convolution_forward::desc& d, const dnnl::primitive_attr& attr,
      const std::vector<dnnl::memory::desc>& binary);
  // conv_winograd.cc: true (and `pd`) when the fp32 convolution `d` (post-ops not yet
  // attached) runs as Winograd by the rule of docs/design/onednn.md "Winograd";
  // AddConvWinograd appends it without post-ops and then one in-place step per post-op.
  bool WinogradPd(const LOp& op, const dnnl::convolution_forward::desc& d,
                  dnnl::convolution_forward::primitive_desc* pd);
  Status AddConvWinograd(const LOp& op, const dnnl::convolution_forward::primitive_desc& pd);
  std::vector<double> TimeConvs(const LOp& op,
                                const std::vector<dnnl::convolution_forward::primitive_desc>& pds,
                                const std::vector<dnnl::memory::desc>& binary);
  std::vector<dnnl::memory::desc> BinaryDescs(const std::vector<std::pair<int, int>>& args,
                                              int len) const {
    std::vector<dnnl::memory::desc> v(static_cast<size_t>(len));
    for (auto [k, t] : args) v[static_cast<size_t>(k)] = MdOf(p_, t);
    return v;
  }
  // Reorders the plain weights once into the layout `pd` chose and appends the convolution
  // step (src, weights, dst and binary post-op arguments); the caller adds the bias.
  Step& PushConvStep(const LOp& op, const char* kind,
                     const dnnl::convolution_forward::primitive_desc& pd, dnnl::memory wplain,
                     int x, int o, const std::vector<std::pair<int, int>>& binary_args);
  // Channel concat (axis 1) of 4-D tensors that are all dense channels-last of one data type.
  bool IsChannelsLastConcat(const LOp& op) const {
    auto nhwc = [&](int t) {
      const TensorPlan& tp = p_.tp[t];
      return p_.g.tensors[t].shape.size() == 4 &&
             (tp.layout == Layout::kNhwc || (tp.layout == Layout::kBlocked && p_.block == 0));
    };
    if (op.axis != 1 || !nhwc(op.out[0])) return false;
    for (int t : op.in)
      if (!nhwc(t) || ElemSize(p_, t) != ElemSize(p_, op.out[0])) return false;
    return true;
  }

  Program p_;
  CompileOptions opt_;
  dnnl::engine eng_;
  dnnl::stream stream_;
  Buffer arena_, scratch_;
  std::vector<Step> steps_;
  std::vector<External> ext_;
  std::map<int, dnnl::memory> const_mem_;
  std::vector<dnnl::memory> keep_;  // weights and constants
  const float* last_in_ = nullptr;  // buffers of the last Run (for Kept)
  float* last_out_ = nullptr;
  int64_t prof_runs_ = 0;  // runs timed (CompileOptions::profile)
  std::string tune_log_;   // candidates and times of TuneConv (CompileOptions::profile)
};

}  // namespace vqi::infer::onednn
