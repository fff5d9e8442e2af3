#!/usr/bin/python3
"""PyTorch peer of `vqi model train`, end to end: a faithful Ultralytics-style YOLOv8 training
recipe in ONE Python process (Ultralytics sets workers=0 on CPU), fp32, NCHW — what a user of
Ultralytics gets on this machine. Prints one JSON line per epoch and a summary line.

Network and loss are bench/peers/train_step.py's (the same Plan() and a line-by-line port of
libs/train/src/loss.cc, which mirrors Ultralytics' v8DetectionLoss). Around them, as Ultralytics
8.x does by default (ultralytics/data/augment.py, dataset.py, engine/trainer.py, models/yolo/
detect/val.py, utils/metrics.py), re-implemented here without the package:

- data: the metal-tag images (Ground-Truth CSV labels.csv, latest APPROVED row per image),
  cv2.imread, resized to fit the input (INTER_LINEAR when augmenting), kept in a FIFO buffer of
  min(n, batch * 8, 1000) images (cache=False); a torch DataLoader with num_workers=0, shuffle;
- augmentation: Mosaic (p 1.0, 4 images, the other three from the buffer), RandomPerspective
  (scale 0.5, translate 0.1, no rotation/shear/perspective) with box_candidates, RandomHSV
  (0.015, 0.7, 0.4), flipud 0.0, fliplr 0.5, LetterBox when mosaic is off (close_mosaic);
- uint8 HWC -> RGB CHW tensor, /255 on the trainer side (preprocess_batch);
- optimizer 'auto': AdamW lr 0.002 (0.002 * 5 / (4 + nc)), beta1 0.9, weight decay
  5e-4 * batch * accumulate / 64 on conv weights only; nbs 64 -> accumulate 4 batches per
  optimizer step (ramping from 1 during warm-up); warm-up max(3 epochs, 100 iterations) with
  bias lr from 0.1; linear lr decay to lrf 0.01; clip_grad_norm_(10); EMA (0.9999, tau 2000)
  after every optimizer step;
- validation every epoch on the EMA model: letterbox, batch 2 x batch, val loss, NMS (torchvision,
  conf 0.001, IoU 0.7, max_det 300), mAP50 and mAP50-95 (101-point interpolation);
- last.pt (+ best.pt) every epoch: EMA in half precision + optimizer state.

images/s = training images per epoch / epoch wall time (training, validation and saving), over
the epochs after the first. Benchmark-only dependencies: python3-torch, python3-opencv,
python3-torchvision (Debian).

  train_recipe.py --data /work/shared/datasets/metal-tags --split-dir EXPORT \
      --scale n --imgsz 480x320 --batch 16 --epochs 4 --close-mosaic 0 --threads 2
"""
import argparse
import ast
import csv
import importlib.util
import json
import math
import os
import random
import sys
import time
from copy import deepcopy
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn as nn
import torchvision

_spec = importlib.util.spec_from_file_location("train_step", Path(__file__).with_name("train_step.py"))
ts = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ts)

cv2.setNumThreads(0)  # as ultralytics/utils/__init__.py

# --- data -------------------------------------------------------------------------------------


def read_ground_truth(root):
    """{relative image path: [[cls, x1, y1, x2, y2], ...]} from labels.csv (latest APPROVED)."""
    latest = {}
    with open(Path(root) / "labels.csv", newline="") as f:
        for row in csv.DictReader(f):
            if row["status"] != "APPROVED":
                continue
            ref = row["source_ref"]
            rel = ref.split("pipeline/assets/", 1)[1] if "pipeline/assets/" in ref else Path(ref).name
            t = float(row["event_time"])
            if rel in latest and latest[rel][0] > t:
                continue
            boxes = [[float(a["class_id"]), float(a["left"]), float(a["top"]),
                      float(a["left"] + a["width"]), float(a["top"] + a["height"])]
                     for a in ast.literal_eval(row["annotations"])]
            latest[rel] = (t, boxes)
    return {k: v[1] for k, v in latest.items()}


def capture_id(name):
    return name.split("-cropped")[0]


