// Static shape inference for the supported operator set.
#include <algorithm>
#include <cmath>
#include <set>

#include "onednn_limits.h"
#include "ops_internal.h"

namespace vqi::infer::onednn {
namespace internal {

bool NormAxis(int64_t* axis, int64_t rank) {
  if (*axis < -rank || *axis >= rank) return false;
  if (*axis < 0) *axis += rank;
  return true;
}

bool ReadInts(const InValue& v, std::vector<int64_t>* out) {
  if (!v.present || !v.has_data()) return false;
  int64_t n = NumElements(v.shape);
  out->resize(n);
  for (int64_t k = 0; k < n; ++k) (*out)[k] = v.i ? v.i[k] : static_cast<int64_t>(v.f[k]);
  return true;
}

bool ReadFloats(const InValue& v, std::vector<float>* out) {
  if (!v.present || !v.has_data()) return false;
  int64_t n = NumElements(v.shape);
  out->resize(n);
  for (int64_t k = 0; k < n; ++k) (*out)[k] = v.f ? v.f[k] : static_cast<float>(v.i[k]);
  return true;
}

bool Broadcast(const Shape& a, const Shape& b, Shape* out) {
  size_t r = std::max(a.size(), b.size());
  out->assign(r, 1);
  for (size_t k = 0; k < r; ++k) {
    int64_t da = k < r - a.size() ? 1 : a[k - (r - a.size())];
    int64_t db = k < r - b.size() ? 1 : b[k - (r - b.size())];
    if (da != db && da != 1 && db != 1) return false;
    (*out)[k] = da == 1 ? db : da;
  }
  return true;
}

Status ComputeWindow(const Node& n, int64_t h, int64_t w, int64_t kh, int64_t kw, bool ceil_mode,
                     Window* win) {
  win->kh = kh;
  win->kw = kw;
  auto strides = n.Ints("strides");
  auto dil = n.Ints("dilations");
  auto pads = n.Ints("pads");
  if (!strides.empty()) {
    if (strides.size() != 2) return NodeError(n, "strides must have 2 values");
    win->sh = strides[0];
    win->sw = strides[1];
  }
  if (!dil.empty()) {
    if (dil.size() != 2) return NodeError(n, "dilations must have 2 values");
    win->dh = dil[0];
    win->dw = dil[1];
  }
  if (win->sh < 1 || win->sw < 1 || win->dh < 1 || win->dw < 1 || kh < 1 || kw < 1)
    return NodeError(n, "kernel, strides and dilations must be positive");
  for (int64_t v : {win->sh, win->sw, win->dh, win->dw, kh, kw})
    if (v > kMaxWindow)
      return NodeError(n, "kernel, strides and dilations must be at most " +
                              std::to_string(kMaxWindow) + " (got " + std::to_string(v) + ")");
  std::string auto_pad = n.Str("auto_pad", "NOTSET");
  int64_t ekh = (kh - 1) * win->dh + 1, ekw = (kw - 1) * win->dw + 1;
  if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    int64_t oh = (h + win->sh - 1) / win->sh, ow = (w + win->sw - 1) / win->sw;
    int64_t ph = std::max<int64_t>(0, (oh - 1) * win->sh + ekh - h);
    int64_t pw = std::max<int64_t>(0, (ow - 1) * win->sw + ekw - w);
    bool upper = auto_pad == "SAME_UPPER";
    win->pt = upper ? ph / 2 : ph - ph / 2;
    win->pb = ph - win->pt;
    win->pl = upper ? pw / 2 : pw - pw / 2;
    win->pr = pw - win->pl;
  } else if (auto_pad == "NOTSET" || auto_pad == "VALID") {
    if (auto_pad == "NOTSET" && !pads.empty()) {
      if (pads.size() != 4) return NodeError(n, "pads must have 4 values");
      win->pt = pads[0];
      win->pl = pads[1];
      win->pb = pads[2];
      win->pr = pads[3];
      for (int64_t p : pads)
        if (p < 0 || p > 1024) return NodeError(n, "pads out of range");
    }
  } else {
    return NodeError(n, "unknown auto_pad '" + auto_pad + "'");
  }
  int64_t nh = h + win->pt + win->pb - ekh, nw = w + win->pl + win->pr - ekw;
  if (nh < 0 || nw < 0) return NodeError(n, "kernel larger than the padded input");
  if (ceil_mode) {
    win->oh = (nh + win->sh - 1) / win->sh + 1;
    win->ow = (nw + win->sw - 1) / win->sw + 1;
    // The last window must start inside the input or the left padding.
    if ((win->oh - 1) * win->sh >= h + win->pt) --win->oh;
    if ((win->ow - 1) * win->sw >= w + win->pl) --win->ow;
  } else {
    win->oh = nh / win->sh + 1;
    win->ow = nw / win->sw + 1;
  }
  return Status::Ok();
}

Status ComputeSlice(const Node& n, int64_t opset, const std::vector<InValue>& in,
                    std::vector<SliceAxis>* axes) {
  const Shape& s = in[0].shape;
  int64_t rank = static_cast<int64_t>(s.size());
  std::vector<int64_t> starts, ends, ax, steps;
  if (opset < 10) {
    starts = n.Ints("starts");
    ends = n.Ints("ends");
    ax = n.Ints("axes");
  } else {
    if (in.size() < 3 || !ReadInts(in[1], &starts) || !ReadInts(in[2], &ends))
      return NodeError(n, "starts/ends must be constant (cannot resolve the slice statically)");
    if (in.size() > 3 && in[3].present && !ReadInts(in[3], &ax))
      return NodeError(n, "axes must be constant");
    if (in.size() > 4 && in[4].present && !ReadInts(in[4], &steps))
      return NodeError(n, "steps must be constant");
  }
  if (ax.empty())
    for (size_t k = 0; k < starts.size(); ++k) ax.push_back(static_cast<int64_t>(k));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (starts.size() != ends.size() || ax.size() != starts.size() || steps.size() != starts.size())
    return NodeError(n, "starts/ends/axes/steps lengths differ");
  axes->assign(rank, SliceAxis{});
  for (int64_t k = 0; k < rank; ++k) (*axes)[k].count = s[k];
  std::set<int64_t> seen;
  for (size_t k = 0; k < ax.size(); ++k) {
    int64_t a = ax[k];
    if (!NormAxis(&a, rank) || !seen.insert(a).second) return NodeError(n, "bad slice axis");
    int64_t dim = s[a], step = steps[k];
    if (step == 0) return NodeError(n, "slice step 0");
    int64_t st = starts[k], en = ends[k];
    if (st < 0) st += dim;
    if (en < 0) en += dim;
    int64_t count;
    if (step > 0) {
      st = std::clamp<int64_t>(st, 0, dim);
      en = std::clamp<int64_t>(en, 0, dim);
      count = en > st ? (en - st + step - 1) / step : 0;
    } else {
      st = std::clamp<int64_t>(st, 0, dim - 1);
      en = std::clamp<int64_t>(en, -1, dim - 1);
      count = st > en ? (st - en + (-step) - 1) / (-step) : 0;
    }
    (*axes)[a] = SliceAxis{st, step, count};
  }
  return Status::Ok();
}

Status ComputeSplit(const Node& n, int64_t opset, const std::vector<InValue>& in, int64_t* axis,
                    std::vector<int64_t>* sizes) {
  const Shape& s = in[0].shape;
  *axis = n.Int("axis", 0);
  if (!NormAxis(axis, static_cast<int64_t>(s.size()))) return NodeError(n, "bad split axis");
  int64_t dim = s[*axis];
  int64_t parts = static_cast<int64_t>(n.out.size());
  sizes->clear();
  if (opset < 13 && n.Has("split")) {
    *sizes = n.Ints("split");
  } else if (opset >= 13 && in.size() > 1 && in[1].present) {
    if (!ReadInts(in[1], sizes)) return NodeError(n, "split sizes must be constant");
  } else {
    if (n.Has("num_outputs")) parts = n.Int("num_outputs", parts);
    if (parts <= 0) return NodeError(n, "no outputs");
    int64_t chunk = (dim + parts - 1) / parts;
    for (int64_t k = 0; k < parts; ++k)
      sizes->push_back(std::max<int64_t>(0, std::min(chunk, dim - k * chunk)));
  }
  int64_t total = 0;
  for (int64_t v : *sizes) {
    if (v < 0) return NodeError(n, "negative split size");
    total += v;
  }
  if (total != dim || sizes->size() != n.out.size())
    return NodeError(n, "split sizes do not add up to dimension " + std::to_string(dim) +
                            " or do not match the output count");
  return Status::Ok();
}

Status ComputeResize(const Node& n, int64_t opset, const std::vector<InValue>& in,
                     std::vector<float>* scales, Shape* out) {
  const Shape& s = in[0].shape;
  std::vector<float> sc;
  std::vector<int64_t> sizes;
  int scales_idx = opset < 11 ? 1 : 2;
  if (n.op == "Upsample") scales_idx = 1;
  if (static_cast<int>(in.size()) > scales_idx && in[scales_idx].present &&
      NumElements(in[scales_idx].shape) > 0) {
    if (!ReadFloats(in[scales_idx], &sc)) return NodeError(n, "scales must be constant");
  } else if (n.op == "Upsample" && n.Has("scales")) {
    sc = n.attrs.at("scales").floats;
  } else if (in.size() > 3 && in[3].present) {
    if (!ReadInts(in[3], &sizes)) return NodeError(n, "sizes must be constant");
  } else {
    return NodeError(n, "neither scales nor sizes given");
  }
  if (!sc.empty() && sc.size() != s.size()) return NodeError(n, "scales rank mismatch");
  if (!sizes.empty() && sizes.size() != s.size()) return NodeError(n, "sizes rank mismatch");
  if (n.Str("mode", "nearest") != "nearest")
    return NodeError(n, "only mode 'nearest' is supported, not '" + n.Str("mode", "") + "'");
  out->resize(s.size());
  scales->resize(s.size());
  for (size_t k = 0; k < s.size(); ++k) {
    if (!sc.empty()) {
      if (!(sc[k] > 0) || sc[k] > 1024) return NodeError(n, "bad scale");
      (*out)[k] = static_cast<int64_t>(std::floor(s[k] * sc[k]));
      (*scales)[k] = sc[k];
    } else {
      if (sizes[k] <= 0 || sizes[k] > (int64_t{1} << 24)) return NodeError(n, "bad size");
      (*out)[k] = sizes[k];
      (*scales)[k] = static_cast<float>(sizes[k]) / static_cast<float>(s[k]);
    }
  }
  return Status::Ok();
}

bool SqueezeAxes(const Node& n, int64_t opset, const std::vector<InValue>& in,
                 std::vector<int64_t>* axes, bool* given) {
  *given = true;
  if (opset < 13) {
    *given = n.Has("axes");
    *axes = n.Ints("axes");
    return true;
  }
  if (in.size() < 2 || !in[1].present) {
    *given = false;
    return true;
  }
  return ReadInts(in[1], axes);
}

}  // namespace internal

