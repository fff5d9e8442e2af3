// Internal to the compiler: the lowered program. Lower() turns the optimized graph into a list
// of LOps over graph tensors with layouts, views and in-place concats decided; PlanMemory()
// resolves views to roots and packs the roots into one arena by lifetime.
#pragma once

#include <map>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <vector>

#include "graph.h"

namespace vqi::infer::onednn {

// kBlocked: the program's activation layout for 4-D tensors (Program::block: nChw16c, nChw8c,
// or nhwc when 0); kNhwc: channels-last (softmax over channels, the DFL head); kBlocked16:
// nChw16c (nChw8c for at most 8 channels) whatever the program's layout (the float first
// convolution of an nhwc int8 model: the blocked first-layer kernels read the plain image
// directly, see ops/conv.cc).
enum class Layout { kPlain, kBlocked, kNhwc, kBlocked16 };

// How a run-time float tensor is stored: f32, s8 (real = stored * scale) or bf16.
enum class Store { kF32, kS8, kBf16 };

struct TensorPlan {
  bool runtime = false;
  Layout layout = Layout::kPlain;
  bool fresh = false;  // written by an op (not a view, not the input, not a constant)
  int alias = -1;      // view of tensor `alias` at byte offset `alias_off`
  int64_t alias_off = 0;
  int root = -1;  // resolved: the root tensor holding the bytes, and the byte offset
  int64_t root_off = 0;
  bool s8 = false;  // stored as int8: real value = stored * scale (Tensor::qscale)
  float scale = 0;
  bool bf16 = false;  // stored as bf16 (never together with s8)
};

enum class LKind {
  kConv,
  kPool,
  kResample,
  kEltwise,
  kBinary,
  kConcat,
  kCopy,
  kView,
  kSoftmax,
  kSoftmaxStrided,  // softmax over a non-innermost axis of a plain tensor (own loop)
  kStridedCopy,
  kDetectDecode,  // the fused YOLOv8 decode (ops/detect_decode.cc, own loop)
  kRef
};

struct LOp {
  LKind kind = LKind::kRef;
  int node = -1;  // graph node (for names and attributes), -1 for inserted copies
  std::vector<int> in{};
  std::vector<int> out{};
  dnnl::algorithm alg = dnnl::algorithm::undef;
  float alpha = 0, beta = 0;  // kCopy: alpha != 0 scales the values (quantize/dequantize)
  bool int8 = false;          // kConv: s8 source and weights (Node::wq), per-channel scales
  bool negate = false;        // kBinary: result = -(in0 op in1) (Sub with swapped operands)
  int64_t view_off = 0;       // kView: byte offset into in[0]; kStridedCopy: source byte offset
  std::vector<int64_t> src_strides{};  // kStridedCopy: element strides of the source view
  int axis = 0;                        // kConcat / kSoftmax
  bool inplace = false;                // kConcat: inputs live in slots of the output
  std::vector<int64_t> slot_off{};     // kConcat: byte offset of each input's slot
  std::vector<bool> copy_in{};         // kConcat in place: inputs that still need a copy
};

struct Program {
  Graph g;
  int block = 16;         // channel block of Layout::kBlocked (16, 8, or 0 = nhwc)
  int forced_block = -1;  // CompileOptions::block: -1 lets Lower choose
  bool bf16 = false;      // CompileOptions::bf16: float convolutions in bf16
  std::vector<TensorPlan> tp;
  std::vector<LOp> ops;
  int output = -1;  // the tensor whose root is the caller's output buffer
  bool const_output = false;
  // Tensors to keep readable after Run (TensorObserver): `keep` is set before Lower; Lower maps
  // each to a plain f32 tensor whose root lives to the end of the program (`kept`).
  std::vector<int> keep;
  std::map<int, int> kept;
  // Memory plan.
  std::vector<int64_t> arena_off;  // per root tensor, -1 if not in the arena
  int64_t arena_bytes = 0;
};

dnnl::memory::desc MdOf(const Program& p, int t);
int64_t ElemSize(const Program& p, int t);  // 1 for s8 tensors, 2 for bf16, else 4
int64_t BytesOf(const Program& p, int t);

Status Lower(Program* p);
Status PlanMemory(Program* p);

}  // namespace vqi::infer::onednn
