#!/usr/bin/env bash
# End-to-end training throughput, `vqi model train` vs a faithful PyTorch YOLOv8 recipe
# (bench/peers/train_recipe.py: Ultralytics-style data loading, augmentation, TAL loss, AdamW,
# EMA, per-epoch validation and checkpoints in one Python process), alternating in one run on
# the same images (the metal-tag set's train/val parts of one split), network, input size,
# batch and threads. images/s = training images per epoch / epoch wall time (training,
# validation and checkpoint writing included), over the epochs after the first. Prints every
# run, then the medians and the ratio ours / PyTorch, with the load average.
#
# Usage: bench/peers/train_e2e_compare.sh [BUILD_DIR]
#   DATA=/work/shared/datasets/metal-tags   SCALE=n  IMGSZ=480x320  BATCH=16  THREADS=2
#   EPOCHS=3 (the first is not counted)     ROUNDS=2 (order alternates)
#   VAL_EVERY=1 (ours; the peer validates every epoch, as Ultralytics)
#   OURS_ARGS="..." extra `vqi model train` flags, e.g. "--precision bf16" or "--layout nchw"
#   OMP_WAIT_POLICY=PASSIVE for both sides (vqi sets it for itself as well)
#   WORK=/tmp/... keeps the vqi home, the export and the runs there; VQI=path/to/vqi
#
# Both sides run mosaic epochs (close-mosaic 0): the bulk of a real run. Needs Debian's
# python3-torch, python3-opencv and python3-torchvision (benchmark-only dependencies, installed
# here when missing, deliberately not in scripts/install-deps.sh).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build/release}
VQI=${VQI:-$BUILD/apps/vqi/vqi}
PEER=$ROOT/bench/peers/train_recipe.py
PY=/usr/bin/python3
DATA=${DATA:-/work/shared/datasets/metal-tags}
SCALE=${SCALE:-n}
IMGSZ=${IMGSZ:-480x320}
BATCH=${BATCH:-16}
THREADS=${THREADS:-2}
EPOCHS=${EPOCHS:-3}
ROUNDS=${ROUNDS:-2}
VAL_EVERY=${VAL_EVERY:-1}
OURS_ARGS=${OURS_ARGS:-}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
export OMP_NUM_THREADS=$THREADS

[ -x "$VQI" ] || { echo "missing $VQI (build the release preset first)" >&2; exit 1; }
[ -f "$DATA/labels.csv" ] || { echo "missing $DATA/labels.csv (the metal-tag set)" >&2; exit 1; }
if ! "$PY" -c 'import torch, cv2, torchvision' 2>/dev/null; then
  echo "installing python3-torch python3-opencv python3-torchvision (benchmark-only)" >&2
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y python3-torch python3-opencv \
    python3-torchvision >&2
fi

WORK=${WORK:-$(mktemp -d)}
mkdir -p "$WORK"
H=$WORK/home
if [ ! -d "$H/datasets/default" ]; then
  "$VQI" --home "$H" dataset import "$DATA" >&2
  "$VQI" --home "$H" dataset split >&2
fi
[ -d "$WORK/export/images/train" ] ||
  "$VQI" --home "$H" dataset export --format yolo --split default --out "$WORK/export" >&2

echo "# cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(getconf _NPROCESSORS_ONLN) cpus," \
  "$(grep -o -w -E 'avx2|avx512f|avx512_bf16|amx_tile' /proc/cpuinfo | sort -u | tr '\n' ' ')"
echo "# scale $SCALE $IMGSZ batch $BATCH threads $THREADS epochs $EPOCHS rounds $ROUNDS" \
  "OMP_WAIT_POLICY=$OMP_WAIT_POLICY ours: --val-every $VAL_EVERY $OURS_ARGS"
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

ours() {  # -> images/s over the epochs after the first
  local out=$WORK/ours
  rm -rf "$out"
  "$VQI" --home "$H" --threads "$THREADS" model train --split default --scale "$SCALE" \
    --imgsz "$IMGSZ" --batch "$BATCH" --epochs "$EPOCHS" --close-mosaic 0 \
    --val-every "$VAL_EVERY" --seed 0 --out "$out" $OURS_ARGS >"$WORK/ours.log" 2>&1
  "$PY" - "$out/metrics.jsonl" <<'EOF'
import json, sys
ms = [json.loads(l) for l in open(sys.argv[1])]
n = ms[0]["images_per_sec"] * ms[0]["train_seconds"]  # training images per epoch
later = ms[1:] or ms
# wall_seconds (since Train() began, checkpoints included); older builds: elapsed_seconds.
key = "wall_seconds" if "wall_seconds" in ms[0] else "elapsed_seconds"
secs = ms[-1][key] - (ms[0][key] if len(ms) > 1 else 0)
print("%.2f" % (round(n) * len(later) / secs))
EOF
}
peer() {
  "$PY" "$PEER" --data "$DATA" --split-dir "$WORK/export" --scale "$SCALE" --imgsz "$IMGSZ" \
    --batch "$BATCH" --epochs "$EPOCHS" --close-mosaic 0 --threads "$THREADS" \
    --out "$WORK/peer" >"$WORK/peer.log" 2>&1
  "$PY" -c 'import json,sys; print("%.2f" % json.loads(open(sys.argv[1]).read().splitlines()[-1])["images_per_sec"])' \
    "$WORK/peer.log"
}

RESULTS=$WORK/results.txt
: >"$RESULTS"
printf '%5s %-8s %10s %s\n' round side images/s load
for ((r = 1; r <= ROUNDS; r++)); do
  if ((r % 2)); then order="ours pytorch"; else order="pytorch ours"; fi
  for side in $order; do
    if [ "$side" = ours ]; then v=$(ours); else v=$(peer); fi
    printf '%5d %-8s %10s %s\n' "$r" "$side" "$v" "$(cut -d' ' -f1 /proc/loadavg)"
    echo "$side $v" >>"$RESULTS"
  done
done

"$PY" - "$RESULTS" <<'EOF'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    side, v = line.split()
    runs[side].append(float(v))
o, p = statistics.median(runs["ours"]), statistics.median(runs["pytorch"])
print(f"\nmedian images/s: ours {o:.2f}  pytorch {p:.2f}  ours/pytorch {o / p:.3f}")
EOF
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg); logs in $WORK"