using namespace internal;

namespace {

const std::set<std::string>& SupportedOps() {
  static const std::set<std::string> ops = {"Conv",
                                            "MaxPool",
                                            "Resize",
                                            "Upsample",
                                            "Concat",
                                            "Split",
                                            "Slice",
                                            "Add",
                                            "Sub",
                                            "Mul",
                                            "Div",
                                            "Pow",
                                            "Sigmoid",
                                            "Relu",
                                            "LeakyRelu",
                                            "HardSwish",
                                            "HardSigmoid",
                                            "Clip",
                                            "Exp",
                                            "Neg",
                                            "Sqrt",
                                            "Floor",
                                            "Ceil",
                                            "Softmax",
                                            "Transpose",
                                            "Reshape",
                                            "Flatten",
                                            "Constant",
                                            "Shape",
                                            "Gather",
                                            "Unsqueeze",
                                            "Squeeze",
                                            "Identity",
                                            "Cast",
                                            "ConstantOfShape",
                                            "Range",
                                            "Expand",
                                            "BatchNormalization",
                                            "QuantizeLinear",
                                            "DequantizeLinear"};
  return ops;
}

DType CastTarget(int64_t to) {
  return (to == 1 || to == 10 || to == 11 || to == 16) ? DType::kFloat : DType::kInt64;
}

}  // namespace

