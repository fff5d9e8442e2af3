// RebatchGraph (rebatch.h): a batch-1 export compiled for batch N, or a refusal naming the node.
#include "rebatch.h"

#include "passes.h"

namespace vqi::infer::onednn {

namespace {

std::string Refusal(const Node& n, int64_t batch, const std::string& why) {
  return n.Where() + ": the model cannot be re-batched to " + std::to_string(batch) + ": " + why +
         "; run it at batch 1, or export it with a batch dimension";
}

// The input index holding a target shape whose first element is the batch: Reshape and
// Expand (shape), Resize (sizes). -1 for other ops.
int BatchShapeInput(const Node& n) {
  if (n.op == "Reshape" || n.op == "Expand") return 1;
  if (n.op == "Resize") return 3;
  return -1;
}

// Ops that normalize along one axis: axis 0 would mix the images of a batch.
bool NormalizesOverBatch(const Node& n, int64_t opset, int64_t rank) {
  int64_t axis;
  if (n.op == "Softmax" || n.op == "LogSoftmax" || n.op == "Hardmax")
    axis = n.Int("axis", opset >= 13 ? -1 : 1);
  else if (n.op == "LayerNormalization")
    axis = n.Int("axis", -1);
  else
    return false;
  if (axis < 0) axis += rank;
  // Before opset 13 these flatten to [prod(dims < axis), rest]: per image unless axis is 0.
  // LayerNormalization normalizes over every axis from `axis` on.
  return axis <= 0;
}

// A float constant read by an elementwise op beside a batch-N activation, broadcast over the
// batch (rank below the activation's, or 1 in front): repeated N times in front, so the op
// sees two [N, ...] operands. oneDNN 2.6 runs a binary op that broadcasts over dim 0 with its
// reference kernel (the box decode's Sub/Add/Mul on the anchors: 1.1 ms each at batch 4 for
// t320, against µs at batch 1); without the broadcast it stays on the JIT kernel.
void MaterializeBatchBroadcasts(Graph* g, int64_t batch) {
  constexpr int64_t kMaxCopy = int64_t{1} << 22;  // floats; the anchors of n@640 are 16,800
  for (Node& n : g->nodes) {
    if (n.dead || n.in.size() != 2) continue;
    if (n.op != "Add" && n.op != "Sub" && n.op != "Mul" && n.op != "Div") continue;
    for (int side = 0; side < 2; ++side) {
      const int c = n.in[side], x = n.in[1 - side];
      if (c < 0 || x < 0) continue;
      const Tensor& ct = g->tensors[c];
      const Tensor& xt = g->tensors[x];
      if (!ct.is_const || xt.is_const || ct.dtype != DType::kFloat) continue;
      if (xt.shape.empty() || xt.shape[0] != batch || ct.shape.size() > xt.shape.size()) continue;
      Shape full(xt.shape.size() - ct.shape.size(), 1);
      full.insert(full.end(), ct.shape.begin(), ct.shape.end());
      if (full[0] != 1 || NumElements(full) * batch > kMaxCopy) continue;
      Tensor copy;
      copy.name = ct.name + "@batch" + std::to_string(batch);
      copy.dtype = DType::kFloat;
      copy.shape = full;
      copy.shape[0] = batch;
      copy.shape_known = copy.is_const = true;
      copy.elem_type = ct.elem_type;
      copy.qscale = ct.qscale;
      copy.f.reserve(ct.f.size() * batch);
      for (int64_t b = 0; b < batch; ++b) copy.f.insert(copy.f.end(), ct.f.begin(), ct.f.end());
      n.in[side] = g->AddTensor(std::move(copy));
    }
  }
}

}  // namespace

Result<Graph> RebatchGraph(Graph g, int64_t batch) {
  if (batch == 1) return g;
  if (batch < 1 || batch > kMaxBatch)
    return InvalidArgument("batch " + std::to_string(batch) + " out of range (accepted: 1.." +
                           std::to_string(kMaxBatch) + ")");
  Tensor& input = g.tensors[g.input];
  if (input.shape.empty() || input.shape[0] != 1)
    return InvalidArgument("input '" + input.name + "' has shape " + ShapeString(input.shape) +
                           ": only a model exported at batch 1 can be compiled for batch " +
                           std::to_string(batch));
  // 1. Every shape at batch 1.
  Graph one = g;
  VQI_RETURN_IF_ERROR(InferAndFold(&one));
  const size_t known = one.tensors.size();

  // 2. The input's batch, and the literal batch-1 targets of shape-carrying nodes.
  g.tensors[g.input].shape[0] = batch;
  for (size_t k = 0; k < one.nodes.size(); ++k) {
    const Node& n = one.nodes[k];
    const int s = BatchShapeInput(n);
    if (n.dead || s < 0 || static_cast<int>(n.in.size()) <= s || n.in[s] < 0) continue;
    const Tensor& data = one.tensors[n.in[0]];
    const Tensor& target = one.tensors[n.in[s]];
    if (data.is_const || data.shape.empty() || data.shape[0] != 1) continue;
    if (!target.is_const || target.dtype != DType::kInt64 || target.i.empty() || target.i[0] != 1)
      continue;
    Tensor copy;
    copy.name = target.name + "@batch" + std::to_string(batch);
    copy.dtype = DType::kInt64;
    copy.shape = target.shape;
    copy.shape_known = true;
    copy.is_const = true;
    copy.elem_type = target.elem_type;
    copy.i = target.i;
    copy.i[0] = batch;
    g.nodes[k].in[s] = g.AddTensor(std::move(copy));
  }

  // 3. Every shape at batch N, each activation checked against its batch-1 shape.
  Status st = InferAndFold(&g);
  if (!st.ok())
    return Status(st.code(), "at batch " + std::to_string(batch) + ": " + st.message() +
                                 " (the model cannot be re-batched; run it at batch 1, or "
                                 "export it with a batch dimension)");
  for (const Node& n : g.nodes) {
    if (n.dead) continue;
    for (int o : n.out) {
      if (o < 0 || static_cast<size_t>(o) >= known) continue;
      const Tensor& t1 = one.tensors[o];
      const Tensor& tn = g.tensors[o];
      if (t1.is_const) continue;
      if (t1.shape.empty() || t1.shape[0] != 1)
        return InvalidArgument(Refusal(n, batch,
                                       "output '" + t1.name + "' has shape " +
                                           ShapeString(t1.shape) +
                                           " at batch 1 (not the batch in front)"));
      Shape want = t1.shape;
      want[0] = batch;
      if (tn.shape != want)
        return InvalidArgument(Refusal(n, batch,
                                       "output '" + t1.name + "' would be " +
                                           ShapeString(tn.shape) + ", not " + ShapeString(want) +
                                           " (a batch-1 constant in the graph)"));
    }
    if (!n.in.empty() && n.in[0] >= 0 &&
        NormalizesOverBatch(n, g.opset, static_cast<int64_t>(g.tensors[n.in[0]].shape.size())))
      return InvalidArgument(Refusal(n, batch, "it normalizes over axis 0, across the images"));
  }
  const Tensor& out = g.tensors[g.output];
  if (out.is_const || out.shape.empty() || out.shape[0] != batch)
    return InvalidArgument("output '" + out.name + "' has shape " + ShapeString(out.shape) +
                           " at batch " + std::to_string(batch) +
                           ": the model cannot be re-batched");
  MaterializeBatchBroadcasts(&g, batch);
  return g;
}

}  // namespace vqi::infer::onednn
