#!/usr/bin/env bash
# The end-to-end demo on embedded defaults, in a throw-away vqi home: every capability landed
# so far, chained as a newcomer would run it (import → split → train → evaluate → export →
# predict → benchmark → register → approve → sign → serve; a workflow run; a fleet deployment
# over MQTT). Budgets are small so it finishes in minutes on 2 cores.
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
# (An unknown verb makes CLI11 print its parent's help with exit 0: look for "Usage: ... NOUN VERB".)
has() { "$VQI" "$@" --help 2>/dev/null | grep -q "^Usage: .*vqi $* \["; }

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
  # The default recipe (scale n, 448×320, batch 8, AdamW, EMA over ~3 epochs, faint synthetic
  # scratches, 30-minute budget) on a smaller budget.
  v model train --split default --time-limit "$TRAIN_MINUTES" --out "$OUT/run" |
    tee "$OUT/train.txt"
  # The checkpoint the recipe ships, the one `vqi model register --run` takes.
  CKPT=$(sed -n 's/^checkpoint to ship ([^)]*): //p' "$OUT/train.txt")
  [ -f "$CKPT" ] || { echo "vqi model train named no checkpoint to ship" >&2; exit 1; }
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

GROUP=metal-tags
if [ -n "$ONNX" ] && [ -f "$OUT/eval.json" ] && has model register; then
  step "Register: the model version with its metrics and lineage (a gate refuses weak models)"
  # A gate no model reaches: refused with a clear message, nothing stored.
  if v model register --group "$GROUP" --model "$ONNX" --report "$OUT/eval.json" --min-map50 1.0; then
    echo "the gate should have refused this model" >&2; exit 1
  fi
  INT8_FLAG=()
  if [ -n "$INT8" ]; then INT8_FLAG=(--int8 "$INT8"); fi
  v model register --group "$GROUP" --model "$ONNX" "${INT8_FLAG[@]}" --report "$OUT/eval.json" \
    --run "$OUT/run" --min-map50 "${VQI_DEMO_MIN_MAP50:-0.05}" --description "demo, ${TRAIN_MINUTES}-minute budget"
  v model approve --group "$GROUP" --version 1 --reason "demo: passed the gate on the test split"
  v model latest --group "$GROUP"
fi

if has component from-model && v model latest --group "$GROUP" >/dev/null 2>&1; then
  step "Package: the approved model as a signed component; the inference component beside it"
  v key create demo-publisher
  v component from-model --group "$GROUP" --key demo-publisher
  MODEL_COMPONENT=vqi.model.$GROUP
  v component verify "$MODEL_COMPONENT@1.0.0"
  # The AWS-sample-style inference recipe, its placeholders filled as a build script would.
  INF=$OUT/inference-src
  mkdir -p "$INF/inference"
  printf '#!/bin/sh\necho "inspect with model $1"\n' > "$INF/inference/inspect.sh"
  (cd "$INF" && python3 -c "import shutil; shutil.make_archive('inference', 'zip', '.', 'inference')")
  v component create --recipe "$ROOT/components/recipes/inference.yaml" --artifact "$INF/inference.zip" \
    --var COMPONENT_VERSION=1.0.0 --var BUCKET_NAME=demo --key demo-publisher
  v component list
  v store verify
fi

if has server && has component list; then
  step "Serve: the control plane over HTTP (tokens, Range downloads, digest ETags)"
  TOKEN=$("$VQI" --home "$HOME_DIR" server token create --scope device --name demo-device 2>/dev/null)
  "$VQI" --home "$HOME_DIR" --json server --port 0 > "$OUT/server.json" 2> "$OUT/server.log" &
  SERVER_PID=$!
  for _ in $(seq 50); do grep -q port "$OUT/server.json" 2>/dev/null && break; sleep 0.1; done
  PORT=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['port'])" "$OUT/server.json")
  URL=http://127.0.0.1:$PORT
  echo "+ curl $URL/v1/health"; curl -sS "$URL/v1/health"; echo
  echo "+ curl (no token) $URL/v1/components"; curl -sS "$URL/v1/components"; echo
  DIGEST=$(curl -sS -H "Authorization: Bearer $TOKEN" "$URL/v1/components/vqi.model.$GROUP/versions/1.0.0" |
    python3 -c "import json,sys; print(json.load(sys.stdin)['artifacts'][0]['digest'])" 2>/dev/null || true)
  if [ -n "$DIGEST" ]; then
    echo "+ curl -r 0-15 $URL/v1/artifacts/$DIGEST  (first 16 bytes of the signed model)"
    curl -sS -r 0-15 -H "Authorization: Bearer $TOKEN" -D - -o "$OUT/head.bin" "$URL/v1/artifacts/$DIGEST" |
      grep -iE "^(HTTP|content-range|etag)"
  fi
  kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || true
  tail -n 1 "$OUT/server.log"
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

# The fleet (issue 19): only when this build has the broker, the server's fleet controller and
# the agent (`has` cannot tell: an unknown verb with --help prints the main help and exits 0).
AGENT_BIN=$(dirname "$VQI")/../agent/vqi-agent
if [ -n "${MODEL_COMPONENT:-}" ] && [ -x "$AGENT_BIN" ] &&
  "$VQI" broker run --help 2>/dev/null | grep -c -- "--port" >/dev/null &&
  "$VQI" server --help 2>/dev/null | grep -c -- "--mqtt" >/dev/null; then
  step "Fleet: broker, control plane and one device agent; the model and an inspection stub over MQTT; then vqi-inspect on a simulated camera"
  bash "$ROOT/scripts/demo_fleet.sh" "$VQI" "$AGENT_BIN" "$HOME_DIR" "$MODEL_COMPONENT" 1.0.0 \
    demo-publisher "$DATA/images"
fi

step "Done. Everything is in $HOME_DIR"