def split_samples(root, split_dir, seed):
    """(train, val) lists of (path, boxes). With split_dir (a `vqi dataset export --split` folder)
    the same files as ours; otherwise a seeded 70/15/15 split grouped by capture."""
    gt = read_ground_truth(root)
    by_name = {Path(rel).name: (str(Path(root) / rel), b) for rel, b in gt.items()}
    if split_dir:
        parts = []
        for part in ("train", "val"):
            names = sorted(p.name for p in (Path(split_dir) / "images" / part).iterdir())
            parts.append([by_name[n] for n in names if n in by_name])
        return parts
    caps = sorted({capture_id(n) for n in by_name})
    random.Random(seed).shuffle(caps)
    ntr, nva = int(len(caps) * 0.7), int(len(caps) * 0.15)
    tr, va = set(caps[:ntr]), set(caps[ntr:ntr + nva])
    names = sorted(by_name)
    return ([by_name[n] for n in names if capture_id(n) in tr],
            [by_name[n] for n in names if capture_id(n) in va])


def box_candidates(box1, box2, wh_thr=2, ar_thr=100, area_thr=0.1, eps=1e-16):
    w1, h1 = box1[2] - box1[0], box1[3] - box1[1]
    w2, h2 = box2[2] - box2[0], box2[3] - box2[1]
    ar = np.maximum(w2 / (h2 + eps), h2 / (w2 + eps))
    return (w2 > wh_thr) & (h2 > wh_thr) & (w2 * h2 / (w1 * h1 + eps) > area_thr) & (ar < ar_thr)


