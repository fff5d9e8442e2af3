#include "ops/common.h"

#include <algorithm>

#include "onednn_limits.h"

namespace vqi::infer::onednn::internal {

Status NeedFloat(const Node& n, const std::vector<InValue>& in, size_t k) {
  return k < in.size() && in[k].present && in[k].dtype != DType::kFloat
             ? NodeError(n, "input " + std::to_string(k) + " must be float")
             : Status::Ok();
}

InValue ViewOf(const Tensor& t) {
  InValue v;
  v.present = true;
  v.dtype = t.dtype;
  v.shape = t.shape;
  v.elem_type = t.elem_type;
  if (t.is_const) {
    static const int64_t kEmpty = 0;
    if (t.dtype == DType::kFloat)
      v.f = t.f.empty() ? reinterpret_cast<const float*>(&kEmpty) : t.f.data();
    else
      v.i = t.i.empty() ? &kEmpty : t.i.data();
  }
  return v;
}

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

void RowStrides(const Shape& s, int64_t* st) {
  int64_t acc = 1;
  for (size_t k = s.size(); k-- > 0;) {
    st[k] = acc;
    acc *= s[k];
  }
}

std::vector<int64_t> RowStrides(const Shape& s) {
  std::vector<int64_t> st(s.size(), 1);
  for (size_t k = s.size(); k-- > 1;) st[k - 1] = st[k] * s[k];
  return st;
}

void BroadcastStrides(const Shape& s, const Shape& target, int64_t* st) {
  size_t r = target.size(), off = r - s.size();
  int64_t acc = 1;
  for (size_t k = r; k-- > 0;) {
    if (k < off) {
      st[k] = 0;
      continue;
    }
    int64_t d = s[k - off];
    st[k] = (d == 1 && target[k] != 1) ? 0 : acc;
    acc *= d;
  }
}

namespace {

template <typename T>
void Gathered(const Shape& os, const int64_t* st, int64_t offset, const T* in, T* out) {
  int64_t c[kMaxRank] = {0};
  int r = static_cast<int>(os.size());
  int64_t n = NumElements(os), idx = offset;
  for (int64_t k = 0; k < n; ++k) {
    out[k] = in[idx];
    for (int d = r - 1; d >= 0; --d) {
      ++c[d];
      idx += st[d];
      if (c[d] < os[d]) break;
      idx -= st[d] * os[d];
      c[d] = 0;
    }
  }
}

}  // namespace

void CopyView(const InValue& in, const Shape& os, const int64_t* st, int64_t offset, OutValue& o) {
  if (in.f)
    Gathered(os, st, offset, in.f, o.f);
  else
    Gathered(os, st, offset, in.i, o.i);
}

}  // namespace vqi::infer::onednn::internal
