// The lowering context handed to each operator's Lower function (src/ops/*.cc): the program
// being built, the layout and storage type of every tensor defined so far, and the helpers
// that insert reorders (Want), record a tensor's plan (Define) and append LOps (Emit).
// Private to the backend; used only while Lower() runs.
#pragma once

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "lowering.h"
#include "ops/common.h"

namespace vqi::infer::onednn {

class Lowerer {
 public:
  explicit Lowerer(Program* p) : p_(p), g_(p->g) {}

  Status Run();

  // --- for the operator files ---
  const Graph& graph() const { return g_; }
  int64_t opset() const { return g_.opset; }
  // Channel block of Layout::kBlocked (16, 8, or 0 = nhwc), chosen before the first node.
  int64_t block() const { return kBlock; }
  const Shape& S(int t) const { return g_.tensors[t].shape; }
  Layout L(int t) const { return p_->tp[t].layout; }
  // True if `t` is computed at run time (defined by an earlier LOp or the graph input).
  bool Rt(int t) const { return t >= 0 && p_->tp[t].runtime; }
  bool S8(int t) const { return t >= 0 && p_->tp[t].s8; }
  bool Bf16(int t) const { return t >= 0 && p_->tp[t].bf16; }
  Store St(int t) const { return S8(t) ? Store::kS8 : Bf16(t) ? Store::kBf16 : Store::kF32; }
  // CompileOptions::bf16: float convolutions run bf16 (see ops/conv.cc).
  bool Bf16Mode() const { return p_->bf16; }
  float Q(int t) const { return g_.tensors[t].qscale; }
  // A value-preserving op (pool, resize, concat, split, slice) keeps s8 data when its output
  // carries the same scale as its s8 input.
  bool KeepS8(int in, int out) const { return S8(in) && Q(out) > 0 && Q(out) == Q(in); }
  // The storage a value-preserving op keeps from its input: s8 as KeepS8, bf16 stays bf16,
  // else f32 (an s8 input whose scale the output does not share is dequantized).
  Store Keep(int in, int out) const {
    return KeepS8(in, out) ? Store::kS8 : Bf16(in) ? Store::kBf16 : Store::kF32;
  }
  // True if a live node reads `t` (as an input or a post-op addend), it is kept, or the output.
  bool Read(int t) const;
  // `t` in layout `l` and type (f32, or s8 with the tensor's scale), inserting one copy per
  // (tensor, layout, type); a type change is a quantizing or dequantizing reorder.
  // REQUIRES: s8 only for tensors with a scale.
  int Want(int t, Layout l, bool s8 = false) { return Want(t, l, s8 ? Store::kS8 : Store::kF32); }
  // The same for any storage (bf16 <-> f32 and s8 <-> bf16 are reorders too).
  int Want(int t, Layout l, Store s);
  void Define(int t, Layout l, bool fresh = true, bool s8 = false) {
    Define(t, l, fresh, s8 ? Store::kS8 : Store::kF32);
  }
  void Define(int t, Layout l, bool fresh, Store s);
  void Emit(LOp op) { p_->ops.push_back(std::move(op)); }
  // The node as a reference-kernel step on plain tensors (ops oneDNN has no primitive for).
  void LowerRef(int ni);
  // Split/Slice: output k of node `ni` is the strided view `views[k]` (start, step, count per
  // axis) of its input: a zero-copy view when the bytes are contiguous, else a strided copy.
  Status LowerParts(int ni, const std::vector<std::vector<internal::SliceAxis>>& views);

 private:
  int NewTensor(const Tensor& like, const std::string& suffix);
  bool CastAtBoundary(const Node& n, int t) const;
  Status LowerNode(int ni);

  Program* p_;
  Graph& g_;
  int64_t kBlock = 16;
  std::map<std::tuple<int, Layout, Store>, int> converted_;
};

}  // namespace vqi::infer::onednn