class TagDataset(torch.utils.data.Dataset):
    """Ultralytics YOLODataset + v8_transforms for one input size W x H (not square)."""

    def __init__(self, samples, w, h, batch, augment, hyp):
        self.samples, self.w, self.h, self.augment, self.hyp = samples, w, h, augment, hyp
        self.ims = [None] * len(samples)
        self.buffer = []
        self.max_buffer_length = min(len(samples), batch * 8, 1000) if augment else 0
        self.mosaic = hyp["mosaic"] if augment else 0.0
        self.shapes = {}  # original (h, w) of the buffered images

    def __len__(self):
        return len(self.samples)

    def load_image(self, i):
        if self.ims[i] is not None:
            return self.ims[i], self.shapes[i]
        path, _ = self.samples[i]
        im = cv2.imread(path)
        if im is None:
            raise FileNotFoundError(path)
        h0, w0 = im.shape[:2]
        r = min(self.w / w0, self.h / h0)
        if r != 1:
            interp = cv2.INTER_LINEAR if (self.augment or r > 1) else cv2.INTER_AREA
            im = cv2.resize(im, (min(math.ceil(w0 * r), self.w), min(math.ceil(h0 * r), self.h)),
                            interpolation=interp)
        if self.augment:
            self.ims[i], self.shapes[i] = im, (h0, w0)
            self.buffer.append(i)
            if len(self.buffer) >= self.max_buffer_length:
                j = self.buffer.pop(0)
                self.ims[j] = None
        return im, (h0, w0)

    def labels(self, i, im, hw0):
        b = np.array(self.samples[i][1], dtype=np.float32).reshape(-1, 5)
        h0, w0 = hw0
        b[:, [1, 3]] *= im.shape[1] / w0
        b[:, [2, 4]] *= im.shape[0] / h0
        return b

    def get_image_and_label(self, i):
        im, hw0 = self.load_image(i)
        return im, self.labels(i, im, hw0)

    def mosaic4(self, i):
        w, h = self.w, self.h
        xc, yc = int(random.uniform(w // 2, 2 * w - w // 2)), int(random.uniform(h // 2, 2 * h - h // 2))
        idx = [i] + (random.choices(self.buffer, k=3) if self.buffer else
                     [random.randint(0, len(self) - 1) for _ in range(3)])
        img4 = np.full((2 * h, 2 * w, 3), 114, dtype=np.uint8)
        out = []
        for k, j in enumerate(idx):
            im, lb = self.get_image_and_label(j)
            hi, wi = im.shape[:2]
            if k == 0:
                x1a, y1a, x2a, y2a = max(xc - wi, 0), max(yc - hi, 0), xc, yc
                x1b, y1b, x2b, y2b = wi - (x2a - x1a), hi - (y2a - y1a), wi, hi
            elif k == 1:
                x1a, y1a, x2a, y2a = xc, max(yc - hi, 0), min(xc + wi, 2 * w), yc
                x1b, y1b, x2b, y2b = 0, hi - (y2a - y1a), min(wi, x2a - x1a), hi
            elif k == 2:
                x1a, y1a, x2a, y2a = max(xc - wi, 0), yc, xc, min(2 * h, yc + hi)
                x1b, y1b, x2b, y2b = wi - (x2a - x1a), 0, wi, min(y2a - y1a, hi)
            else:
                x1a, y1a, x2a, y2a = xc, yc, min(xc + wi, 2 * w), min(2 * h, yc + hi)
                x1b, y1b, x2b, y2b = 0, 0, min(wi, x2a - x1a), min(y2a - y1a, hi)
            img4[y1a:y2a, x1a:x2a] = im[y1b:y2b, x1b:x2b]
            lb = lb.copy()
            lb[:, [1, 3]] += x1a - x1b
            lb[:, [2, 4]] += y1a - y1b
            out.append(lb)
        lb = np.concatenate(out, 0)
        lb[:, [1, 3]] = lb[:, [1, 3]].clip(0, 2 * w)
        lb[:, [2, 4]] = lb[:, [2, 4]].clip(0, 2 * h)
        return img4, lb, (-h // 2, -w // 2)

    def letterbox(self, im, lb):
        hi, wi = im.shape[:2]
        r = min(self.h / hi, self.w / wi, 1.0)  # scaleup=False when augmenting
        nw, nh = int(round(wi * r)), int(round(hi * r))
        dw, dh = (self.w - nw) / 2, (self.h - nh) / 2
        if (nw, nh) != (wi, hi):
            im = cv2.resize(im, (nw, nh), interpolation=cv2.INTER_LINEAR)
        top, bottom = int(round(dh - 0.1)), int(round(dh + 0.1))
        left, right = int(round(dw - 0.1)), int(round(dw + 0.1))
        im = cv2.copyMakeBorder(im, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(114, 114, 114))
        lb = lb.copy()
        lb[:, [1, 3]] = lb[:, [1, 3]] * r + left
        lb[:, [2, 4]] = lb[:, [2, 4]] * r + top
        return im, lb

    def random_perspective(self, img, lb, border):
        hyp = self.hyp
        height, width = img.shape[0] + border[0] * 2, img.shape[1] + border[1] * 2
        C = np.eye(3, dtype=np.float32)
        C[0, 2], C[1, 2] = -img.shape[1] / 2, -img.shape[0] / 2
        R = np.eye(3, dtype=np.float32)
        s = random.uniform(1 - hyp["scale"], 1 + hyp["scale"])
        R[:2] = cv2.getRotationMatrix2D(angle=0.0, center=(0, 0), scale=s)
        T = np.eye(3, dtype=np.float32)
        T[0, 2] = random.uniform(0.5 - hyp["translate"], 0.5 + hyp["translate"]) * width
        T[1, 2] = random.uniform(0.5 - hyp["translate"], 0.5 + hyp["translate"]) * height
        M = T @ R @ C
        img = cv2.warpAffine(img, M[:2], dsize=(width, height), borderValue=(114, 114, 114))
        n = len(lb)
        if n:
            xy = np.ones((n * 4, 3), dtype=lb.dtype)
            xy[:, :2] = lb[:, [1, 2, 3, 4, 1, 4, 3, 2]].reshape(n * 4, 2)
            xy = (xy @ M.T)[:, :2].reshape(n, 8)
            x, y = xy[:, [0, 2, 4, 6]], xy[:, [1, 3, 5, 7]]
            new = np.stack([x.min(1), y.min(1), x.max(1), y.max(1)], 1)
            new[:, [0, 2]] = new[:, [0, 2]].clip(0, width)
            new[:, [1, 3]] = new[:, [1, 3]].clip(0, height)
            keep = box_candidates(lb[:, 1:5].T * s, new.T)
            lb = np.concatenate([lb[keep, :1], new[keep]], 1)
        return img, lb

    def random_hsv(self, img):
        hgain, sgain, vgain = self.hyp["hsv_h"], self.hyp["hsv_s"], self.hyp["hsv_v"]
        r = np.random.uniform(-1, 1, 3) * [hgain, sgain, vgain] + 1
        hue, sat, val = cv2.split(cv2.cvtColor(img, cv2.COLOR_BGR2HSV))
        x = np.arange(0, 256, dtype=r.dtype)
        lut_hue = ((x * r[0]) % 180).astype(np.uint8)
        lut_sat = np.clip(x * r[1], 0, 255).astype(np.uint8)
        lut_val = np.clip(x * r[2], 0, 255).astype(np.uint8)
        im_hsv = cv2.merge((cv2.LUT(hue, lut_hue), cv2.LUT(sat, lut_sat), cv2.LUT(val, lut_val)))
        return cv2.cvtColor(im_hsv, cv2.COLOR_HSV2BGR)

    def __getitem__(self, i):
        if not self.augment:
            im, lb = self.get_image_and_label(i)
            im, lb = self.letterbox(im, lb)
        else:
            if random.uniform(0, 1) < self.mosaic:
                im, lb, border = self.mosaic4(i)
            else:
                im, lb = self.get_image_and_label(i)
                im, lb = self.letterbox(im, lb)
                border = (0, 0)
            im, lb = self.random_perspective(im, lb, border)
            im = self.random_hsv(im)
            if random.random() < self.hyp["flipud"]:
                im = np.flipud(im)
                lb[:, [2, 4]] = self.h - lb[:, [4, 2]]
            if random.random() < self.hyp["fliplr"]:
                im = np.fliplr(im)
                lb[:, [1, 3]] = self.w - lb[:, [3, 1]]
        img = torch.from_numpy(np.ascontiguousarray(im.transpose(2, 0, 1)[::-1]))
        return img, torch.from_numpy(np.ascontiguousarray(lb, dtype=np.float32)).view(-1, 5)


def collate(batch):
    imgs = torch.stack([b[0] for b in batch], 0)
    rows = [torch.cat([torch.full((len(lb), 1), float(i)), lb], 1) for i, (_, lb) in enumerate(batch)]
    return imgs, torch.cat(rows, 0) if rows else torch.zeros((0, 6))


# --- training ---------------------------------------------------------------------------------


class ModelEMA:
    def __init__(self, model, decay=0.9999, tau=2000):
        self.ema = deepcopy(model).eval()
        self.updates = 0
        self.decay = lambda x: decay * (1 - math.exp(-x / tau))
        for p in self.ema.parameters():
            p.requires_grad_(False)

    def update(self, model):
        self.updates += 1
        d = self.decay(self.updates)
        msd = model.state_dict()
        with torch.no_grad():
            for k, v in self.ema.state_dict().items():
                if v.dtype.is_floating_point:
                    v *= d
                    v += (1 - d) * msd[k].detach()


def build_optimizer(model, lr, momentum, decay):
    g = [], [], []  # decayed weights, BN weights, biases
    bn = tuple(v for k, v in nn.__dict__.items() if "Norm" in k)
    for module_name, module in model.named_modules():
        for param_name, param in module.named_parameters(recurse=False):
            if not param.requires_grad:
                continue
            if "bias" in param_name:
                g[2].append(param)
            elif isinstance(module, bn):
                g[1].append(param)
            else:
                g[0].append(param)
    opt = torch.optim.AdamW(g[2], lr=lr, betas=(momentum, 0.999), weight_decay=0.0)
    opt.add_param_group({"params": g[0], "weight_decay": decay})
    opt.add_param_group({"params": g[1], "weight_decay": 0.0})
    return opt


def decode(feats, nc, reg_max=16, strides=(8, 16, 32)):
    """Ultralytics Detect inference output [B, 4 + nc, N]: xywh in input pixels, sigmoid scores."""
    b = feats[0].shape[0]
    x = torch.cat([f.view(b, 4 * reg_max + nc, -1) for f in feats], 2)
    box, cls = x.split((4 * reg_max, nc), 1)
    points, stride_t = ts.make_anchors(feats, strides)
    dist = box.view(b, 4, reg_max, -1).transpose(2, 1).softmax(1)
    ltrb = (dist * torch.arange(reg_max, dtype=dist.dtype).view(1, reg_max, 1, 1)).sum(1)
    lt, rb = ltrb.chunk(2, 1)
    pts = points.t().unsqueeze(0)
    x1y1, x2y2 = pts - lt, pts + rb
    dbox = torch.cat([(x1y1 + x2y2) / 2, x2y2 - x1y1], 1) * stride_t.t().unsqueeze(0)
    return torch.cat([dbox, cls.sigmoid()], 1)


def nms(pred, conf=0.001, iou=0.7, max_det=300, max_nms=30000, max_wh=7680):
    """ultralytics.utils.ops.non_max_suppression (multi_label as validation asks)."""
    nc = pred.shape[1] - 4
    out = []
    for x in pred.transpose(1, 2):
        x = x[x[:, 4:].amax(1) > conf]
        box = torch.cat([x[:, :2] - x[:, 2:4] / 2, x[:, :2] + x[:, 2:4] / 2], 1)
        i, j = torch.where(x[:, 4:] > conf)
        x = torch.cat([box[i], x[i, 4 + j, None], j[:, None].float()], 1)
        if x.shape[0] > max_nms:
            x = x[x[:, 4].argsort(descending=True)[:max_nms]]
        keep = torchvision.ops.nms(x[:, :4] + x[:, 5:6] * max_wh, x[:, 4], iou)[:max_det]
        out.append(x[keep])
    return out


IOUV = np.linspace(0.5, 0.95, 10)


def box_iou_np(a, b):
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(2)
    area = lambda x: (x[:, 2] - x[:, 0]) * (x[:, 3] - x[:, 1])
    return inter / (area(a)[:, None] + area(b)[None] - inter + 1e-7)


def match(det, gt):
    """DetectionValidator._process_batch + match_predictions: [D, 10] true positives."""
    correct = np.zeros((len(det), len(IOUV)), dtype=bool)
    if len(det) == 0 or len(gt) == 0:
        return correct
    iou = box_iou_np(gt[:, 1:5], det[:, :4]) * (gt[:, :1] == det[None, :, 5])
    for k, t in enumerate(IOUV):
        m = np.array(np.nonzero(iou >= t)).T
        if m.shape[0]:
            m = np.concatenate([m, iou[m[:, 0], m[:, 1]][:, None]], 1)
            if m.shape[0] > 1:
                m = m[m[:, 2].argsort()[::-1]]
                m = m[np.unique(m[:, 1], return_index=True)[1]]
                m = m[np.unique(m[:, 0], return_index=True)[1]]
            correct[m[:, 1].astype(int), k] = True
    return correct


def map_scores(tp, conf, pred_cls, target_cls):
    """utils.metrics.ap_per_class (101-point interpolated AP): (mAP50, mAP50-95)."""
    i = np.argsort(-conf)
    tp, conf, pred_cls = tp[i], conf[i], pred_cls[i]
    aps = []
    for c in np.unique(target_cls):
        i = pred_cls == c
        n_l, n_p = (target_cls == c).sum(), i.sum()
        if n_p == 0 or n_l == 0:
            aps.append(np.zeros(len(IOUV)))
            continue
        fpc, tpc = (1 - tp[i]).cumsum(0), tp[i].cumsum(0)
        recall, precision = tpc / (n_l + 1e-16), tpc / (tpc + fpc)
        ap = []
        for j in range(tp.shape[1]):
            mrec = np.concatenate(([0.0], recall[:, j], [1.0]))
            mpre = np.flip(np.maximum.accumulate(np.flip(np.concatenate(([1.0], precision[:, j], [0.0])))))
            x = np.linspace(0, 1, 101)
            ap.append(np.trapz(np.interp(x, mrec, mpre), x))
        aps.append(np.array(ap))
    if not aps:
        return 0.0, 0.0
    aps = np.stack(aps)
    return float(aps[:, 0].mean()), float(aps.mean())


@torch.no_grad()
def validate(model, loader, nc):
    model.eval()
    stats, vloss = [], torch.zeros(3)
    for imgs, targets in loader:
        x = imgs.float() / 255
        feats = model(x)
        _, b, c, d = ts.detection_loss(feats, targets, nc)  # the trainer's val loss
        vloss += torch.tensor([b, c, d])
        for k, det in enumerate(nms(decode(feats, nc))):
            gt = targets[targets[:, 0] == k][:, 1:].numpy()
            det = det.numpy()
            stats.append((match(det, gt), det[:, 4], det[:, 5], gt[:, 0]))
    tp, conf, pcls, tcls = (np.concatenate(s, 0) for s in zip(*stats))
    return map_scores(tp, conf, pcls, tcls)


def train(a):
    torch.set_num_threads(a.threads)
    random.seed(a.seed)
    np.random.seed(a.seed)
    torch.manual_seed(a.seed)
    w, h = (int(v) for v in a.imgsz.lower().split("x"))
    hyp = dict(mosaic=1.0, scale=0.5, translate=0.1, hsv_h=0.015, hsv_s=0.7, hsv_v=0.4,
               flipud=0.0, fliplr=0.5)
    train_s, val_s = split_samples(a.data, a.split_dir, a.seed)
    nc = 1
    t_setup = time.perf_counter()
    train_ds = TagDataset(train_s, w, h, a.batch, True, hyp)
    val_ds = TagDataset(val_s, w, h, a.batch, False, hyp)
    train_dl = torch.utils.data.DataLoader(train_ds, batch_size=a.batch, shuffle=True, num_workers=0,
                                           collate_fn=collate, drop_last=False)
    val_dl = torch.utils.data.DataLoader(val_ds, batch_size=a.batch * 2, shuffle=False, num_workers=0,
                                         collate_fn=collate)
    model = ts.Yolo(a.scale, nc)
    model.train()
    nbs = 64
    accumulate = max(round(nbs / a.batch), 1)
    decay = 5e-4 * a.batch * accumulate / nbs
    lr0 = round(0.002 * 5 / (4 + nc), 6)  # optimizer 'auto' for short runs: AdamW
    opt = build_optimizer(model, lr0, 0.9, decay)
    lrf = 0.01
    lf = lambda x: max(1 - x / a.epochs, 0) * (1.0 - lrf) + lrf
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda=lf)
    ema = ModelEMA(model)
    nb = len(train_dl)
    nw = max(round(3 * nb), 100)
    last_opt_step = -1
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    best_fitness = -1
    epochs = []
    print(json.dumps({"peer": "pytorch-recipe", "torch": torch.__version__, "scale": a.scale,
                      "imgsz": a.imgsz, "batch": a.batch, "threads": torch.get_num_threads(),
                      "train_images": len(train_s), "val_images": len(val_s),
                      "setup_seconds": round(time.perf_counter() - t_setup, 3)}), flush=True)
    opt.zero_grad()
    for epoch in range(a.epochs):
        t0 = time.perf_counter()
        ph = dict(data=0.0, forward=0.0, loss=0.0, backward=0.0, step=0.0)
        if epoch == a.epochs - a.close_mosaic:
            train_ds.mosaic = 0.0
        model.train()
        tl = time.perf_counter()
        for i, (imgs, targets) in enumerate(train_dl):
            t1 = time.perf_counter()
            ph["data"] += t1 - tl
            ni = i + nb * epoch
            if ni <= nw:
                xi = [0, nw]
                accumulate = max(1, int(np.interp(ni, xi, [1, nbs / a.batch]).round()))
                for j, x in enumerate(opt.param_groups):
                    x["lr"] = np.interp(ni, xi, [0.1 if j == 0 else 0.0, x["initial_lr"] * lf(epoch)])
            x = imgs.float() / 255
            feats = model(x)
            t2 = time.perf_counter()
            loss, *_ = ts.detection_loss(feats, targets, nc)
            t3 = time.perf_counter()
            loss.backward()
            t4 = time.perf_counter()
            if ni - last_opt_step >= accumulate:
                torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=10.0)
                opt.step()
                opt.zero_grad()
                ema.update(model)
                last_opt_step = ni
            tl = time.perf_counter()
            ph["forward"] += t2 - t1
            ph["loss"] += t3 - t2
            ph["backward"] += t4 - t3
            ph["step"] += tl - t4
        sched.step()
        t_train = time.perf_counter()
        map50, map5095 = validate(ema.ema, val_dl, nc)
        t_val = time.perf_counter()
        fitness = 0.1 * map50 + 0.9 * map5095
        ckpt = {"epoch": epoch, "ema": deepcopy(ema.ema).half().state_dict(),
                "updates": ema.updates, "optimizer": opt.state_dict()}
        torch.save(ckpt, out / "last.pt")
        if fitness >= best_fitness:
            best_fitness = fitness
            torch.save(ckpt, out / "best.pt")
        t_end = time.perf_counter()
        ph.update(validation=t_val - t_train, save=t_end - t_val)
        e = {"epoch": epoch + 1, "seconds": round(t_end - t0, 3),
             "images_per_sec": round(len(train_s) / (t_end - t0), 3),
             "mosaic": train_ds.mosaic > 0, "map50": round(map50, 4), "map50_95": round(map5095, 4),
             "phase_seconds": {k: round(v, 3) for k, v in ph.items()}}
        epochs.append(e)
        print(json.dumps(e), flush=True)
    later = epochs[1:] or epochs
    secs = sum(e["seconds"] for e in later)
    print(json.dumps({"summary": True, "epochs": len(epochs),
                      "images_per_sec": round(len(train_s) * len(later) / secs, 3),
                      "seconds_after_first": round(secs, 3)}), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="/work/shared/datasets/metal-tags",
                    help="metal-tags folder (labels.csv, images/)")
    ap.add_argument("--split-dir", help="`vqi dataset export --format yolo --split S` folder: "
                                        "train on its images/train, validate on images/val")
    ap.add_argument("--scale", default="n", choices=sorted(ts.SCALES))
    ap.add_argument("--imgsz", default="480x320", help="WxH, multiples of 32")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--close-mosaic", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="/tmp/train_recipe_run")
    a = ap.parse_args()
    train(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
