#!/usr/bin/env bash
# The agent's download path on loopback: a component with one SIZE_MB artifact published with
# `vqi component create`, served by `vqi server`, fetched by vqi-fetch-min (the agent's fetch
# code) from a device bundle. Prints per round: the first fetch (download + hash + fsync) in
# MB/s and the cached fetch (metadata request + re-hash of the cached blob) in ms, plus the
# fetcher's peak RSS; then the medians. The device-side memory goal is ≤ 16 MB during a
# deployment (issue 19, acceptance 6): a download streams, it never holds an artifact.
#
# Usage: bench/agent_fetch.sh [BUILD_DIR] [ROUNDS] [SIZE_MB]   (defaults build/release 5 200)
set -euo pipefail
BUILD=$(cd "${1:-build/release}" && pwd)
ROUNDS=${2:-5}
SIZE_MB=${3:-200}
VQI=$BUILD/apps/vqi/vqi
FETCH=$BUILD/libs/agent/vqi-fetch-min
for b in "$VQI" "$FETCH"; do [ -x "$b" ] || { echo "no $b (build vqi and vqi-fetch-min)" >&2; exit 1; }; done

WORK=$(mktemp -d /tmp/vqi-fetchbench-XXXXXX)
SERVER_PID=
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
H=$WORK/home B=$WORK/bundle
mkdir -p "$WORK/in" "$B/trusted-keys"

echo "== component with a $SIZE_MB MB artifact"
head -c "${SIZE_MB}M" /dev/urandom > "$WORK/in/model.onnx"
printf '#!/bin/sh\necho run\n' > "$WORK/in/run.sh"
cat > "$WORK/in/recipe.json" <<'R'
{"RecipeFormatVersion": "2020-01-25", "ComponentName": "com.bench.model", "ComponentVersion": "1.0.0",
 "ComponentPublisher": "Bench", "Manifests": [{"Platform": {"os": "linux"}, "Lifecycle": {"run": "{artifacts:path}/run.sh"},
 "Artifacts": [{"Uri": "s3://b/model.onnx"}, {"Uri": "s3://b/run.sh"}]}]}
R
"$VQI" --home "$H" key create bench >/dev/null 2>&1
"$VQI" --home "$H" key export bench 2>/dev/null > "$B/trusted-keys/bench.pub"
"$VQI" --home "$H" component create --recipe "$WORK/in/recipe.json" --artifact "$WORK/in/model.onnx" \
  --artifact "$WORK/in/run.sh" --key bench >/dev/null 2>&1
TOKEN=$("$VQI" --home "$H" --json server token create --name edge --scope device 2>/dev/null |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
"$VQI" --home "$H" server --port 0 --workers 4 >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER_PID=$!
for _ in $(seq 100); do grep -q listening "$WORK/server.out" 2>/dev/null && break; sleep 0.1; done
PORT=$(sed -E 's/.*:([0-9]+) .*/\1/' "$WORK/server.out")
printf '{"thing": "edge", "server": "http://127.0.0.1:%s", "token": "%s"}\n' "$PORT" "$TOKEN" > "$B/agent.json"

fetch() {  # root → "seconds maxrss_kb bytes_downloaded"
  /usr/bin/time -f '%e %M' -o "$WORK/time" "$FETCH" "$B" "$1" com.bench.model 1.0.0 > "$WORK/out"
  echo "$(cat "$WORK/time") $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["counters"]["bytes_downloaded"])' "$WORK/out")"
}
first=() cached=() rss=()
for r in $(seq "$ROUNDS"); do
  rm -rf "$WORK/root"
  read -r s1 m1 d1 <<<"$(fetch "$WORK/root")"
  read -r s2 m2 d2 <<<"$(fetch "$WORK/root")"
  [ "$d2" = 0 ] || { echo "cached fetch downloaded $d2 bytes" >&2; exit 1; }
  mbs=$(python3 -c "print(f'{$SIZE_MB/$s1:.0f}')")
  ms=$(python3 -c "print(f'{$s2*1000:.0f}')")
  echo "round $r: first $mbs MB/s (${s1}s, $d1 B, peak RSS ${m1} KB); cached ${ms} ms (peak RSS ${m2} KB)"
  first+=("$mbs") cached+=("$ms") rss+=("$m1")
done
med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "median: first fetch $(med "${first[@]}") MB/s, cached fetch $(med "${cached[@]}") ms, peak RSS $(med "${rss[@]}") KB"
