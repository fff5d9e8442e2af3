#!/usr/bin/env bash
# `vqi deployment create` → SUCCEEDED over loopback for a model-only change (issue 19,
# acceptance 6; goal ≤ 5 s p50), with real processes: Mosquitto (`vqi broker run`), the server
# and fleet controller (`vqi server --mqtt --tls-auto`), one agent (`vqi-agent run --bundle`,
# --soak 0) with a bundle from `vqi thing create`. Components are signed and published with
# `vqi component create`: a model with one MODEL_MB artifact per version and a program with a
# HARD dependency on it. After a warm-up deployment, each run deploys the next model version
# (`vqi deployment create`) and ends when the server records the device's SUCCEEDED. Also the
# connected agent's PSS (idle, and peak while the runs deploy).
#
# Usage: bench/agent_fleet_latency.sh [BUILD_DIR] [RUNS] [MODEL_MB]   (defaults build/release 10 8)
# Exit 2 (with the reason) when the binaries lack the network side.
set -euo pipefail
BUILD=$(cd "${1:-build/release}" && pwd)
RUNS=${2:-10}
MODEL_MB=${3:-8}
VQI=$BUILD/apps/vqi/vqi
AGENT=$BUILD/apps/agent/vqi-agent
for b in "$VQI" "$AGENT"; do [ -x "$b" ] || { echo "no $b (build vqi and vqi-agent)" >&2; exit 1; }; done
"$VQI" broker run --help >/dev/null 2>&1 || { echo "fleet latency: not measured: no 'vqi broker run' in this build"; exit 2; }
"$VQI" server --help 2>&1 | grep -q -- --mqtt || { echo "fleet latency: not measured: no 'vqi server --mqtt' in this build"; exit 2; }
"$AGENT" run --help 2>&1 | grep -q -- --bundle || { echo "fleet latency: not measured: no 'vqi-agent run --bundle'"; exit 2; }

