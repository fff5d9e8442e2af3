#!/usr/bin/env bash
# Training-step throughput, ours (bench/train_bench, libtorch C++) vs PyTorch
# (bench/peers/train_step.py: the same network, loss, inputs and SGD step), alternating in one
# run with the same threads and OpenMP settings. Prints every run, then the median images/s of
# each side and the ratio ours / PyTorch per config.
#
# Usage: bench/peers/train_compare.sh [BUILD_DIR]
#   CONFIGS="n:480x320 t:480x320"  scale:WxH pairs      ROUNDS=3  rounds (order alternates)
#   BATCH=16  STEPS=3 (timed, after 1 warm-up step)     THREADS=2
#   OMP_WAIT_POLICY=PASSIVE (set for both sides; override to compare spinning)
#   GLIBC_TUNABLES, ATEN_CPU_CAPABILITY: passed to both sides when set, e.g. keep freed memory
#   in the heap instead of unmapping it (see docs/design/training.md, Throughput vs PyTorch):
#   GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=4000000000
#
# Needs Debian's python3-torch (PyTorch 1.13); installed here when missing. It is a
# benchmark-only dependency and deliberately not in scripts/install-deps.sh.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build/release}
OURS=$BUILD/bench/train_bench
PEER=$ROOT/bench/peers/train_step.py
PY=/usr/bin/python3  # Debian's interpreter: python3-torch is installed for it
CONFIGS=${CONFIGS:-"n:480x320 t:480x320"}
ROUNDS=${ROUNDS:-3}
BATCH=${BATCH:-16}
STEPS=${STEPS:-3}
THREADS=${THREADS:-2}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
export OMP_NUM_THREADS=$THREADS

[ -x "$OURS" ] || { echo "missing $OURS (build the release preset first)" >&2; exit 1; }
if ! "$PY" -c 'import torch' 2>/dev/null; then
  echo "installing python3-torch (benchmark-only dependency)" >&2
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y python3-torch >&2
fi

echo "# cpu: $(lscpu | sed -n 's/^Model name: *//p') (family $(lscpu | sed -n 's/^CPU family: *//p')," \
  "model $(lscpu | sed -n 's/^Model: *//p')), $(getconf _NPROCESSORS_ONLN) cpus," \
  "$(grep -o -w -E 'avx2|avx512f|avx512_vnni|avx512_bf16|amx_tile' /proc/cpuinfo | sort -u | tr '\n' ' ')"
"$PY" - <<'EOF'
import re, torch
dnn = re.search(r"MKL-DNN v([0-9.]+)", torch.__config__.show())
cap = re.search(r"CPU capability usage: (\S+)", torch.__config__.show())
print(f"# torch {torch.__version__}, oneDNN {dnn.group(1) if dnn else '?'}, "
      f"ATen CPU capability {cap.group(1) if cap else '?'}, "
      f"lib {torch._C.__file__}")
EOF
echo "# ours: $OURS ($(ldd "$OURS" | grep -o 'libtorch_cpu[^ ]*' | head -1))"
echo "# batch $BATCH, $STEPS timed steps after 1 warm-up, threads $THREADS," \
  "OMP_WAIT_POLICY=$OMP_WAIT_POLICY, rounds $ROUNDS, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# GLIBC_TUNABLES=${GLIBC_TUNABLES:-} ATEN_CPU_CAPABILITY=${ATEN_CPU_CAPABILITY:-}"

ours() {  # scale size -> images/s
  "$OURS" --scales "$1" --sizes "$2" --batch "$BATCH" --steps "$STEPS" --threads "$THREADS" |
    awk -v s="$1" '$1 == s { print $5 }'
}
peer() {
  "$PY" "$PEER" --scale "$1" --imgsz "$2" --batch "$BATCH" --steps "$STEPS" --warmup 1 \
    --threads "$THREADS" | "$PY" -c 'import json,sys; print("%.2f" % json.load(sys.stdin)["images_per_sec"])'
}

RESULTS=$(mktemp)
trap 'rm -f "$RESULTS"' EXIT
printf '%-6s %-9s %5s %-8s %10s\n' scale imgsz round side images/s
for cfg in $CONFIGS; do
  scale=${cfg%%:*} size=${cfg#*:}
  for ((r = 1; r <= ROUNDS; r++)); do
    if ((r % 2)); then order="ours pytorch"; else order="pytorch ours"; fi
    for side in $order; do
      if [ "$side" = ours ]; then v=$(ours "$scale" "$size"); else v=$(peer "$scale" "$size"); fi
      printf '%-6s %-9s %5d %-8s %10s\n' "$scale" "$size" "$r" "$side" "$v"
      echo "$scale $size $side $v" >>"$RESULTS"
    done
  done
done

echo
"$PY" - "$RESULTS" <<'EOF'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    scale, size, side, v = line.split()
    runs[(scale, size, side)].append(float(v))
print(f"{'scale':6} {'imgsz':9} {'ours':>8} {'pytorch':>8} {'ours/pytorch':>13}   (medians, images/s)")
for (scale, size) in dict.fromkeys((k[0], k[1]) for k in runs):
    o = statistics.median(runs[(scale, size, "ours")])
    p = statistics.median(runs[(scale, size, "pytorch")])
    print(f"{scale:6} {size:9} {o:8.2f} {p:8.2f} {o / p:13.3f}")
EOF
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
