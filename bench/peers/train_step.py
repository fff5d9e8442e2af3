#!/usr/bin/python3
"""PyTorch peer of bench/train_bench (vqi::train::MeasureTrainStep): the same YOLOv8 network
(built from the same plan as libs/model Plan()), the same loss (a line-by-line port of
libs/train/src/loss.cc), the same random inputs and boxes, and the same step (forward + loss +
backward + SGD lr 0.01, momentum 0.937, Nesterov). Prints one JSON line per run.

Benchmark-only dependency: Debian's python3-torch (1.13), run with /usr/bin/python3.

  train_step.py --scale t --imgsz 480x320 --batch 16 --steps 3 --warmup 1 --threads 2
  train_step.py --params            # parameter counts (t and n, nc 1 and 80), no timing
  train_step.py --check-weights F   # names and shapes against one of our .safetensors
"""
import argparse
import json
import math
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# --- libs/model/src/config.cc -------------------------------------------------------------

SCALES = {  # depth, width, max_channels
    "t": (0.33, 0.125, 1024),
    "n": (0.33, 0.25, 1024),
    "s": (0.33, 0.50, 1024),
    "m": (0.67, 0.75, 768),
    "l": (1.00, 1.00, 512),
    "x": (1.00, 1.25, 512),
}


def plan(scale, nc, reg_max=16):
    """Layers as Plan(): dicts with type, frm (inputs), c_in, c_out, n, shortcut, k, s."""
    depth, width, max_ch = SCALES[scale]

    def ch(c):
        return int(math.ceil(min(c, max_ch) * width / 8.0)) * 8

    def rep(n):
        return max(int(round(n * depth)), 1) if n > 1 else n

    L = []

    def out(i):
        return 3 if i < 0 else L[i]["c_out"]

    def conv(c, k, s):
        i = len(L)
        L.append(dict(type="Conv", frm=[i - 1], c_in=out(i - 1), c_out=ch(c), k=k, s=s))

    def c2f(frm, c, n, shortcut):
        L.append(dict(type="C2f", frm=frm, c_in=sum(out(f) for f in frm), c_out=ch(c),
                      n=rep(n), shortcut=shortcut))

    def simple(t, frm):
        c_in = sum(out(f) for f in frm)
        L.append(dict(type=t, frm=frm, c_in=c_in, c_out=c_in if t == "Concat" else out(frm[0])))

    conv(64, 3, 2)
    conv(128, 3, 2)
    c2f([1], 128, 3, True)
    conv(256, 3, 2)
    c2f([3], 256, 6, True)
    conv(512, 3, 2)
    c2f([5], 512, 6, True)
    conv(1024, 3, 2)
    c2f([7], 1024, 3, True)
    L.append(dict(type="SPPF", frm=[8], c_in=out(8), c_out=ch(1024), k=5))
    simple("Upsample", [9])
    simple("Concat", [10, 6])
    c2f([11], 512, 3, False)
    simple("Upsample", [12])
    simple("Concat", [13, 4])
    c2f([14], 256, 3, False)
    conv(256, 3, 2)
    simple("Concat", [16, 12])
    c2f([17], 512, 3, False)
    conv(512, 3, 2)
    simple("Concat", [19, 9])
    c2f([20], 1024, 3, False)
    dch = [out(15), out(18), out(21)]
    L.append(dict(type="Detect", frm=[15, 18, 21], detect_ch=dch,
                  head_c2=max(16, dch[0] // 4, reg_max * 4), head_c3=max(dch[0], min(nc, 100))))
    return L


# --- libs/train/src/yolo.cc -----------------------------------------------------------------
# Modules are constructed in the same order as ours, so torch.manual_seed(0) gives the same
# initial weights (both sides draw from the same libtorch CPU generator).


class Conv(nn.Module):
    def __init__(self, c1, c2, k, s):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(c2, eps=1e-3, momentum=0.03)

    def forward(self, x):
        return F.silu(self.bn(self.conv(x)))


class Bottleneck(nn.Module):
    def __init__(self, c1, c2, shortcut):
        super().__init__()
        self.add = shortcut and c1 == c2
        self.cv1 = Conv(c1, c2, 3, 1)
        self.cv2 = Conv(c2, c2, 3, 1)

    def forward(self, x):
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class C2f(nn.Module):
    def __init__(self, c1, c2, n, shortcut):
        super().__init__()
        self.c = c2 // 2
        self.cv1 = Conv(c1, 2 * self.c, 1, 1)
        self.cv2 = Conv((2 + n) * self.c, c2, 1, 1)
        self.m = nn.ModuleList(Bottleneck(self.c, self.c, shortcut) for _ in range(n))

    def forward(self, x):
        ys = list(self.cv1(x).chunk(2, 1))
        for b in self.m:
            ys.append(b(ys[-1]))
        return self.cv2(torch.cat(ys, 1))


class SPPF(nn.Module):
    def __init__(self, c1, c2, k):
        super().__init__()
        c = c1 // 2
        self.k = k
        self.cv1 = Conv(c1, c, 1, 1)
        self.cv2 = Conv(c * 4, c2, 1, 1)

    def forward(self, x):
        a = self.cv1(x)
        b = F.max_pool2d(a, self.k, 1, self.k // 2)
        c = F.max_pool2d(b, self.k, 1, self.k // 2)
        d = F.max_pool2d(c, self.k, 1, self.k // 2)
        return self.cv2(torch.cat([a, b, c, d], 1))


def head_branch(c_in, w, out):
    return nn.Sequential(Conv(c_in, w, 3, 1), Conv(w, w, 3, 1), nn.Conv2d(w, out, 1, bias=True))


class DFL(nn.Module):
    def __init__(self, reg_max):
        super().__init__()
        self.conv = nn.Conv2d(reg_max, 1, 1, bias=False)
        with torch.no_grad():
            self.conv.weight.copy_(torch.arange(reg_max, dtype=torch.float).view(1, reg_max, 1, 1))
        self.conv.weight.requires_grad_(False)


class Detect(nn.Module):
    def __init__(self, layer, nc, reg_max, strides):
        super().__init__()
        box, cls = [], []
        for c in layer["detect_ch"]:  # ours builds box_i then cls_i per level
            box.append(head_branch(c, layer["head_c2"], 4 * reg_max))
            cls.append(head_branch(c, layer["head_c3"], nc))
        self.cv2 = nn.ModuleList(box)
        self.cv3 = nn.ModuleList(cls)
        self.dfl = DFL(reg_max)
        with torch.no_grad():
            for i, s in enumerate(strides):
                self.cv2[i][2].bias.fill_(1.0)
                self.cv3[i][2].bias.fill_(math.log(5.0 / nc / (640.0 / s) ** 2))


class Yolo(nn.Module):
    def __init__(self, scale, nc, reg_max=16, strides=(8, 16, 32)):
        super().__init__()
        self.plan = plan(scale, nc, reg_max)
        layers = []
        for l in self.plan:
            t = l["type"]
            if t == "Conv":
                layers.append(Conv(l["c_in"], l["c_out"], l["k"], l["s"]))
            elif t == "C2f":
                layers.append(C2f(l["c_in"], l["c_out"], l["n"], l["shortcut"]))
            elif t == "SPPF":
                layers.append(SPPF(l["c_in"], l["c_out"], l["k"]))
            elif t == "Detect":
                layers.append(Detect(l, nc, reg_max, strides))
            else:
                layers.append(nn.Identity())
        self.model = nn.ModuleList(layers)

    def forward(self, x):
        out = [None] * len(self.plan)
        for i, (l, m) in enumerate(zip(self.plan, self.model)):
            ins = [x if f < 0 else out[f] for f in l["frm"]]
            if l["type"] == "Upsample":
                out[i] = F.interpolate(ins[0], scale_factor=2.0, mode="nearest")
            elif l["type"] == "Concat":
                out[i] = torch.cat(ins, 1)
            elif l["type"] == "Detect":
                return [torch.cat([m.cv2[k](ins[k]), m.cv3[k](ins[k])], 1) for k in range(len(ins))]
            else:
                out[i] = m(ins[0])
        raise RuntimeError("plan without a Detect layer")


def make_anchors(feats, strides):
    pts, strs = [], []
    for f, s in zip(feats, strides):
        h, w = f.shape[2], f.shape[3]
        sx = torch.arange(w, dtype=torch.float) + 0.5
        sy = torch.arange(h, dtype=torch.float) + 0.5
        gy, gx = torch.meshgrid(sy, sx, indexing="ij")
        pts.append(torch.stack([gx, gy], -1).view(-1, 2))
        strs.append(torch.full((h * w, 1), float(s)))
    return torch.cat(pts), torch.cat(strs)


def dfl_expect(dist, reg_max):
    sizes = list(dist.shape)
    sizes[-1] = 4
    v = dist.view(-1, 4, reg_max).softmax(-1)
    proj = torch.arange(reg_max, dtype=dist.dtype)
    return v.matmul(proj).view(sizes)


def dist2bbox(ltrb, anchor_points):
    lt, rb = ltrb.chunk(2, -1)
    return torch.cat([anchor_points - lt, anchor_points + rb], -1)


# --- libs/train/src/loss.cc -----------------------------------------------------------------


def bbox_iou(b1, b2, ciou):
    eps = 1e-7
    b1x1, b1y1, b1x2, b1y2 = b1.chunk(4, -1)
    b2x1, b2y1, b2x2, b2y2 = b2.chunk(4, -1)
    w1, h1 = b1x2 - b1x1, b1y2 - b1y1 + eps
    w2, h2 = b2x2 - b2x1, b2y2 - b2y1 + eps
    inter = (torch.minimum(b1x2, b2x2) - torch.maximum(b1x1, b2x1)).clamp_min(0) * \
            (torch.minimum(b1y2, b2y2) - torch.maximum(b1y1, b2y1)).clamp_min(0)
    uni = w1 * h1 + w2 * h2 - inter + eps
    iou = inter / uni
    if not ciou:
        return iou
    cw = torch.maximum(b1x2, b2x2) - torch.minimum(b1x1, b2x1)
    ch = torch.maximum(b1y2, b2y2) - torch.minimum(b1y1, b2y1)
    c2 = cw.pow(2) + ch.pow(2) + eps
    rho2 = ((b2x1 + b2x2 - b1x1 - b1x2).pow(2) + (b2y1 + b2y2 - b1y1 - b1y2).pow(2)) / 4
    v = (4 / (math.pi * math.pi)) * (torch.atan(w2 / h2) - torch.atan(w1 / h1)).pow(2)
    with torch.no_grad():
        alpha = v / (v - iou + (1 + eps))
    return iou - (rho2 / c2 + v * alpha)


@torch.no_grad()
def task_aligned_assign(pd_scores, pd_bboxes, anc_points, gt_labels, gt_bboxes, mask_gt, nc,
                        topk=10, alpha=0.5, beta=6.0, eps=1e-9):
    bs, na, nmax = pd_scores.shape[0], pd_scores.shape[1], gt_bboxes.shape[1]
    if nmax == 0:
        return (torch.full((bs, na), nc, dtype=torch.long), torch.zeros_like(pd_bboxes),
                torch.zeros_like(pd_scores), torch.zeros((bs, na), dtype=torch.bool))
    lt = anc_points.view(1, 1, na, 2) - gt_bboxes[:, :, 0:2].unsqueeze(2)
    rb = gt_bboxes[:, :, 2:4].unsqueeze(2) - anc_points.view(1, 1, na, 2)
    in_gts = torch.cat([lt, rb], -1).amin(-1).gt(eps)
    mask = in_gts.logical_and(mask_gt.bool())  # [B, M, N]

    labels = gt_labels.squeeze(-1).long().clamp(0, nc - 1)  # [B, M]
    scores_t = pd_scores.transpose(1, 2)  # [B, nc, N]
    bbox_scores = scores_t.gather(1, labels.unsqueeze(-1).expand(bs, nmax, na))
    ious = bbox_iou(gt_bboxes.unsqueeze(2), pd_bboxes.unsqueeze(1), True).squeeze(-1).clamp_min(0)
    maskf = mask.float()
    overlaps = ious * maskf
    bbox_scores = bbox_scores * maskf
    align = bbox_scores.pow(alpha) * overlaps.pow(beta)

    k = min(topk, na)
    topk_idx = align.topk(k, -1, True, True)[1]  # [B, M, k]
    gt_ok = mask_gt.bool().expand(bs, nmax, k)
    topk_idx = topk_idx.masked_fill(gt_ok.logical_not(), 0)
    count = torch.zeros((bs, nmax, na), dtype=torch.float)
    count.scatter_add_(-1, topk_idx, torch.ones((bs, nmax, k), dtype=torch.float))
    count.masked_fill_(count.gt(1), 0)
    mask_pos = count * maskf

    fg = mask_pos.sum(-2)  # [B, N]
    if fg.gt(1).any().item():
        multi = fg.unsqueeze(1).gt(1).expand(bs, nmax, na)
        best = overlaps.argmax(1)
        is_max = F.one_hot(best, nmax).permute(0, 2, 1).to(overlaps.dtype)
        mask_pos = torch.where(multi, is_max, mask_pos)
        fg = mask_pos.sum(-2)
    gt_idx = mask_pos.argmax(-2)  # [B, N]

    flat_idx = gt_idx + torch.arange(bs, dtype=torch.long).unsqueeze(-1) * nmax
    a_labels = labels.flatten()[flat_idx]
    a_bboxes = gt_bboxes.reshape(-1, 4)[flat_idx]
    a_fg = fg.gt(0)
    onehot = F.one_hot(a_labels, nc).float() * a_fg.unsqueeze(-1).float()

    align = align * mask_pos
    pos_align = align.max(-1, keepdim=True)[0]
    pos_ovl = (overlaps * mask_pos).max(-1, keepdim=True)[0]
    norm = (align * pos_ovl / (pos_align + eps)).max(-2)[0].unsqueeze(-1)
    return a_labels, a_bboxes, onehot * norm, a_fg


def dfl_term(pred, target):
    tl = target.long()
    tr = tl + 1
    wl = tr.to(target.dtype) - target
    wr = 1 - wl
    logp = torch.log_softmax(pred, -1)
    ce_l = -logp.gather(-1, tl.unsqueeze(-1)).squeeze(-1)
    ce_r = -logp.gather(-1, tr.unsqueeze(-1)).squeeze(-1)
    return ce_l * wl + ce_r * wr


def detection_loss(feats, targets, nc, reg_max=16, strides=(8, 16, 32), gains=(7.5, 0.5, 1.5)):
    """Returns (total to backpropagate, box, cls, dfl) as DetectionLoss::operator()."""
    rm = reg_max
    bs = feats[0].shape[0]
    cat = torch.cat([f.view(bs, 4 * rm + nc, -1) for f in feats], 2).permute(0, 2, 1).contiguous()
    pred_distri = cat[:, :, :4 * rm]
    pred_scores = cat[:, :, 4 * rm:]
    points, stride_t = make_anchors(feats, strides)
    na = points.shape[0]

    # Padded per image: [B, M, 5] (class, x1, y1, x2, y2) and mask [B, M, 1].
    rows = targets.float().tolist()
    per_image = [[] for _ in range(bs)]
    for row in rows:
        per_image[int(row[0])].append(row[1:6])
    m = max((len(r) for r in per_image), default=0)
    gt = torch.tensor([r + [[0.0] * 5] * (m - len(r)) for r in per_image]).view(bs, m, 5)
    mask_gt = torch.tensor([[[1.0]] * len(r) + [[0.0]] * (m - len(r)) for r in per_image]).view(bs, m, 1)
    gt_labels = gt[:, :, 0:1].long()
    gt_bboxes = gt[:, :, 1:5]

    pred_bboxes = dist2bbox(dfl_expect(pred_distri, rm), points)  # grid units
    _, a_bboxes, a_scores, a_fg = task_aligned_assign(
        pred_scores.detach().sigmoid(), pred_bboxes.detach() * stride_t, points * stride_t,
        gt_labels, gt_bboxes, mask_gt, nc)
    tss = max(a_scores.sum().item(), 1.0)

    loss_cls = F.binary_cross_entropy_with_logits(pred_scores, a_scores, reduction="none").sum() / tss
    loss_box, loss_dfl = torch.zeros(()), torch.zeros(())
    if a_fg.any().item():
        tb = a_bboxes / stride_t
        weight = a_scores.sum(-1)[a_fg].unsqueeze(-1)
        iou = bbox_iou(pred_bboxes[a_fg], tb[a_fg], True)
        loss_box = ((1.0 - iou) * weight).sum() / tss
        pts = points.unsqueeze(0).expand(bs, na, 2)
        ltrb = torch.cat([pts - tb[:, :, 0:2], tb[:, :, 2:4] - pts], -1).clamp(0, rm - 1 - 0.01)
        d = dfl_term(pred_distri[a_fg].reshape(-1, rm), ltrb[a_fg].reshape(-1)).view(-1, 4).mean(-1, True)
        loss_dfl = (d * weight).sum() / tss
    b, c, d = loss_box * gains[0], loss_cls * gains[1], loss_dfl * gains[2]
    total = (b + c + d) * float(bs)
    return total, b.item(), c.item(), d.item()


# --- the step (libs/train/src/trainer.cc MeasureTrainStep) -----------------------------------


def make_targets(batch, w, h):
    rows = []
    for b in range(batch):
        for k in range(3):
            cx, cy = w * (0.2 + 0.3 * k), h * 0.5
            rows.append([float(b), 0.0, cx - 20, cy - 15, cx + 20, cy + 15])
    return torch.tensor(rows, dtype=torch.float)


def count_params(m):
    return sum(p.numel() for p in m.parameters())


def measure(scale, w, h, batch, steps, warmup, threads, nc, channels_last=False):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = Yolo(scale, nc)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.937, nesterov=True)
    x = torch.rand(batch, 3, h, w)
    targets = make_targets(batch, w, h)
    if channels_last:  # not what ours does: an experiment for the investigation
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    phases = {"forward": 0.0, "loss": 0.0, "backward": 0.0, "sgd": 0.0}

    def step(timed):
        t0 = time.perf_counter()
        feats = model(x)
        t1 = time.perf_counter()
        total, b, c, d = detection_loss(feats, targets, nc)
        t2 = time.perf_counter()
        opt.zero_grad()
        total.backward()
        t3 = time.perf_counter()
        opt.step()
        t4 = time.perf_counter()
        if timed:
            for k, v in zip(phases, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
                phases[k] += v
        return b, c, d

    losses = [step(False) for _ in range(warmup)]
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        losses.append(step(True))
        times.append(time.perf_counter() - t0)
    total_s = sum(times)
    return {
        "peer": "pytorch", "torch": torch.__version__, "scale": scale, "imgsz": f"{w}x{h}",
        "batch": batch, "threads": torch.get_num_threads(), "nc": nc, "params": count_params(model),
        "channels_last": channels_last, "warmup": warmup, "steps": steps,
        "images_per_sec": batch * steps / total_s,
        "step_seconds": [round(t, 4) for t in times],
        # Mean seconds per timed step in each phase (loss = target padding, assigner and terms).
        "phase_seconds": {k: round(v / steps, 4) for k, v in phases.items()},
        # (box, cls, dfl) of every step, warm-up first: the same as ours step for step when
        # the initial weights match (same seed, same construction order, same libtorch).
        "losses": [[round(v, 6) for v in parts] for parts in losses],
    }


def read_safetensors_shapes(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    meta = header.pop("__metadata__", {})
    return {k: v["shape"] for k, v in header.items()}, meta


def check_weights(path):
    shapes, meta = read_safetensors_shapes(path)
    cfg = json.loads(meta.get("vqi.model", "{}"))
    scale, nc = cfg.get("scale", "t"), len(cfg.get("class_names", ["c"]))
    sd = {k: list(v.shape) for k, v in Yolo(scale, nc).state_dict().items()
          if not k.endswith("num_batches_tracked")}
    missing = sorted(set(shapes) - set(sd))
    extra = sorted(set(sd) - set(shapes))
    wrong = sorted(k for k in set(sd) & set(shapes) if sd[k] != shapes[k])
    ok = not (missing or extra or wrong)
    print(json.dumps({"checkpoint": path, "scale": scale, "nc": nc, "tensors": len(shapes),
                      "same_names_and_shapes": ok, "missing_here": missing[:10],
                      "extra_here": extra[:10], "wrong_shape": wrong[:10]}))
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", default="t", choices=sorted(SCALES))
    ap.add_argument("--imgsz", default="480x320", help="WxH, multiples of 32")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1, help="untimed steps first (ours: 1)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--nc", type=int, default=1, help="classes (ours: 1 in train_bench)")
    ap.add_argument("--channels-last", action="store_true",
                    help="NHWC model and input (an experiment; ours is NCHW)")
    ap.add_argument("--params", action="store_true", help="print parameter counts and exit")
    ap.add_argument("--check-weights", metavar="SAFETENSORS")
    a = ap.parse_args()

    if a.params:
        for scale in ("t", "n"):
            for nc in (1, 80):
                print(json.dumps({"scale": scale, "nc": nc, "params": count_params(Yolo(scale, nc))}))
        return 0
    if a.check_weights:
        return 0 if check_weights(a.check_weights) else 1
    w, h = (int(v) for v in a.imgsz.lower().split("x"))
    if w % 32 or h % 32 or a.batch < 1 or a.steps < 1:
        print("imgsz must be multiples of 32; batch and steps >= 1", file=sys.stderr)
        return 2
    print(json.dumps(measure(a.scale, w, h, a.batch, a.steps, a.warmup, a.threads, a.nc,
                               a.channels_last)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