WORK=$(mktemp -d /tmp/vqi-fleetlat-XXXXXX)
H=$WORK/home
PIDS=()
cleanup() {
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    kill "${PIDS[i]}" 2>/dev/null || true
    wait "${PIDS[i]}" 2>/dev/null || true
  done
  rm -rf "$WORK"
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
kb() {
  local k v _
  while read -r k v _; do [ "$k" = "$2:" ] && { echo "$v"; return; }; done <"/proc/$1/smaps_rollup"
}
pct() { sort -n | awk -v p="$1" '{a[NR]=$1} END {r=int((p*NR+99)/100); if (r<1) r=1; print a[r]}'; }
mb() { awk -v k="$1" 'BEGIN {printf "%.1f MB", k / 1024}'; }
echo "# fleet latency, $(date -u +%FT%TZ), $(nproc) cores (shared), commit $(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "# command: $0 ${1:-build/release} $RUNS $MODEL_MB"

# ---- components
mkdir -p "$WORK/in"
"$VQI" --home "$H" key create bench >/dev/null
for v in $(seq 0 "$RUNS"); do
  head -c "${MODEL_MB}M" /dev/urandom >"$WORK/in/model.bin"
  cat >"$WORK/in/model.json" <<EOF
{"RecipeFormatVersion": "2020-01-25", "ComponentName": "com.bench.Model", "ComponentVersion": "1.$v.0",
 "ComponentPublisher": "Bench", "Manifests": [{"Platform": {"os": "linux"}, "Lifecycle": {},
 "Artifacts": [{"Uri": "s3://b/model.bin"}]}]}
EOF
  "$VQI" --home "$H" component create --recipe "$WORK/in/model.json" --artifact "$WORK/in/model.bin" --key bench >/dev/null
done
cat >"$WORK/in/program.json" <<'EOF'
{"RecipeFormatVersion": "2020-01-25", "ComponentName": "com.bench.Program", "ComponentVersion": "1.0.0",
 "ComponentPublisher": "Bench",
 "ComponentDependencies": {"com.bench.Model": {"VersionRequirement": "^1.0.0", "DependencyType": "HARD"}},
 "Manifests": [{"Platform": {"os": "linux"}, "Lifecycle": {
   "run": "test -s {com.bench.Model:artifacts:path}/model.bin && exec sleep 100000"}}]}
EOF
"$VQI" --home "$H" component create --recipe "$WORK/in/program.json" --key bench >/dev/null

# ---- broker, server, thing, agent
BP=$(free_port)
SP=$(free_port)
"$VQI" --home "$H" broker run --port "$BP" >"$WORK/broker.out" 2>"$WORK/broker.err" &
PIDS+=($!)
wait_line "$WORK/broker.out" "broker: listening" 30
"$VQI" --home "$H" server --port "$SP" --mqtt "127.0.0.1:$BP" --tls-auto >"$WORK/server.out" 2>"$WORK/server.err" &
PIDS+=($!)
wait_line "$WORK/server.out" "listening on" 30
"$VQI" --home "$H" thing create edge1 --broker "127.0.0.1:$BP" --server "https://127.0.0.1:$SP" --bundle "$WORK/bundle" >/dev/null
if [ ! -e "$WORK/bundle/trusted-keys/bench.pub" ]; then
  mkdir -p "$WORK/bundle/trusted-keys"
  "$VQI" --home "$H" key export bench >"$WORK/bundle/trusted-keys/bench.pub"
fi
"$AGENT" run --root "$WORK/root" --bundle "$WORK/bundle" --soak 0 >"$WORK/agent.log" 2>&1 &
APID=$!
PIDS+=($APID)

deploy() {  # deploy MODEL_VERSION → "create→SUCCEEDED ms, create CLI ms"
  printf '{"components": {"com.bench.Program": {"componentVersion": "1.0.0"}, "com.bench.Model": {"componentVersion": "%s"}}}\n' "$1" >"$WORK/d.json"
  local t0=$EPOCHREALTIME id t1
  id=$("$VQI" --home "$H" deployment create --target thing:edge1 --file "$WORK/d.json" --json |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
  t1=$EPOCHREALTIME
  echo "$id" >"$WORK/last-id"
  # The end is when the server recorded the device's SUCCEEDED (device_status.updated_ms, the
  # controller's wall clock), polled read-only every 20 ms: a `vqi deployment status` process
  # takes ~1 s to start (it links the training stack), too coarse to time with.
  python3 - "$H/fleet/fleet.db" "$id" edge1 "$t0" "$t1" <<'PY' || { tail -20 "$WORK/agent.log" >&2; exit 1; }
import sqlite3, sys, time
db, dep, thing, t0, t1 = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
end = time.time() + 120
while time.time() < end:
    row = con.execute("SELECT status, updated_ms FROM device_status WHERE deployment=? AND thing=?",
                      (dep, thing)).fetchone()
    if row and row[0] == "SUCCEEDED":
        ms = row[1] - t0 * 1000
        if not 0 < ms < 120000:
            sys.exit(f"updated_ms {row[1]} is not on this clock (t0 {t0})")
        print(f"{ms:.0f} {(t1 - t0) * 1000:.0f}")
        sys.exit(0)
    if row and row[0] not in ("QUEUED", "IN_PROGRESS"):
        sys.exit(f"deployment {dep}: {row[0]}")
    time.sleep(0.02)
sys.exit(f"deployment {dep}: no SUCCEEDED after 120 s")
PY
}
read -r warm _ < <(deploy 1.0.0) || true
[ -n "${warm:-}" ] || { echo "the warm-up deployment failed (above)" >&2; exit 1; }
echo "warm-up (both components, first download): $warm ms"
nap 1
echo "agent connected, idle: PSS $(mb "$(kb "$APID" Pss)"), USS $(mb $(($(kb "$APID" Private_Clean) + $(kb "$APID" Private_Dirty)))), RSS $(mb "$(kb "$APID" Rss)"), threads $(awk '/Threads/ {print $2}' /proc/$APID/status)"
PEAK=$WORK/peak STOP=$WORK/stop-sampling
(
  mp=0
  until [ -e "$STOP" ]; do
    p=$(kb "$APID" Pss 2>/dev/null) || break
    [ "${p:-0}" -gt "$mp" ] && mp=$p
    nap 0.002
  done
  echo "$mp" >"$PEAK"
) &
SAMPLER=$!
lat=() cli=()
for v in $(seq 1 "$RUNS"); do
  ms= c=
  read -r ms c < <(deploy "1.$v.0") || true
  [ -n "$ms" ] || { echo "deployment of model 1.$v.0 failed (above)" >&2; exit 1; }
  lat+=("$ms") cli+=("$c")
done
touch "$STOP"; wait "$SAMPLER"
echo "vqi deployment create → SUCCEEDED, model-only (${MODEL_MB} MB), soak 0: p50 $(printf '%s\n' "${lat[@]}" | pct 50) ms," \
  "p90 $(printf '%s\n' "${lat[@]}" | pct 90) ms, min $(printf '%s\n' "${lat[@]}" | pct 0) ms ($RUNS runs)"
echo "  command: vqi deployment create --target thing:edge1 --file d.json → the server's device_status row SUCCEEDED (updated_ms)"
echo "  of which the 'vqi deployment create' process itself: p50 $(printf '%s\n' "${cli[@]}" | pct 50) ms"
echo "  cross-check: vqi deployment status $(cat "$WORK/last-id") → $("$VQI" --home "$H" deployment status "$(cat "$WORK/last-id")" --json |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["devices"][0]["status"])')"
echo "agent during these deployments: peak PSS $(mb "$(cat "$PEAK")") (sampled every ~2 ms), VmHWM $(mb "$(awk '/VmHWM/ {print $2}' /proc/$APID/status)")"
