#!/usr/bin/env bash
# Issue 20, acceptance 8, with real processes on loopback: Mosquitto (`vqi broker run`), `vqi
# server --mqtt --tls-auto`, one `vqi-agent run --bundle` from `vqi thing create`, components
# signed with `vqi component create` and deployed with `vqi deployment create`.
#
#  pipeline  the model component (`vqi component from-model`, a random-weight model) and
#            `vqi.inspect` (components/recipes/vqi-inspect.yaml, vqi-inspect in IPC mode) on
#            the agent; inspect_pipeline_bench feeds images into the camera folder at RATES
#            images/s (COUNTS images each) and times file written → result received from the
#            broker; also the model's and the inspection's own timings from each result, and
#            the PSS/RSS of vqi-inspect and of the agent while each rate runs.
#  spool     a bench component publishes SPOOL_N copies of a real result (captured in the
#            pipeline stage, else a stand-in) through the agent's IPC: (a) connected, IPC →
#            spool → broker → subscriber, per second; (b) with the broker stopped: the spool's
#            bytes (counted and on disk) for those results, then the broker restarted and the
#            spool's drain rate to the subscriber.
#
# Usage: bench/inspect_pipeline.sh [BUILD_DIR]
#   env: MODEL=t (random `t` at 320x224, the trained model's shape) | n (YOLOv8n-sized, 640),
#        THRESHOLD (ScoreThreshold; default 0.6015 for t, 0.6048 for n: one box per image),
#        PERF=1 (perf samples of vqi-inspect, agent and mosquitto: the CPU share of the model), RECIPE (default the shipped vqi-inspect.yaml),
#        RATES="1,5,20" COUNTS="60,100,200" WARMUP=5, IMAGES=<dir of .jpg>
#        (default ../shared/datasets/metal-tags/images, else `vqi dataset synth` images),
#        SPOOL_N=10000, STAGES="pipeline spool", KEEP=1 keeps the work folder.
# Exit 2 (with the reason) when a piece is missing from the build.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-build/release}" && pwd)
MODEL=${MODEL:-t}
RATES=${RATES:-1,5,20}
COUNTS=${COUNTS:-60,100,200}
WARMUP=${WARMUP:-5}
SPOOL_N=${SPOOL_N:-10000}
STAGES=${STAGES:-pipeline spool}
VQI=$BUILD/apps/vqi/vqi
AGENT=$BUILD/apps/agent/vqi-agent
INSPECT=$BUILD/apps/inspect/vqi-inspect
DRIVER=$BUILD/bench/inspect_pipeline_bench
RECIPE=${RECIPE:-$REPO/components/recipes/vqi-inspect.yaml}
for b in "$VQI" "$AGENT" "$DRIVER"; do [ -x "$b" ] || { echo "no $b (build vqi vqi-agent inspect_pipeline_bench)" >&2; exit 1; }; done
"$VQI" broker run --help >/dev/null 2>&1 || { echo "not measured: no 'vqi broker run' in this build"; exit 2; }
if [[ " $STAGES " == *" pipeline "* ]]; then
  [ -x "$INSPECT" ] || { echo "no $INSPECT (build vqi-inspect)" >&2; exit 1; }
  [ -f "$RECIPE" ] || { echo "pipeline not measured: no $RECIPE (the inspection component is not on this branch yet)"; exit 2; }
fi

