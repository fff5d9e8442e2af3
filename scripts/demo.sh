#!/usr/bin/env bash
# The end-to-end demo on embedded defaults, in a throw-away vqi home: every capability landed
# so far, chained as a newcomer would run it (import → split → train → evaluate → export →
# predict → benchmark; a workflow run). Budgets are small so it finishes in minutes on 2 cores.
set -euo pipefail
VQI=${1:-build/release/apps/vqi/vqi}
VQI=$(realpath "$VQI")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HOME_DIR=${VQI_DEMO_HOME:-$ROOT/.vqi-demo}
SHARED=${VQI_SHARED_DIR:-$ROOT/../shared}
DATA=$SHARED/datasets/metal-tags
TRAIN_MINUTES=${VQI_DEMO_TRAIN_MINUTES:-3}
OUT=$HOME_DIR/demo
rm -rf "$HOME_DIR"
mkdir -p "$OUT"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
v() { echo "+ vqi $*"; "$VQI" --home "$HOME_DIR" "$@"; }
# has NOUN VERB: the verb is built into this vqi.
has() { "$VQI" "$@" --help >/dev/null 2>&1; }

step "$("$VQI" --version)"

if has dataset import; then
  step "Data: import labeled images"
  if [ -f "$DATA/labels.csv" ]; then
    v dataset import --format groundtruth --labels "$DATA/labels.csv" --images "$DATA/images"
  else
    echo "(no $DATA here: synthesizing metal tags instead)"
    v dataset synth --count 200 --seed 7
  fi
  v dataset split --name default --seed 42
  v dataset stats
  v dataset unlabeled --limit 5
fi

CKPT=""
if has model train; then
  step "Train: a CPU-first detector from scratch (${TRAIN_MINUTES} min budget)"
  v model train --split default --scale t --imgsz 320x224 --batch 8 --lr 0.003 --epochs 300 \
    --close-mosaic 5 --warmup-epochs 2 --scratch 0.3 --time-limit "$TRAIN_MINUTES" --out "$OUT/run"
  CKPT="$OUT/run/best.safetensors"
fi

if [ -n "$CKPT" ] && has model eval; then
  step "Evaluate on the test split"
  v model eval --model "$CKPT" --split default --part test --report "$OUT/eval.json"
fi

ONNX=""
if [ -n "$CKPT" ] && has model export; then
  step "Export to ONNX (Ultralytics YOLOv8 I/O contract)"
  v model export --checkpoint "$CKPT" --out "$OUT/model.onnx"
  ONNX="$OUT/model.onnx"
  if has model optimize; then v model optimize --model "$ONNX" --out "$OUT/model.fp16.onnx"; fi
fi

INT8=""
if [ -n "$ONNX" ] && has model quantize; then
  step "Quantize to int8 (QDQ), calibrated on the training images; mAP change on validation"
  v model quantize --model "$ONNX" --calib default --split default \
    --out "$OUT/model.int8.onnx"
  INT8="$OUT/model.int8.onnx"
fi

if [ -n "$ONNX" ] && has model predict; then
  step "Predict with the ONNX model"
  IMGS=$OUT/predict-in
  mkdir -p "$IMGS"
  if [ -d "$DATA/images" ]; then
    find "$DATA/images" -name '*.jpg' | sort | head -4 | xargs -I{} cp {} "$IMGS/"
  fi
  v model predict --model "$ONNX" --images "$IMGS" --out "$OUT/predict" > "$OUT/predict.jsonl"
  cut -c1-200 "$OUT/predict.jsonl"
  if has bench infer; then
    step "Inference speed"
    v bench infer --model "$ONNX" --images "$IMGS" --iters 20
    if [ -n "$INT8" ]; then v bench infer --model "$INT8" --images "$IMGS" --iters 20; fi
  fi
fi

if has workflow run; then
  step "Workflow: an ASL state machine, run locally"
  v workflow validate --definition "$ROOT/examples/workflows/hello.asl.json"
  v workflow run --local --definition "$ROOT/examples/workflows/hello.asl.json" \
    --input '{"items":[1,2,3],"name":"vqi"}'
  step "Workflow: a durable execution with history"
  v workflow start --definition "$ROOT/examples/workflows/hello.asl.json" \
    --input '{"items":[1,5],"name":"edge"}' --name demo-1 --store "$HOME_DIR/workflows.db"
  v workflow describe --execution demo-1 --store "$HOME_DIR/workflows.db"
fi

step "Done. Everything is in $HOME_DIR"
