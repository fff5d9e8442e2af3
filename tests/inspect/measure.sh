#!/usr/bin/env bash
# Per-image time beyond model time and PSS of vqi-inspect on N real JPEGs (not a ctest: a
# measurement; numbers in docs/design/inspect.md). Run from the repository root:
#   N=100 FPS=5 T=1 tests/inspect/measure.sh   (BUILD, IMAGES, WORK override the paths)
set -euo pipefail
B=${BUILD:-build/release}
W=${WORK:-/tmp/inspect_measure}; rm -rf $W; mkdir -p $W/src $W/cam $W/model $W/work
export OMP_WAIT_POLICY=PASSIVE
$B/apps/vqi/vqi model export --random t --imgsz 320x224 --seed 3 --out $W/model/model.onnx >/dev/null
find ${IMAGES:-../shared/datasets/metal-tags/images} -name '*.jpg' | sort | head -${N:-100} | while read f; do cp "$f" $W/src/; done
n=$(ls $W/src | wc -l)
cat > $W/config.json <<J
{"ImageDirectory":"$W/cam","ModelDirectory":"$W/model","WorkDirectory":"$W/work","Threads":${T:-1},"ScoreThreshold":0.25,"SettleSeconds":0}
J
$B/apps/inspect/vqi-inspect --config $W/config.json --results $W/results.jsonl 2>$W/log &
pid=$!
sleep 1
$B/apps/vqi/vqi camera simulate --from $W/src --to $W/cam --fps ${FPS:-5} 2>/dev/null
while [ "$(wc -l < $W/results.jsonl 2>/dev/null || echo 0)" -lt "$n" ]; do sleep 0.2; done
grep -E '^(Pss|Rss):' /proc/$pid/smaps_rollup
kill -TERM $pid; wait $pid || true; tail -1 $W/log
python3 - "$W/results.jsonl" <<'P'
import json,sys,statistics as st
rs=[json.loads(l) for l in open(sys.argv[1])]
t=[r["timings_ms"] for r in rs if r["verdict"]!="error"]
def p(v,q): v=sorted(v); return v[min(len(v)-1,int(q*len(v)))]
tot=[x["total"] for x in t]; mod=[x["model"] for x in t]; beyond=[x["total"]-x["model"] for x in t]
print(f"images {len(rs)} (errors {sum(r['verdict']=='error' for r in rs)})")
print(f"total p50 {p(tot,.5):.2f} ms, model p50 {p(mod,.5):.2f} ms, beyond-model p50 {p(beyond,.5):.2f} ms p95 {p(beyond,.95):.2f} ms")
print(f"sum beyond/sum total = {100*sum(beyond)/sum(tot):.1f} %; decode p50 {p([x['decode'] for x in t],.5):.2f} read p50 {p([x['read'] for x in t],.5):.3f} pre p50 {p([x['pre'] for x in t],.5):.2f} post p50 {p([x['post'] for x in t],.5):.3f} queue p50 {p([x['queue'] for x in t],.5):.2f}")
P
