#!/usr/bin/env bash
# The cost of a shadow candidate per image (docs/design/shadow.md; not a ctest: a measurement).
# vqi-inspect over the same N JPEGs twice — the live model alone, then with a candidate of the
# same size (another seed) in `Shadow` — and compares the per-image total. Run from the
# repository root:   N=100 T=1 tests/inspect/measure_shadow.sh   (BUILD, IMAGES, WORK override)
set -euo pipefail
B=${BUILD:-build/release}
W=${WORK:-/tmp/inspect_shadow_measure}; rm -rf $W; mkdir -p $W/src $W/live $W/cand
export OMP_WAIT_POLICY=PASSIVE
$B/apps/vqi/vqi model export --random t --imgsz 320x224 --seed 3 --out $W/live/model.onnx >/dev/null
$B/apps/vqi/vqi model export --random t --imgsz 320x224 --seed 4 --out $W/cand/model.onnx >/dev/null
find ${IMAGES:-../shared/datasets/metal-tags/images} -name '*.jpg' | sort | head -${N:-100} | while read f; do cp "$f" $W/src/; done
n=$(ls $W/src | wc -l)
run() {  # $1 = name, $2 = extra configuration
  rm -rf $W/cam $W/work; mkdir -p $W/cam $W/work; cp $W/src/* $W/cam/
  cat > $W/$1.json <<J
{"ImageDirectory":"$W/cam","ModelDirectory":"$W/live","WorkDirectory":"$W/work","Threads":${T:-1},"ScoreThreshold":0.25,"SettleSeconds":0 $2}
J
  $B/apps/inspect/vqi-inspect --config $W/$1.json --results $W/$1.jsonl 2>$W/$1.log &
  pid=$!
  count() { c=$(grep -c 'vqi.inspect.result/1' $W/$1.jsonl 2>/dev/null || true); echo ${c:-0}; }
  while [ "$(count $1)" -lt "$n" ]; do sleep 0.2; done
  kill -TERM $pid; wait $pid || true
}
run live ""
run shadow ',"Shadow":{"ModelDirectory":"'$W/cand'","ModelVersion":"2","ReportEvery":50}'
python3 - "$W/live.jsonl" "$W/shadow.jsonl" <<'P'
import json,sys
def load(f): return [json.loads(l) for l in open(f)]
def p(v,q): v=sorted(v); return v[min(len(v)-1,int(q*len(v)))]
live=[r for r in load(sys.argv[1]) if r.get("schema")=="vqi.inspect.result/1" and r["verdict"]!="error"]
rows=load(sys.argv[2])
sh=[r for r in rows if r.get("schema")=="vqi.inspect.result/1" and r["verdict"]!="error"]
msgs=[r for r in rows if r.get("schema")=="vqi.inspect.shadow/1"]
lt=[r["timings_ms"]["total"] for r in live]; st=[r["timings_ms"]["total"] for r in sh]
lm=[r["timings_ms"]["model"] for r in sh]; cm=[r["shadow"]["model_ms"] for r in sh]
print(f"images {len(live)} / {len(sh)}; shadow messages {len(msgs)}")
print(f"total p50 live only {p(lt,.5):.2f} ms, with shadow {p(st,.5):.2f} ms: +{p(st,.5)-p(lt,.5):.2f} ms per image (p95 {p(lt,.95):.2f} -> {p(st,.95):.2f})")
print(f"with shadow: live model p50 {p(lm,.5):.2f} ms, candidate model p50 {p(cm,.5):.2f} ms")
m=msgs[-1]
print(f"last message: images {m['counts']['images']}, verdict_agreement {m['verdict_agreement']}, box_match {m['box_match']}, score_shift {m['score_shift']}, latency_ratio {m['latency_ratio']}, {len(json.dumps(m))} bytes")
P
