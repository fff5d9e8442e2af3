#!/usr/bin/env bash
# vqi-agent's resources (issue 19, acceptance 6; numbers go to docs/resource-limits.md):
#  1. PSS idle with no components, and with two small components running (a model with one
#     MODEL_MB artifact + a program with a HARD dependency on it that sleeps): the agent's own
#     process only, Pss from /proc/<pid>/smaps_rollup (median of 10 samples over 1 s).
#  2. Peak PSS during deployments: smaps_rollup sampled every ~2 ms while RUNS model-only
#     deployments run (each copies a MODEL_MB artifact), plus the kernel's VmHWM (peak RSS,
#     catches what sampling misses). PSS charges shared library pages by how many processes map
#     them, so it moves with what else runs: USS (private pages only) is printed as the floor
#     and RSS as the ceiling.
#  3. Start-up time: process start (fork from this script) → ready, where ready = Engine::Start
#     done: agent lock taken, orphans adopted, the current set started, the first
#     state/status.json written. With no components and with the two components. p50/p90.
#  4. Local mode: `vqi-agent deploy --wait` → SUCCEEDED for a model-only change (model 1.0.0 ↔
#     1.1.0, the program restarts because of its HARD dependency), --soak 0, RUNS runs, p50/p90.
#     Includes the CLI's planning and digest checks and the daemon's 0.25 s inbox poll.
#  5. (needs `vqi server --mqtt` and `vqi-agent run --bundle` on main) `vqi deployment create` →
#     SUCCEEDED over loopback with Mosquitto and `vqi server`: see FLEET below.
#
# Usage: bench/agent_resources.sh [BUILD_DIR] [RUNS] [MODEL_MB]   (defaults build/release 20 8)
set -euo pipefail
BUILD=$(cd "${1:-build/release}" && pwd)
RUNS=${2:-20}
MODEL_MB=${3:-8}
AGENT=$BUILD/apps/agent/vqi-agent
[ -x "$AGENT" ] || { echo "no $AGENT (build vqi-agent)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/vqi-agentres-XXXXXX)
ROOT=$WORK/root
APID=
SAMPLER=
exec {SLEEPFD}<> <(:)  # `read -t` on an fd that never has data: a sleep without a fork
nap() { read -rt "$1" -u "$SLEEPFD" || true; }
stop_agent() {
  if [ -n "$APID" ]; then kill "$APID" 2>/dev/null || true; wait "$APID" 2>/dev/null || true; fi
  APID=
}
cleanup() {
  [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null
  stop_agent
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "# vqi-agent resources, $(date -u +%FT%TZ)"
echo "# machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), shared;" \
  "$(uname -sr); $(awk '/MemTotal/ {printf "%.1f GB RAM", $2/1048576}' /proc/meminfo)"
echo "# binary: $AGENT ($(stat -c %s "$AGENT") bytes), commit $(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "# command: $0 ${1:-build/release} $RUNS $MODEL_MB"

# ---- components: a model (one MODEL_MB artifact per version) and a program depending on it
mkdir -p "$WORK/recipes"
for v in 1.0.0 1.1.0; do
  mkdir -p "$WORK/artifacts/com.ex.Model/$v"
  head -c "${MODEL_MB}M" /dev/urandom >"$WORK/artifacts/com.ex.Model/$v/model.bin"
  cat >"$WORK/recipes/model-$v.json" <<EOF
{"RecipeFormatVersion": "2020-01-25", "ComponentName": "com.ex.Model", "ComponentVersion": "$v",
 "Manifests": [{"Platform": {"os": "linux"}, "Artifacts": [{"URI": "s3://b/model.bin"}], "Lifecycle": {}}]}
EOF
done
cat >"$WORK/recipes/program-1.0.0.json" <<'EOF'
{"RecipeFormatVersion": "2020-01-25", "ComponentName": "com.ex.Program", "ComponentVersion": "1.0.0",
 "ComponentDependencies": {"com.ex.Model": {"VersionRequirement": "^1.0.0", "DependencyType": "HARD"}},
 "Manifests": [{"Platform": {"os": "linux"}, "Lifecycle": {
   "run": "test -s {com.ex.Model:artifacts:path}/model.bin && exec sleep 100000"}}]}
EOF
doc() {
  printf '{"components": {"com.ex.Program": {"componentVersion": "1.0.0"}, "com.ex.Model": {"componentVersion": "%s"}}}\n' "$1" >"$WORK/d.json"
}

kb() {  # kb PID FIELD: a field of /proc/PID/smaps_rollup in kB
  local k v _
  while read -r k v _; do [ "$k" = "$2:" ] && { echo "$v"; return; }; done <"/proc/$1/smaps_rollup"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
pct() {  # pct P: the P-th percentile (nearest rank) of numbers on stdin
  sort -n | awk -v p="$1" '{a[NR]=$1} END {r=int((p*NR+99)/100); if (r<1) r=1; print a[r]}'
}
uss() { echo $(($(kb "$1" Private_Clean) + $(kb "$1" Private_Dirty))); }
idle_pss() {  # prints "PSS_KB RSS_KB USS_KB" medians of 10 samples over 1 s
  local p=() r=() u=() i
  for i in $(seq 10); do
    p+=("$(kb "$APID" Pss)"); r+=("$(kb "$APID" Rss)"); u+=("$(uss "$APID")"); nap 0.1
  done
  echo "$(printf '%s\n' "${p[@]}" | median) $(printf '%s\n' "${r[@]}" | median) $(printf '%s\n' "${u[@]}" | median)"
}
STARTUP_MS=
start_agent() {  # start_agent SOAK: sets APID and STARTUP_MS (fork → state/status.json written)
  rm -f "$ROOT/state/status.json"
  local t0=$EPOCHREALTIME
  "$AGENT" run --root "$ROOT" --soak "$1" >>"$WORK/agent.log" 2>&1 &
  APID=$!
  until [ -e "$ROOT/state/status.json" ]; do
    kill -0 "$APID" 2>/dev/null || { echo "the agent ended; $WORK/agent.log:" >&2; tail -5 "$WORK/agent.log" >&2; exit 1; }
    nap 0.0005
  done
  local t1=$EPOCHREALTIME
  STARTUP_MS=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f\n", (b - a) * 1000}')
}
mb() { awk -v k="$1" 'BEGIN {printf "%.1f MB", k / 1024}'; }

# ---- 1 + 3: start-up and idle PSS with no components
ups=()
for i in $(seq "$RUNS"); do start_agent 0; ups+=("$STARTUP_MS"); stop_agent; done
start_agent 0
nap 0.5
read -r P R U < <(idle_pss)
echo
echo "idle, no components:   PSS $(mb "$P"), USS $(mb "$U"), RSS $(mb "$R"), threads $(awk '/Threads/ {print $2}' /proc/$APID/status)"
echo "  command: $AGENT run --root R --soak 0; awk '/^Pss:/' /proc/<pid>/smaps_rollup (median of 10 over 1 s)"
echo "start-up, no components: p50 $(printf '%s\n' "${ups[@]}" | pct 50) ms, p90 $(printf '%s\n' "${ups[@]}" | pct 90) ms ($RUNS runs)"
echo "  command: fork+exec of '$AGENT run --root R' → state/status.json exists (Engine::Start done)"

# ---- 1: two components running
doc 1.0.0
"$AGENT" deploy --root "$ROOT" --file "$WORK/d.json" --recipes "$WORK/recipes" --artifacts "$WORK/artifacts" --wait 60 >/dev/null
nap 0.5
read -r P R U < <(idle_pss)
echo "idle, 2 components:    PSS $(mb "$P"), USS $(mb "$U"), RSS $(mb "$R")"
echo "  command: as above after '$AGENT deploy --root R --file d.json --recipes DIR --artifacts DIR' (com.ex.Model + com.ex.Program running)"
stop_agent
ups=()
for i in $(seq "$RUNS"); do start_agent 0; ups+=("$STARTUP_MS"); stop_agent; done
echo "start-up, 2 components: p50 $(printf '%s\n' "${ups[@]}" | pct 50) ms, p90 $(printf '%s\n' "${ups[@]}" | pct 90) ms ($RUNS runs; both started before status.json)"

# ---- 2 + 4: model-only deployments, latency and peak PSS
start_agent 0
nap 0.3
PEAK=$WORK/peak STOP=$WORK/stop-sampling
(
  mp=0 mr=0
  until [ -e "$STOP" ]; do
    p=$(kb "$APID" Pss 2>/dev/null) || break
    r=$(kb "$APID" Rss 2>/dev/null) || break
    [ "${p:-0}" -gt "$mp" ] && mp=$p
    [ "${r:-0}" -gt "$mr" ] && mr=$r
    nap 0.002
  done
  echo "$mp $mr" >"$PEAK"
) &
SAMPLER=$!
lat=()
for i in $(seq "$RUNS"); do
  if [ $((i % 2)) -eq 1 ]; then doc 1.1.0; else doc 1.0.0; fi
  t0=$EPOCHREALTIME
  "$AGENT" deploy --root "$ROOT" --file "$WORK/d.json" --recipes "$WORK/recipes" \
    --artifacts "$WORK/artifacts" --wait 60 >"$WORK/deploy.out" ||
    { echo "deployment $i did not succeed:"; cat "$WORK/deploy.out"; exit 1; }
  t1=$EPOCHREALTIME
  lat+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", (b - a) * 1000}')")
done
touch "$STOP"; wait "$SAMPLER"
SAMPLER=
read -r MP MR <"$PEAK"
HWM=$(awk '/VmHWM/ {print $2}' /proc/$APID/status)
echo "during deployments:    peak PSS $(mb "$MP"), peak RSS $(mb "$MR") (sampled every ~2 ms), VmHWM $(mb "$HWM")"
echo "  command: smaps_rollup sampled while $RUNS model-only deployments of a ${MODEL_MB} MB model run; /proc/<pid>/status VmHWM after"
echo "deploy → SUCCEEDED, model-only, soak 0: p50 $(printf '%s\n' "${lat[@]}" | pct 50) ms, p90 $(printf '%s\n' "${lat[@]}" | pct 90) ms," \
  "min $(printf '%s\n' "${lat[@]}" | pct 0) ms ($RUNS runs, ${MODEL_MB} MB model)"
echo "  command: time $AGENT deploy --root R --file d.json --recipes DIR --artifacts DIR --wait 60 (daemon: run --soak 0)"
stop_agent

# ---- 5: FLEET — `vqi deployment create` → SUCCEEDED over loopback (Mosquitto + vqi server).
# bench/agent_fleet_latency.sh (real `vqi broker run`, `vqi server --mqtt --tls-auto`,
# `vqi-agent run --bundle`); it says so and exits 2 on a build without them.
if [ -x "$(dirname "$0")/agent_fleet_latency.sh" ] && [ -x "$BUILD/apps/vqi/vqi" ]; then
  echo
  "$(dirname "$0")/agent_fleet_latency.sh" "$BUILD" "$RUNS" || echo "fleet latency: not measured (see above)"
fi