bool IsSupportedOp(const std::string& op) { return SupportedOps().count(op) != 0; }

Status InferOp(const Node& n, int64_t opset, const std::vector<InValue>& in,
               std::vector<OutValue>* outp) {
  std::vector<OutValue>& out = *outp;
  const std::string& op = n.op;
  if (!IsSupportedOp(op)) return Unimplemented(n.Where() + ": unsupported operator '" + op + "'");
  if (op != "Constant" && (in.empty() || !in[0].present))
    return NodeError(n, "missing first input");
  for (auto& o : out) o.dtype = in.empty() ? DType::kFloat : in[0].dtype;
  auto need_float = [&](size_t k) {
    return k < in.size() && in[k].present && in[k].dtype != DType::kFloat
               ? NodeError(n, "input " + std::to_string(k) + " must be float")
               : Status::Ok();
  };
  const Shape& s = in.empty() ? Shape{} : in[0].shape;
  const int64_t rank = static_cast<int64_t>(s.size());

  if (op == "Conv") {
    if (in.size() < 2 || !in[1].present) return NodeError(n, "missing weights");
    VQI_RETURN_IF_ERROR(need_float(0));
    const Shape& w = in[1].shape;
    if (rank != 4 || w.size() != 4) return NodeError(n, "only 2-D convolution (rank 4) supported");
    int64_t group = n.Int("group", 1);
    if (group < 1 || s[1] % group != 0 || w[0] % group != 0 || w[1] * group != s[1])
      return NodeError(n, "weights " + ShapeString(w) + " do not match input " + ShapeString(s) +
                              " with group " + std::to_string(group));
    auto ks = n.Ints("kernel_shape");
    if (!ks.empty() && (ks.size() != 2 || ks[0] != w[2] || ks[1] != w[3]))
      return NodeError(n, "kernel_shape does not match weights " + ShapeString(w));
    if (in.size() > 2 && in[2].present && in[2].shape != Shape{w[0]})
      return NodeError(n, "bias shape " + ShapeString(in[2].shape) + " should be [" +
                              std::to_string(w[0]) + "]");
    Window win;
    VQI_RETURN_IF_ERROR(ComputeWindow(n, s[2], s[3], w[2], w[3], false, &win));
    out[0].shape = {s[0], w[0], win.oh, win.ow};
  } else if (op == "MaxPool") {
    VQI_RETURN_IF_ERROR(need_float(0));
    if (rank != 4) return NodeError(n, "only 2-D pooling supported");
    if (out.size() > 1 && n.out[1] >= 0) return NodeError(n, "Indices output not supported");
    auto ks = n.Ints("kernel_shape");
    if (ks.size() != 2) return NodeError(n, "kernel_shape must have 2 values");
    Window win;
    VQI_RETURN_IF_ERROR(ComputeWindow(n, s[2], s[3], ks[0], ks[1], n.Int("ceil_mode", 0), &win));
    out[0].shape = {s[0], s[1], win.oh, win.ow};
  } else if (op == "Resize" || op == "Upsample") {
    VQI_RETURN_IF_ERROR(need_float(0));
    std::vector<float> sc;
    VQI_RETURN_IF_ERROR(ComputeResize(n, opset, in, &sc, &out[0].shape));
  } else if (op == "Concat") {
    int64_t axis = n.Int("axis", 0);
    if (!NormAxis(&axis, rank)) return NodeError(n, "bad concat axis");
    Shape r = s;
    r[axis] = 0;
    for (const auto& v : in) {
      if (!v.present) continue;
      if (v.shape.size() != s.size() || v.dtype != in[0].dtype)
        return NodeError(n, "inputs differ in rank or type");
      for (int64_t k = 0; k < rank; ++k)
        if (k != axis && v.shape[k] != s[k])
          return NodeError(n, "input shapes " + ShapeString(v.shape) + " and " + ShapeString(s) +
                                  " differ outside the concat axis");
      r[axis] += v.shape[axis];
    }
    out[0].shape = r;
  } else if (op == "Split") {
    int64_t axis;
    std::vector<int64_t> sizes;
    VQI_RETURN_IF_ERROR(ComputeSplit(n, opset, in, &axis, &sizes));
    for (size_t k = 0; k < out.size(); ++k) {
      out[k].shape = s;
      out[k].shape[axis] = sizes[k];
    }
  } else if (op == "Slice") {
    std::vector<SliceAxis> ax;
    VQI_RETURN_IF_ERROR(ComputeSlice(n, opset, in, &ax));
    out[0].shape.resize(rank);
    for (int64_t k = 0; k < rank; ++k) out[0].shape[k] = ax[k].count;
  } else if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Pow") {
    if (in.size() < 2 || !in[1].present) return NodeError(n, "needs two inputs");
    if (!Broadcast(s, in[1].shape, &out[0].shape))
      return NodeError(
          n, "shapes " + ShapeString(s) + " and " + ShapeString(in[1].shape) + " do not broadcast");
    if (in[0].dtype != in[1].dtype) return NodeError(n, "input types differ");
  } else if (op == "Sigmoid" || op == "Relu" || op == "LeakyRelu" || op == "HardSwish" ||
             op == "HardSigmoid" || op == "Clip" || op == "Exp" || op == "Neg" || op == "Sqrt" ||
             op == "Floor" || op == "Ceil" || op == "Identity") {
    if (op != "Identity" && op != "Neg" && op != "Clip") VQI_RETURN_IF_ERROR(need_float(0));
    if (op == "Clip")
      for (size_t k = 1; k < in.size(); ++k)
        if (in[k].present && !in[k].has_data()) return NodeError(n, "min/max must be constant");
    out[0].shape = s;
  } else if (op == "Softmax") {
    VQI_RETURN_IF_ERROR(need_float(0));
    int64_t axis = n.Int("axis", opset >= 13 ? -1 : 1);
    if (!NormAxis(&axis, rank)) return NodeError(n, "bad softmax axis");
    out[0].shape = s;
  } else if (op == "Transpose") {
    auto perm = n.Ints("perm");
    if (perm.empty())
      for (int64_t k = rank - 1; k >= 0; --k) perm.push_back(k);
    if (static_cast<int64_t>(perm.size()) != rank) return NodeError(n, "perm rank mismatch");
    std::vector<bool> used(rank, false);
    out[0].shape.resize(rank);
    for (int64_t k = 0; k < rank; ++k) {
      if (perm[k] < 0 || perm[k] >= rank || used[perm[k]]) return NodeError(n, "bad perm");
      used[perm[k]] = true;
      out[0].shape[k] = s[perm[k]];
    }
  } else if (op == "Reshape") {
    std::vector<int64_t> t;
    if (opset < 5) {
      t = n.Ints("shape");
    } else if (in.size() < 2 || !ReadInts(in[1], &t)) {
      return NodeError(n, "target shape cannot be resolved statically (not a constant)");
    }
    int64_t known = 1, infer = -1;
    bool allowzero = n.Int("allowzero", 0) != 0;
    for (size_t k = 0; k < t.size(); ++k) {
      if (t[k] == 0 && !allowzero) {
        if (k >= s.size()) return NodeError(n, "0 in shape beyond input rank");
        t[k] = s[k];
      }
      if (t[k] == -1) {
        if (infer >= 0) return NodeError(n, "more than one -1 in shape");
        infer = static_cast<int64_t>(k);
      } else if (t[k] < 0) {
        return NodeError(n, "negative dimension in shape");
      } else if (__builtin_mul_overflow(known, t[k], &known)) {
        return NodeError(n, "shape " + ShapeString(t) + " overflows");
      }
    }
    int64_t total = NumElements(s);
    if (infer >= 0) {
      if (known == 0 || total % known) return NodeError(n, "cannot infer -1 dimension");
      t[infer] = total / known;
    }
    if (NumElements(t) != total)
      return NodeError(n, "cannot reshape " + ShapeString(s) + " to " + ShapeString(t));
    out[0].shape = t;
  } else if (op == "Flatten") {
    int64_t axis = n.Int("axis", 1);
    if (axis < 0) axis += rank;
    if (axis < 0 || axis > rank) return NodeError(n, "bad flatten axis");
    int64_t a = 1;
    for (int64_t k = 0; k < axis; ++k) a *= s[k];
    out[0].shape = {a, NumElements(s) / std::max<int64_t>(a, 1)};
  } else if (op == "Constant") {
    Tensor t;
    if (n.Has("value")) {
      t = n.attrs.at("value").t;
    } else if (n.Has("value_float")) {
      t.f = {n.Float("value_float", 0)};
    } else if (n.Has("value_floats")) {
      t.f = n.attrs.at("value_floats").floats;
      t.shape = {static_cast<int64_t>(t.f.size())};
    } else if (n.Has("value_int")) {
      t.dtype = DType::kInt64;
      t.i = {n.Int("value_int", 0)};
    } else if (n.Has("value_ints")) {
      t.dtype = DType::kInt64;
      t.i = n.Ints("value_ints");
      t.shape = {static_cast<int64_t>(t.i.size())};
    } else {
      return NodeError(n, "no supported value attribute");
    }
    out[0].dtype = t.dtype;
    out[0].shape = t.shape;
  } else if (op == "Shape") {
    int64_t st = n.Int("start", 0), en = n.Int("end", rank);
    if (st < 0) st += rank;
    if (en < 0) en += rank;
    st = std::clamp<int64_t>(st, 0, rank);
    en = std::clamp<int64_t>(en, 0, rank);
    out[0].dtype = DType::kInt64;
    out[0].shape = {std::max<int64_t>(0, en - st)};
  } else if (op == "Gather") {
    if (in.size() < 2 || !in[1].present || in[1].dtype != DType::kInt64)
      return NodeError(n, "needs integer indices");
    int64_t axis = n.Int("axis", 0);
    if (!NormAxis(&axis, rank)) return NodeError(n, "bad gather axis");
    if (in[1].has_data()) {
      for (int64_t k = 0; k < NumElements(in[1].shape); ++k)
        if (in[1].i[k] < -s[axis] || in[1].i[k] >= s[axis])
          return NodeError(n, "gather index out of range");
    } else {
      return NodeError(n, "indices must be constant");
    }
    Shape r(s.begin(), s.begin() + axis);
    r.insert(r.end(), in[1].shape.begin(), in[1].shape.end());
    r.insert(r.end(), s.begin() + axis + 1, s.end());
    out[0].shape = r;
  } else if (op == "Unsqueeze" || op == "Squeeze") {
    std::vector<int64_t> axes;
    bool given;
    if (!SqueezeAxes(n, opset, in, &axes, &given)) return NodeError(n, "axes must be constant");
    if (op == "Unsqueeze") {
      int64_t r = rank + static_cast<int64_t>(axes.size());
      std::vector<bool> ins(r, false);
      for (int64_t a : axes) {
        if (!NormAxis(&a, r) || ins[a]) return NodeError(n, "bad unsqueeze axis");
        ins[a] = true;
      }
      Shape o;
      size_t src = 0;
      for (int64_t k = 0; k < r; ++k) o.push_back(ins[k] ? 1 : s[src++]);
      out[0].shape = o;
    } else {
      std::vector<bool> drop(rank, false);
      if (!given)
        for (int64_t k = 0; k < rank; ++k) drop[k] = s[k] == 1;
      for (int64_t a : axes) {
        if (!NormAxis(&a, rank) || s[a] != 1) return NodeError(n, "bad squeeze axis");
        drop[a] = true;
      }
      Shape o;
      for (int64_t k = 0; k < rank; ++k)
        if (!drop[k]) o.push_back(s[k]);
      out[0].shape = o;
    }
  } else if (op == "Cast") {
    out[0].dtype = CastTarget(n.Int("to", 1));
    out[0].shape = s;
  } else if (op == "ConstantOfShape") {
    std::vector<int64_t> t;
    if (!ReadInts(in[0], &t)) return NodeError(n, "shape must be constant");
    for (int64_t d : t)
      if (d < 0 || d > (int64_t{1} << 30)) return NodeError(n, "bad dimension");
    out[0].dtype = n.Has("value") ? n.attrs.at("value").t.dtype : DType::kFloat;
    out[0].shape = t;
  } else if (op == "Range") {
    std::vector<float> v[3];
    for (int k = 0; k < 3; ++k)
      if (static_cast<int>(in.size()) <= k || !ReadFloats(in[k], &v[k]) || v[k].size() != 1)
        return NodeError(n, "start/limit/delta must be constant scalars");
    if (v[2][0] == 0) return NodeError(n, "delta is 0");
    double cnt = std::ceil((v[1][0] - v[0][0]) / v[2][0]);
    if (!(cnt <= (1 << 24))) return NodeError(n, "range too long (or not finite)");
    out[0].shape = {std::max<int64_t>(0, static_cast<int64_t>(cnt))};
  } else if (op == "Expand") {
    std::vector<int64_t> t;
    if (in.size() < 2 || !ReadInts(in[1], &t)) return NodeError(n, "shape must be constant");
    if (!Broadcast(s, t, &out[0].shape)) return NodeError(n, "shape does not broadcast");
  } else if (op == "QuantizeLinear" || op == "DequantizeLinear") {
    // Fake quantization on float values: QuantizeLinear's output holds the integers as floats.
    if (op == "QuantizeLinear") VQI_RETURN_IF_ERROR(need_float(0));
    if (in.size() < 2 || !in[1].present) return NodeError(n, "missing scale input");
    VQI_RETURN_IF_ERROR(need_float(1));
    int64_t cnt = NumElements(in[1].shape);
    if (in[1].shape.size() > 1) return NodeError(n, "scale must be a scalar or 1-D");
    if (cnt != 1) {
      int64_t axis = n.Int("axis", 1);
      if (!NormAxis(&axis, rank)) return NodeError(n, "axis out of range");
      if (cnt != s[axis])
        return NodeError(n, "scale has " + std::to_string(cnt) + " values, axis " +
                                std::to_string(axis) + " has " + std::to_string(s[axis]));
    }
    if (in.size() > 2 && in[2].present && in[2].shape != in[1].shape)
      return NodeError(n, "zero point shape " + ShapeString(in[2].shape) +
                              " does not match scale shape " + ShapeString(in[1].shape));
    out[0].dtype = DType::kFloat;
    out[0].shape = s;
  } else if (op == "BatchNormalization") {
    VQI_RETURN_IF_ERROR(need_float(0));
    if (rank < 2 || in.size() < 5) return NodeError(n, "needs X, scale, B, mean, var");
    for (int k = 1; k < 5; ++k)
      if (!in[k].present || in[k].shape != Shape{s[1]})
        return NodeError(n, "parameter " + std::to_string(k) + " should have shape [" +
                                std::to_string(s[1]) + "]");
    if (out.size() > 1)
      for (size_t k = 1; k < out.size(); ++k)
        if (n.out[k] >= 0) return NodeError(n, "training-mode outputs not supported");
    out[0].shape = s;
  }
  for (size_t k = 0; k < out.size(); ++k) {
    const Shape& os = out[k].shape;
    if (os.size() > static_cast<size_t>(kMaxTensorRank))
      return NodeError(n, "rank above " + std::to_string(kMaxTensorRank) + " not supported");
    for (int64_t d : os)
      if (d < 0) return NodeError(n, "negative output dimension");
  }
  return Status::Ok();
}

Status CheckTensorSize(const Node& n, const Tensor& t, const Shape& shape) {
  if (NumElements(shape) <= kMaxTensorElements) return Status::Ok();
  return ResourceExhausted(n.Where() + ": output '" + t.name + "' of shape " +
                           ShapeString(shape) + " exceeds the limit of " +
                           std::to_string(kMaxTensorElements) + " elements per tensor");
}

}  // namespace vqi::infer::onednn
