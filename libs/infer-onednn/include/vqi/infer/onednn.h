// The oneDNN inference backend (library vqi::infer_onednn): vqi's own CPU runtime for ONNX
// detection models. A model is compiled once, at open, into a fixed list of oneDNN primitives
// over one pre-planned arena; Run() binds the caller's buffers and executes the list.
//
// Two ways in:
//   RegisterOnednnBackend();                       // then OpenBackend("onednn"|"auto", ...)
//   OpenOnednnBackend(path, OnednnOptions{...});   // direct, with every tuning knob
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "vqi/base/status.h"
#include "vqi/base/system.h"
#include "vqi/infer/backend.h"

namespace onnx {
class ModelProto;
}  // namespace onnx

namespace vqi::infer {

// Tuning knobs of one backend instance (formerly environment variables). Each instance owns
// its thread count: Run() sets the calling thread's OpenMP thread count (an ICV of that thread
// only, see docs/design/onednn.md) for its primitives and restores the caller's value before
// returning, so instances with different counts coexist in one process.
struct OnednnOptions {
  static constexpr int kMaxThreads = vqi::kMaxThreads;  // the one process-wide thread limit
  // OpenMP threads of this instance, 1..kMaxThreads (else InvalidArgument). Results are
  // bitwise identical run to run for a given count.
  int threads = 1;
  // Steps below these sizes are created and run on one thread (an OpenMP fork/join costs more
  // than their work): fp32 convolutions below `serial_conv_macs` multiply-accumulates (int8
  // ones count half), other steps writing fewer than `serial_bytes` bytes. 0 disables.
  // serial_conv_macs -1 (default) follows libgomp's wait policy: 0 while idle threads spin
  // between parallel regions (the default: every convolution gains from 2 threads), 8 M with
  // OMP_WAIT_POLICY=passive or GOMP_SPINCOUNT < 1000 (each region then wakes a sleeping
  // thread); measured in docs/design/onednn.md ("Session 8: small").
  int64_t serial_conv_macs = -1;
  int64_t serial_bytes = int64_t{64} << 10;
  // Channel block of the 4-D activation layout: -1 chooses (nChw16c when every convolution
  // reads a multiple of 16 channels and nothing is int8, else nhwc); 16, 8, or 0 (nhwc) force.
  int block = -1;
  // false: no fusions (shape inference, constant folding and QDQ folding only). For tests.
  bool fuse = true;
  // Times every step of every Run (one clock read per step; no allocation) and appends the
  // breakdown per step kind and the slowest steps to Details(). For benchmarks.
  bool profile = false;
  // Chooses each convolution's implementation by timing the candidates oneDNN offers (and
  // Winograd for fp32 3x3 stride 1) at compile time, once per process and shape
  // (docs/design/onednn.md, "Implementation choice"). Off by default: on the AVX-512 hosts
  // measured it found no whole-model gain and the extra candidate kernels stay in oneDNN's
  // primitive cache (+11 MB peak RSS for t@320x224). false: oneDNN's first choice.
  bool tune = false;
  // fp32 3x3 stride-1 convolutions on nChw16c with at least 16 channels in and out and 20x20
  // output pixels run as Winograd (oneDNN's F(4x4, 3x3), or F(2x2, 3x3) for narrow ones on few
  // pixels), their SiLU / residual add as separate in-place steps: 0.43-0.84x the time of the
  // fused direct convolution, relative error ~2e-6 of the output range, transformed weights
  // 4x larger (docs/design/onednn.md "Winograd"). false: direct.
  bool winograd = true;
  // The arithmetic (vqi/infer/backend.h): kAuto as the file says; kBf16 needs AVX512-BF16
  // (oneDNN's effective ISA avx512_core_bf16 or above), else FailedPrecondition at open;
  // kFp32 on a QDQ file and kInt8 on a float file are InvalidArgument.
  Precision precision = Precision::kAuto;
  // For tests: behave as if oneDNN reported a CPU without AVX512-BF16.
  bool pretend_no_bf16 = false;
  // Images per Run(), 1..64: a model exported at batch 1 is compiled for this batch (its
  // input's batch and the batch-1 constants of its Reshape/Expand/Resize targets overridden,
  // every activation checked; docs/design/inference.md "Batch N"). A graph that cannot be
  // re-batched is InvalidArgument naming the node. Info() then shows [N,3,H,W] / [N,4+nc,A].
  int batch = 1;
};

// True if oneDNN's effective ISA here has AVX512-BF16 instructions (avx512_core_bf16 or
// avx512_core_amx; ONEDNN_MAX_CPU_ISA can lower it).
bool OnednnHasBf16();

// Registers the backend as "onednn" in the backend registry (vqi/infer/backend.h): it opens
// the registry's OnnxModel from its parsed proto (never reading the file again), with
// BackendOptions::threads as OnednnOptions::threads (<= 0 becomes 1). Idempotent and
// thread-safe; call before OpenBackend.
void RegisterOnednnBackend();

// Loads and compiles `onnx_path` for the Ultralytics contract (input [1,3,H,W], output rank 3).
// Errors name the file and the node or tensor at fault: NotFound, DataLoss (not ONNX),
// InvalidArgument (bad graph), Unimplemented (operator or form not supported),
// ResourceExhausted (a tensor, the arena or the graph above the limits of docs/limits.md).
// Inputs and outputs declared float64 (and outputs declared int64) are accepted: Run() still
// takes and returns float32, the conversion happens at the boundary.
Result<std::unique_ptr<InferenceBackend>> OpenOnednnBackend(const std::string& onnx_path,
                                                            const OnednnOptions& options = {});
// The same from a model already parsed by the caller (the file is not read again); `source`
// names it in errors.
Result<std::unique_ptr<InferenceBackend>> OpenOnednnBackend(const onnx::ModelProto& model,
                                                            const std::string& source,
                                                            const OnednnOptions& options = {});

}  // namespace vqi::infer
