// Lowering infrastructure (the Lowerer of lowerer.h): layouts, reorders, views, the output
// buffer, and the dispatch of each node to its operator's Lower (ops/op.h); then the arena
// plan (PlanMemory).
#include "lowering.h"

#include <algorithm>
#include <climits>
#include <map>
#include <tuple>

#include "lowerer.h"
#include "onednn_limits.h"
#include "ops/op.h"

namespace vqi::infer::onednn {

using dnnl::memory;
using internal::RowStrides;
using internal::SliceAxis;

namespace {

int64_t Prod(const Shape& s, size_t from, size_t to) {
  int64_t n = 1;
  for (size_t k = from; k < to && k < s.size(); ++k) n *= s[k];
  return n;
}

// The activation layout: 16-channel blocks (AVX-512 jit kernels, zero-copy channel concat and
// split) when every convolution reads a multiple of 16 channels; otherwise channels-last
// (brgconv handles any channel count; concat copies). Measured on the t scale (8-channel
// layers): nhwc beats nChw8c's AVX2 kernels by ~1.5x. OnednnOptions::block overrides.
int ChooseBlock(const Graph& g, int forced) {
  if (forced >= 0) return forced;
  // oneDNN 2.6's int8 convolution kernels (jit_int8, brgconv) take only nhwc (blocked s8
  // layouts fall back to ref_int8), and s8 pooling is jit only on nhwc.
  for (const Node& n : g.nodes)
    if (!n.dead && n.op == "Conv" && n.wq >= 0 && g.tensors[n.in[0]].qscale > 0) return 0;
  for (const Node& n : g.nodes) {
    if (n.dead || n.op != "Conv") continue;
    int64_t cin = g.tensors[n.in[0]].shape[1];
    if (cin > 4 && cin % 16 != 0) return 0;
  }
  return 16;
}

}  // namespace

int Lowerer::NewTensor(const Tensor& like, const std::string& suffix) {
  Tensor t;
  t.name = like.name + suffix;
  t.dtype = like.dtype;
  t.shape = like.shape;
  t.shape_known = true;
  int id = p_->g.AddTensor(std::move(t));
  p_->tp.emplace_back();
  return id;
}

void Lowerer::Define(int t, Layout l, bool fresh, Store s) {
  const bool s8 = s == Store::kS8;
  p_->tp[t].runtime = true;
  p_->tp[t].layout = l;
  p_->tp[t].fresh = fresh;
  p_->tp[t].s8 = s8;
  p_->tp[t].bf16 = s == Store::kBf16;
  p_->tp[t].scale = s8 ? g_.tensors[t].qscale : 0.f;
}

int Lowerer::Want(int t, Layout l, Store s) {
  if (!Rt(t) || (L(t) == l && St(t) == s)) return t;
  auto key = std::make_tuple(t, l, s);
  if (auto it = converted_.find(key); it != converted_.end()) return it->second;
  std::string suffix = l == Layout::kPlain     ? "@plain"
                       : l == Layout::kBlocked ? "@blocked"
                       : l == Layout::kNhwc    ? "@nhwc"
                                               : "@nChw16c";
  const bool s8 = s == Store::kS8;
  int c = NewTensor(g_.tensors[t], suffix + (s8 ? "@s8" : s == Store::kBf16 ? "@bf16" : ""));
  g_.tensors[c].qscale = g_.tensors[t].qscale;
  Define(c, l, true, s);
  LOp op;
  op.kind = LKind::kCopy;
  op.in = {t};
  op.out = {c};
  if (S8(t) != s8) op.alpha = s8 ? 1.f / Q(t) : Q(t);
  p_->ops.push_back(op);
  converted_[key] = c;
  return c;
}

bool Lowerer::Read(int t) const {
  if (t == g_.output) return true;
  for (int k : p_->keep)
    if (k == t) return true;
  for (const Node& n : g_.nodes) {
    if (n.dead) continue;
    for (int x : n.in)
      if (x == t) return true;
    for (const PostOp& po : n.post)
      if (po.tensor == t) return true;
  }
  return false;
}

// A Cast to an integer type whose result is the graph output or read only by Casts: the int64
// (or int32, bool) outputs of third-party exports. Carried as floats holding integral values
// (the Cast truncates) and handed to the caller as float32, the boundary conversion.
bool Lowerer::CastAtBoundary(const Node& n, int t) const {
  if (n.op != "Cast") return false;
  for (int c : g_.Consumers(t))
    if (g_.nodes[c].op != "Cast") return false;
  return true;
}

Status Lowerer::Run() {
  p_->tp.assign(g_.tensors.size(), TensorPlan{});
  p_->block = ChooseBlock(g_, p_->forced_block);
  kBlock = p_->block;
  Define(g_.input, Layout::kPlain, /*fresh=*/false);
  for (size_t ni = 0; ni < g_.nodes.size(); ++ni) {
    const Node& n = g_.nodes[ni];
    if (n.dead) continue;
    for (int t : n.out) {
      if (t < 0) continue;
      if (g_.tensors[t].dtype != DType::kFloat && !CastAtBoundary(n, t))
        return Unimplemented(n.Where() +
                             ": produces integer data at run time (only constant "
                             "shape arithmetic is supported)");
      if (NumElements(g_.tensors[t].shape) == 0)
        return InvalidArgument(n.Where() + ": produces an empty tensor");
    }
    VQI_RETURN_IF_ERROR(LowerNode(static_cast<int>(ni)));
  }
  for (int t : p_->keep)
    if (t != g_.input && t != g_.output && Rt(t)) p_->kept[t] = Want(t, Layout::kPlain);
  // The output must be a plain root of its own: the caller's buffer.
  int o = g_.output;
  if (g_.tensors[o].is_const) {
    p_->const_output = true;
    p_->output = o;
    return Status::Ok();
  }
  o = Want(o, Layout::kPlain);
  bool is_view = false;
  for (const LOp& op : p_->ops)
    if (op.kind == LKind::kView && op.out[0] == o) is_view = true;
  if (is_view || o == g_.input) {
    int c = NewTensor(g_.tensors[o], "@out");
    Define(c, Layout::kPlain);
    LOp op;
    op.kind = LKind::kCopy;
    op.in = {o};
    op.out = {c};
    Emit(op);
    o = c;
  }
  p_->output = o;
  return Status::Ok();
}

Status Lowerer::LowerNode(int ni) {
  const OpDef* def = FindOp(g_.nodes[ni].op);
  if (def && def->lower) return def->lower(*this, ni);
  LowerRef(ni);
  return Status::Ok();
}

void Lowerer::LowerRef(int ni) {
  const Node& n = g_.nodes[ni];
  LOp r{.kind = LKind::kRef, .node = ni};
  for (int t : n.in) r.in.push_back(t < 0 ? -1 : Want(t, Layout::kPlain));
  for (int t : n.out) {
    if (t >= 0) Define(t, Layout::kPlain);
    r.out.push_back(t);
  }
  Emit(r);
}

Status Lowerer::LowerParts(int ni, const std::vector<std::vector<SliceAxis>>& views) {
  const Node& n = g_.nodes[ni];
  int x = n.in[0];
  const Shape s = S(x);
  int64_t rank = static_cast<int64_t>(s.size());
  bool q = S8(x);
  for (size_t k = 0; k < views.size(); ++k) {
    if (n.out[k] >= 0) q = q && KeepS8(x, n.out[k]);
    for (const auto& a : views[k]) q = q && a.step > 0;
  }
  if (S8(x) && !q) x = Want(x, L(x));
  const Store st = q ? Store::kS8 : Bf16(x) ? Store::kBf16 : Store::kF32;
  const int64_t es = q ? 1 : st == Store::kBf16 ? 2 : 4;
  for (size_t k = 0; k < views.size(); ++k) {
    int o = n.out[k];
    if (o < 0 || !Read(o)) continue;  // a part nobody reads (FoldConcatOfSplit)
    const auto& ax = views[k];
    // The single axis that is cut (all others full, step 1).
    int cut = -1, ncut = 0;
    bool unit = true;
    for (int64_t d = 0; d < rank; ++d) {
      if (ax[d].step != 1) unit = false;
      if (ax[d].count != s[d]) {
        cut = static_cast<int>(d);
        ++ncut;
      }
    }
    if (ncut == 0) cut = 0;
    bool blocked_view = Rt(x) && L(x) == Layout::kBlocked && kBlock > 0 && unit && ncut <= 1 &&
                        cut == 1 && s[0] == 1 && ax[1].start % kBlock == 0 &&
                        (ax[1].count % kBlock == 0 || ax[1].start + ax[1].count == s[1]);
    if (blocked_view) {
      Define(o, Layout::kBlocked, false, st);
      Emit(LOp{.kind = LKind::kView,
               .node = ni,
               .in = {x},
               .out = {o},
               .view_off = ax[1].start * s[2] * s[3] * es});
      continue;
    }
    // Channels of an nhwc tensor: one strided copy into a dense nhwc tensor.
    if (Rt(x) && L(x) == Layout::kBlocked && kBlock == 0 && rank == 4 && unit && ncut <= 1 &&
        cut == 1) {
      LOp c{.kind = LKind::kStridedCopy,
            .node = ni,
            .in = {x},
            .out = {o},
            .view_off = ax[1].start * es};
      c.src_strides = {s[1] * s[2] * s[3], 1, s[3] * s[1], s[1]};
      Define(o, Layout::kBlocked, true, st);
      Emit(c);
      continue;
    }
    int px = Want(x, Layout::kPlain, st);
    auto rs = RowStrides(s);
    int64_t off = 0;
    for (int64_t d = 0; d < rank; ++d) off += ax[d].start * rs[d] * es;
    bool plain_view = unit && ncut <= 1 && Prod(s, 0, cut) == 1;
    if (plain_view && Rt(x)) {
      Define(o, Layout::kPlain, false, st);
      Emit(LOp{.kind = LKind::kView, .node = ni, .in = {px}, .out = {o}, .view_off = off});
      continue;
    }
    LOp c{.kind = LKind::kStridedCopy, .node = ni, .in = {px}, .out = {o}, .view_off = off};
    for (int64_t d = 0; d < rank; ++d) c.src_strides.push_back(rs[d] * ax[d].step);
    bool negative = false;
    for (int64_t d = 0; d < rank; ++d) negative = negative || ax[d].step < 0;
    if (negative || !Rt(x)) {
      LowerRef(ni);
      return Status::Ok();
    }
    Define(o, Layout::kPlain, true, st);
    Emit(c);
  }
  return Status::Ok();
}

namespace {

int Resolve(Program* p, int t, int64_t* off) {
  *off = 0;
  while (p->tp[t].alias >= 0) {
    *off += p->tp[t].alias_off;
    t = p->tp[t].alias;
  }
  return t;
}

// Places the inputs of an in-place concat into its output's slots where possible.
void PlaceConcat(Program* p, LOp& c) {
  int out = c.out[0];
  int64_t total = BytesOf(*p, out);
  auto can_move = [&](int r) {
    const TensorPlan& tp = p->tp[r];
    return tp.fresh && tp.alias < 0 && r != p->output && r != p->g.input && r != out;
  };
  for (size_t k = 0; k < c.in.size(); ++k) {
    if (!c.copy_in[k]) continue;
    int64_t off;
    int r = Resolve(p, c.in[k], &off);
    if (!can_move(r)) continue;
    int64_t base = c.slot_off[k] - off, size = BytesOf(*p, r);
    if (base < 0 || base + size > total) continue;
    // Every slot overlapping [base, base + size) must be a view of r at the matching offset.
    std::vector<size_t> covered;
    bool ok = true;
    for (size_t j = 0; j < c.in.size() && ok; ++j) {
      int64_t lo = c.slot_off[j], hi = lo + BytesOf(*p, c.in[j]);
      if (hi <= base || lo >= base + size) continue;
      int64_t oj;
      int rj = Resolve(p, c.in[j], &oj);
      ok = rj == r && oj == lo - base && lo >= base && hi <= base + size && c.copy_in[j];
      covered.push_back(j);
    }
    if (!ok) continue;
    p->tp[r].alias = out;
    p->tp[r].alias_off = base;
    for (size_t j : covered) c.copy_in[j] = false;
  }
}

}  // namespace

memory::desc MdOf(const Program& p, int t) {
  Shape s = p.g.tensors[t].shape;
  if (s.empty()) s = {1};
  memory::dims dims(s.begin(), s.end());
  bool planned = t < static_cast<int>(p.tp.size());
  auto dt = planned && p.tp[t].s8     ? memory::data_type::s8
            : planned && p.tp[t].bf16 ? memory::data_type::bf16
                                      : memory::data_type::f32;
  if (planned && p.tp[t].layout != Layout::kPlain && s.size() == 4) {
    memory::format_tag tag = memory::format_tag::nhwc;
    if (p.tp[t].layout == Layout::kBlocked && p.block == 16) tag = memory::format_tag::nChw16c;
    if (p.tp[t].layout == Layout::kBlocked && p.block == 8) tag = memory::format_tag::nChw8c;
    if (p.tp[t].layout == Layout::kBlocked16)
      tag = s[1] <= 8 ? memory::format_tag::nChw8c : memory::format_tag::nChw16c;
    return memory::desc(dims, dt, tag);
  }
  auto st = RowStrides(s);
  return memory::desc(dims, dt, memory::dims(st.begin(), st.end()));
}

int64_t ElemSize(const Program& p, int t) {
  if (t >= static_cast<int>(p.tp.size())) return 4;
  return p.tp[t].s8 ? 1 : p.tp[t].bf16 ? 2 : 4;
}

int64_t BytesOf(const Program& p, int t) { return static_cast<int64_t>(MdOf(p, t).get_size()); }

Status Lower(Program* p) { return Lowerer(p).Run(); }

Status PlanMemory(Program* p) {
  const size_t nt = p->g.tensors.size();
  for (LOp& op : p->ops) {
    if (op.kind == LKind::kView) {
      p->tp[op.out[0]].alias = op.in[0];
      p->tp[op.out[0]].alias_off = op.view_off;
    } else if (op.kind == LKind::kConcat && op.inplace) {
      PlaceConcat(p, op);
    }
  }
  for (size_t t = 0; t < nt; ++t) {
    if (!p->tp[t].runtime) continue;
    p->tp[t].root = Resolve(p, static_cast<int>(t), &p->tp[t].root_off);
  }
  // Lifetimes of roots: first and last op touching any tensor living in them.
  std::vector<int> first(nt, INT_MAX), last(nt, -1);
  auto touch = [&](int t, int i) {
    if (t < 0 || !p->tp[t].runtime) return;
    int r = p->tp[t].root;
    first[r] = std::min(first[r], i);
    last[r] = std::max(last[r], i);
  };
  for (size_t i = 0; i < p->ops.size(); ++i) {
    for (int t : p->ops[i].in) touch(t, static_cast<int>(i));
    for (int t : p->ops[i].out) touch(t, static_cast<int>(i));
  }
  for (const auto& [t, c] : p->kept) touch(c, static_cast<int>(p->ops.size()));
  // Greedy first-fit by decreasing size among roots with overlapping lifetimes.
  std::vector<int> roots;
  for (size_t t = 0; t < nt; ++t) {
    if (!p->tp[t].runtime || p->tp[t].root != static_cast<int>(t) || last[t] < 0) continue;
    if (static_cast<int>(t) == p->g.input || static_cast<int>(t) == p->output) continue;
    roots.push_back(static_cast<int>(t));
  }
  std::sort(roots.begin(), roots.end(), [&](int a, int b) {
    return BytesOf(*p, a) != BytesOf(*p, b) ? BytesOf(*p, a) > BytesOf(*p, b) : a < b;
  });
  p->arena_off.assign(nt, -1);
  std::vector<int> placed;
  p->arena_bytes = 0;
  for (int r : roots) {
    int64_t size = (BytesOf(*p, r) + 63) / 64 * 64;
    std::vector<std::pair<int64_t, int64_t>> busy;
    for (int q : placed)
      if (first[q] <= last[r] && first[r] <= last[q])
        busy.push_back({p->arena_off[q], p->arena_off[q] + (BytesOf(*p, q) + 63) / 64 * 64});
    std::sort(busy.begin(), busy.end());
    int64_t off = 0;
    for (auto [lo, hi] : busy) {
      if (off + size <= lo) break;
      off = std::max(off, hi);
    }
    p->arena_off[r] = off;
    p->arena_bytes = std::max(p->arena_bytes, off + size);
    placed.push_back(r);
  }
  if (p->arena_bytes > kMaxArenaBytes)
    return ResourceExhausted("the activation arena needs " + std::to_string(p->arena_bytes) +
                             " bytes, above the limit of " + std::to_string(kMaxArenaBytes) +
                             kLimitsDoc);
  return Status::Ok();
}

}  // namespace vqi::infer::onednn