WORK=$(mktemp -d /tmp/vqi-inspbench-XXXXXX)
H=$WORK/home
PIDS=()
BROKER_PID=
cleanup() {
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    kill "${PIDS[i]}" 2>/dev/null || true
    wait "${PIDS[i]}" 2>/dev/null || true
  done
  if [ -n "${KEEP:-}" ]; then echo "# kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
exec {SLEEPFD}<> <(:)
nap() { read -rt "$1" -u "$SLEEPFD" || true; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_line() {  # wait_line FILE PATTERN SECONDS
  local end=$((SECONDS + $3))
  until grep -q "$2" "$1" 2>/dev/null; do
    [ $SECONDS -lt $end ] || { echo "no '$2' in $1 after $3 s:" >&2; tail -5 "$1" >&2; exit 1; }
    nap 0.05
  done
}
v() { "$VQI" --home "$H" "$@"; }
fmt() {  # fmt FILE|- 'f-string over the JSON object's keys'
  python3 -c 'import json, sys; d = json.load(sys.stdin if sys.argv[1] == "-" else open(sys.argv[1])); print(eval("f" + repr(sys.argv[2]), {}, d))' "$@"
}
wait_file() {  # wait_file FILE SECONDS: fails with the agent's and the publisher's log tails
  local end=$((SECONDS + $2))
  until [ -e "$1" ]; do
    [ $SECONDS -lt $end ] || {
      echo "no $1 after $2 s" >&2
      tail -5 "$WORK/agent.log" "$ROOT"/logs/*.log >&2 2>/dev/null
      exit 1
    }
    nap 0.05
  done
}
child_of() {  # child_of PPID: its first child process
  local p s
  for p in /proc/[0-9]*; do
    read -r s <"$p/stat" 2>/dev/null || continue
    s=${s##*) }
    set -- $s
    [ "$2" = "$CHILD_PPID" ] && { echo "${p#/proc/}"; return 0; }
  done
  return 1
}
pid_of_exe() {  # pid_of_exe GLOB: the process whose executable matches (under our agent root)
  local p e
  for p in /proc/[0-9]*; do
    e=$(readlink "$p/exe" 2>/dev/null) || continue
    # shellcheck disable=SC2053
    [[ $e == $1 ]] && { echo "${p#/proc/}"; return 0; }
  done
  return 1
}

echo "# inspect pipeline, $(date -u +%FT%TZ), $(nproc) cores (shared), load $(cut -d' ' -f1-3 /proc/loadavg)," \
  "commit $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "# command: MODEL=$MODEL RATES=$RATES COUNTS=$COUNTS WARMUP=$WARMUP SPOOL_N=$SPOOL_N STAGES='$STAGES' $0 ${1:-build/release}"

# ---- images
mkdir -p "$WORK/in" "$WORK/cam"
if [ -z "${IMAGES:-}" ]; then  # ../shared beside the checkout (or the worktrees' folder)
  IMAGES=$REPO/../shared/datasets/metal-tags/images
  [ -d "$IMAGES" ] || IMAGES=$REPO/../../shared/datasets/metal-tags/images
fi
if [ -d "$IMAGES" ] && [ -n "$(find "$IMAGES" -name '*.jpg' -print -quit)" ]; then
  echo "# images: $IMAGES ($(find "$IMAGES" -name '*.jpg' | wc -l) JPEGs, each written with its own comment segment)"
else
  echo "# images: no metal-tags folder ($IMAGES); using 'vqi dataset synth' images instead"
  v dataset synth --help >/dev/null 2>&1 || { echo "not measured: no images and no 'vqi dataset synth'"; exit 2; }
  v dataset synth --count 50 --seed 1 --out "$WORK/synth" >/dev/null
  IMAGES=$WORK/synth/images
fi

# ---- broker, server, thing, agent
v key create bench >/dev/null
BP=$(free_port)
SP=$(free_port)
start_broker() {
  "$VQI" --home "$H" broker run --port "$BP" >>"$WORK/broker.out" 2>>"$WORK/broker.err" &
  BROKER_PID=$!
  PIDS+=("$BROKER_PID")
}
start_broker
wait_line "$WORK/broker.out" "broker: listening" 30
"$VQI" --home "$H" server --port "$SP" --mqtt "127.0.0.1:$BP" --tls-auto >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER_PID=$!
PIDS+=($SERVER_PID)
wait_line "$WORK/server.out" "listening on" 30
v thing create edge1 --broker "127.0.0.1:$BP" --server "https://127.0.0.1:$SP" --bundle "$WORK/bundle" >/dev/null
if [ ! -e "$WORK/bundle/trusted-keys/bench.pub" ]; then
  mkdir -p "$WORK/bundle/trusted-keys"
  v key export bench >"$WORK/bundle/trusted-keys/bench.pub"
fi
ROOT=$WORK/root
"$AGENT" run --root "$ROOT" --bundle "$WORK/bundle" --soak 0 --spool-max-messages $((SPOOL_N * 2)) \
  --spool-max-bytes $((SPOOL_N * 8192 + (64 << 20))) >"$WORK/agent.log" 2>&1 &
APID=$!
PIDS+=($APID)
SUB=(--mqtt "127.0.0.1:$BP")

deploy() {  # deploy FILE: vqi deployment create, wait for the server's SUCCEEDED
  local id
  id=$(v deployment create --target thing:edge1 --file "$1" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
  local end=$((SECONDS + 180)) st=
  while [ $SECONDS -lt $end ]; do
    st=$(v deployment status "$id" --json | python3 -c 'import json, sys; d=json.load(sys.stdin)["devices"]; print(d[0]["status"] if d else "")')
    case "$st" in
      SUCCEEDED) return 0 ;;
      QUEUED | IN_PROGRESS | "") nap 0.5 ;;
      *) echo "deployment $id: $st" >&2; tail -20 "$WORK/agent.log" >&2; exit 1 ;;
    esac
  done
  echo "deployment $id: no SUCCEEDED after 180 s (last $st)" >&2; tail -20 "$WORK/agent.log" >&2; exit 1
}
identity() {  # the server's MQTT identity (EnsureClientIdentity), written by `vqi server --mqtt`
  local d
  d=$(dirname "$(find "$H" -path '*identities/vqi-server.pem' -print -quit)")
  [ -n "$d" ] && [ "$d" != . ] || { echo "no vqi-server identity under $H" >&2; exit 1; }
  SUB+=(--ca "$(find "$H" -name ca.pem -path '*pki*' -print -quit)" --cert "$d/vqi-server.pem" --key "$d/vqi-server.key")
}
identity

SAMPLE=$WORK/sample.json
if [[ " $STAGES " == *" pipeline "* ]]; then
  # ---- model component: a random-weight model registered, approved and packaged
  case "$MODEL" in
    t) SCALE=t IMGSZ=320x224 THRESHOLD=${THRESHOLD:-0.6015} ;;
    n) SCALE=n IMGSZ=640 THRESHOLD=${THRESHOLD:-0.6048} ;;
    *) echo "MODEL must be t or n" >&2; exit 2 ;;
  esac
  v model export --random "$SCALE" --imgsz "$IMGSZ" --seed 3 --out "$WORK/in/model.onnx" >/dev/null
  cat >"$WORK/in/report.json" <<EOF
{"model": "$WORK/in/model.onnx", "source": {"dataset": "bench", "split": "none", "part": "test",
 "split_digest": "$(printf 'a%.0s' $(seq 64))"}, "failed_images": 0,
 "metrics": {"images": 1, "map50": 0.5, "map75": 0.5, "map50_95": 0.5, "precision": 0.5,
 "recall": 0.5, "f1": 0.5, "per_class": []}}
EOF
  v model register --group bench --model "$WORK/in/model.onnx" --report "$WORK/in/report.json" --by bench >/dev/null
  v model approve --group bench --version 1 --by bench >/dev/null
  v component from-model --group bench --key bench >/dev/null
  v component create --recipe "$RECIPE" --artifact "$INSPECT" --var COMPONENT_VERSION=1.0.0 \
    --var MODEL_GROUP=bench --key bench >/dev/null
  echo "# model: random '$SCALE' at $IMGSZ ($(stat -c %s "$WORK/in/model.onnx") bytes), vqi.model.bench@1.0.0 + vqi.inspect@1.0.0;" \
    "ScoreThreshold $THRESHOLD (the random model scores every box near 0.60: at this threshold about one" \
    "is reported per image, the size of a trained model's result; at 0.25 a result is 15–24 KB)"
  python3 - "$WORK/cam" "$THRESHOLD" >"$WORK/d.json" <<'PY'
import json, sys
conf = {"ImageDirectory": sys.argv[1], "SettleSeconds": 0, "Threads": 1,
        "ScoreThreshold": float(sys.argv[2])}
print(json.dumps({"components": {
    "vqi.model.bench": {"componentVersion": "1.0.0"},
    "vqi.inspect": {"componentVersion": "1.0.0",
                    "configurationUpdate": {"merge": json.dumps(conf)}}}}))
PY
  deploy "$WORK/d.json"
  IPID=
  for _ in $(seq 100); do IPID=$(pid_of_exe "$ROOT/*vqi-inspect") && break; nap 0.1; done
  [ -n "$IPID" ] || { echo "vqi-inspect is not running under the agent:" >&2; tail -20 "$WORK/agent.log" >&2; exit 1; }
  nap 1
  MOSQ=$(CHILD_PPID=$BROKER_PID child_of) || MOSQ=
  echo "# vqi-inspect pid $IPID, agent pid $APID, mosquitto pid ${MOSQ:-?}, server pid $SERVER_PID; load $(cut -d' ' -f1-3 /proc/loadavg)"
  PERF_PID=
  if [ -n "${PERF:-}" ] && command -v perf >/dev/null; then
    # CPU samples of the three processes on the result's path, for the share of CPU that is
    # the model (robust to the machine's load, unlike wall-clock timings).
    perf record -F 1999 -p "$IPID,$APID${MOSQ:+,$MOSQ}" -o "$WORK/perf.data" >"$WORK/perf.log" 2>&1 &
    PERF_PID=$!
  fi
  "$DRIVER" feed "${SUB[@]}" --cam "$WORK/cam" --images "$IMAGES" --rates "$RATES" --counts "$COUNTS" \
    --warmup "$WARMUP" --pids "inspect=$IPID,agent=$APID${MOSQ:+,mosquitto=$MOSQ},server=$SERVER_PID" \
    --sample-out "$SAMPLE" | tee "$WORK/pipeline.jsonl"
  if [ -n "$PERF_PID" ]; then
    kill -INT "$PERF_PID"; wait "$PERF_PID" 2>/dev/null || true
    perf script -i "$WORK/perf.data" -F comm,pid,ip,sym,dso -G 2>/dev/null | python3 -c '
import re, sys, collections
by = collections.Counter()
syms = collections.defaultdict(collections.Counter)
for line in sys.stdin:
    m = re.match(r"\s*(\S+)\s+\d+\s+[0-9a-f]+\s+(.*)\((.*)\)\s*$", line)
    if not m:
        continue
    comm, sym, dso = m.group(1), m.group(2).strip(), m.group(3)
    if comm.startswith("vqi-inspect"):
        if dso.startswith("[JIT]") or dso.startswith("/tmp/perf-") or "libdnnl" in dso or "libgomp" in dso or "infer::onednn" in sym or "dnnl" in sym:
            part = "vqi-inspect: model"
        elif "libjpeg" in dso or "imgcodecs" in dso or "libpng" in dso:
            part = "vqi-inspect: decode"
        elif "kernel" in dso:
            part = "vqi-inspect: kernel"
        else:
            part = "vqi-inspect: other"
    else:
        part = comm + (": kernel" if "kernel" in dso else ": user")
    by[part] += 1
    if part in ("vqi-inspect: other", "vqi-agent: user", "vqi-agent: kernel"):
        syms[part][sym.split("(")[0][:60] or dso] += 1
total = sum(by.values())
for part, c in sorted(syms.items()):
    print(f"#   {part}: " + ", ".join(f"{s} {100 * n / total:.1f} %" for s, n in c.most_common(6)))
if not total:
    sys.exit("perf: no samples")
print(f"# perf ({total} samples at 1999 Hz over the whole feed): " +
      ", ".join(f"{k} {100 * v / total:.1f} %" for k, v in sorted(by.items())))
model = by["vqi-inspect: model"]
print(f"CPU beyond the model (vqi-inspect, agent, mosquitto; perf samples): {100 * (1 - model / total):.1f} %")
'
  fi
  python3 - "$WORK/pipeline.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    m = r.get("memory_kb", {})
    mem = "; ".join(f"{k} PSS {v['pss']/1024:.1f} MB (peak {v['peak_pss']/1024:.1f}), RSS {v['rss']/1024:.1f} MB" for k, v in m.items() if k in ("inspect", "agent"))
    c = r.get("cpu_ms_per_image", {})
    if c:
        cpu = ", ".join(f"{k} {v:.2f}" for k, v in c.items())
        mem += f"\n    CPU ms per image: {cpu}"
    print(f"{r['rate']:g} img/s (fed {r['fed_per_s']:.1f}/s): {r['received']}/{r['n']} results ({r['errors']} errors); "
          f"file written → result on the broker p50 {r['latency_ms']['p50']:.1f} ms, p95 {r['latency_ms']['p95']:.1f} ms "
          f"(max {r['latency_ms']['max']:.1f}); model p50 {r['model_ms_p50']:.1f} ms, inspection total p50 {r['total_ms_p50']:.1f} ms "
          f"(decode {r['decode_ms_p50']:.2f}), queue p50 {r['queue_ms']['p50']:.1f} / p95 {r['queue_ms']['p95']:.1f} ms, "
          f"outside the inspection (watch + IPC + spool + MQTT) p50 {r['outside_inspection_ms']['p50']:.1f} / p95 {r['outside_inspection_ms']['p95']:.1f} ms, "
          f"of which result built → on the broker p50 {r['built_to_broker_ms']['p50']:.1f} / p95 {r['built_to_broker_ms']['p95']:.1f} ms (wall clock, ms timestamps); "
          f"beyond the model: {r['beyond_model_pct_of_latency']:.1f} % of the latency, {r['beyond_model_pct_of_total']:.1f} % of the inspection total; "
          f"result {r['result_bytes_mean']} B\n    {mem}")
PY
  grep -E '^(Pss|Rss|Private_Dirty):' "/proc/$IPID/smaps_rollup" | tr -s ' ' | paste -sd' ' | sed 's/^/# vqi-inspect at the end: /'
  # Its own summary (mean time to publish through the IPC, spool fsync included, and commit
  # the journal) is printed when it stops.
  kill -TERM "$IPID"
  for _ in $(seq 50); do grep -q "ms/result to publish" "$ROOT/logs/vqi.inspect.log" && break; nap 0.1; done
  grep -h "vqi-inspect: .*results" "$ROOT/logs/vqi.inspect.log" | sed 's/^/# /'
fi

if [[ " $STAGES " == *" spool "* ]]; then
  # ---- spool through the agent: a bench component publishes SPOOL_N results over IPC
  if [ ! -s "$SAMPLE" ]; then
    echo "# spool payload: a stand-in result (no pipeline stage run)"
    python3 - >"$SAMPLE" <<'PY'
import json
det = {"class": "scratch", "class_id": 0, "confidence": 0.81234, "box": [12.5, 40.25, 96.0, 130.75]}
print(json.dumps({"schema": "vqi.inspect.result/1", "id": "edge1:" + "a" * 64, "thing": "edge1",
  "component": "vqi.inspect", "topic": "vqi/v1/results/edge1/vqi.inspect",
  "model": {"name": "vqi.model.bench", "version": "1.0.0", "file": "model.onnx", "backend": "onednn"},
  "image": {"id": "a" * 64, "name": "image-2020-04-22-10-53-58-45-cropped-right-top.jpg", "width": 450, "height": 300, "bytes": 29743},
  "timestamp": "2026-12-06T14:00:00.123Z", "verdict": "fail", "uncertain": False, "best_score": 0.81234,
  "detections": [det, det], "timings_ms": {"queue": 0.01, "read": 0.04, "decode": 1.3, "pre": 0.25, "model": 14.5, "post": 0.37, "total": 16.4},
  "image_name": "image-2020-04-22-10-53-58-45-cropped-right-top.jpg", "inference-type": "object-detection",
  "inference-description": "Detections with score 0.25 or above",
  "inference-results": [{"Label": "scratch", "Score": "0.81234", "Boundaries": "[12.5 40.25 96 130.75]"}] * 2}))
PY
  fi
  echo "# spool payload: $(stat -c %s "$SAMPLE") bytes"
  publisher() {  # publisher VERSION GO OUT: deploys bench.Publisher VERSION (waits for GO)
    cat >"$WORK/in/publisher.json" <<EOF
{"RecipeFormatVersion": "2020-01-25", "ComponentName": "bench.Publisher", "ComponentVersion": "$1",
 "ComponentPublisher": "Bench",
 "ComponentConfiguration": {"DefaultConfiguration": {"accessControl": {"aws.greengrass.ipc.mqttproxy": {
   "bench.Publisher:mqttproxy:1": {"operations": ["aws.greengrass#PublishToIoTCore"],
                                   "resources": ["vqi/v1/results/+/bench.Publisher"]}}}}},
 "Manifests": [{"Platform": {"os": "linux"}, "Lifecycle": {
   "run": "exec $DRIVER publish --n $SPOOL_N --payload $SAMPLE --start-file $2 --out $3"}}]}
EOF
    v component create --recipe "$WORK/in/publisher.json" --key bench >/dev/null
    printf '{"components": {"bench.Publisher": {"componentVersion": "%s"}}}\n' "$1" >"$WORK/p.json"
    deploy "$WORK/p.json"
  }
  # (a) connected: IPC → spool → broker → subscriber
  publisher 1.0.0 "$WORK/go1" "$WORK/pub1.json"
  "$DRIVER" count "${SUB[@]}" --filter "vqi/v1/results/edge1/bench.Publisher" --n "$SPOOL_N" \
    --client-id bench-count1 --ready "$WORK/ready1" --since-file "$WORK/go1" >"$WORK/count1.json" &
  CPID=$!
  wait_file "$WORK/ready1" 30
  touch "$WORK/go1"
  wait "$CPID" || { echo "the subscriber did not get $SPOOL_N messages:" >&2; cat "$WORK/count1.json" >&2; exit 1; }
  wait_file "$WORK/pub1.json" 600
  echo "connected: IPC publish into the spool $(fmt "$WORK/pub1.json" '{per_s:.0f}/s, p50 {p50_ms:.2f} ms, p95 {p95_ms:.2f} ms');" \
    "IPC → spool → broker → subscriber $(fmt "$WORK/count1.json" '{received}/{n} in {since_to_last_s:.1f} s = {per_s_since:.0f} results/s, {payload_bytes/received:.0f} B each on the wire')"
  # (b) broker down: 10,000 results wait in the spool; then the broker returns and it drains
  "$DRIVER" count "${SUB[@]}" --filter "vqi/v1/results/edge1/bench.Publisher" --n "$SPOOL_N" \
    --client-id bench-count2 --persistent 1 --ready "$WORK/ready2" --timeout 600 >"$WORK/count2.json" &
  CPID=$!
  wait_file "$WORK/ready2" 30
  publisher 1.0.1 "$WORK/go2" "$WORK/pub2.json"
  kill "$BROKER_PID"; wait "$BROKER_PID" 2>/dev/null || true
  touch "$WORK/go2"
  wait_file "$WORK/pub2.json" 600
  status=$("$AGENT" status --root "$ROOT" --json)
  disk=$(du -sB1 "$ROOT/spool" | cut -f1)
  files=$(find "$ROOT/spool" -type f | wc -l)
  echo "broker down: IPC publish into the spool $(fmt "$WORK/pub2.json" '{per_s:.0f}/s, p50 {p50_ms:.2f} ms, p95 {p95_ms:.2f} ms');" \
    "spool holds $(echo "$status" | fmt - '{spool["messages"]} messages, {spool["bytes"]/1e6:.2f} MB counted ({spool["bytes"]/spool["messages"]:.0f} B each)'), $files files," \
    "$(awk -v d="$disk" 'BEGIN {printf "%.1f MB", d / 1e6}') on disk (du) for $SPOOL_N results"
  touch "$WORK/broker-back"
  start_broker
  wait "$CPID" || { echo "the subscriber did not get $SPOOL_N messages after the outage:" >&2; cat "$WORK/count2.json" >&2; }
  echo "after the broker returned: $(fmt "$WORK/count2.json" '{received}/{n} drained at {per_s_first_to_last:.0f} results/s (first → last arrival, {first_to_last_s:.1f} s)')"
  for _ in $(seq 100); do
    [ "$(find "$ROOT/spool" -type f | wc -l)" -eq 0 ] && break
    nap 0.1
  done
  echo "spool files left after the drain: $(find "$ROOT/spool" -type f | wc -l)"
fi
