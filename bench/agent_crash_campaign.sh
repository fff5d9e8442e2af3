#!/usr/bin/env bash
# The kill -9 campaign of issue 19, acceptance 4: POINTS seeded points of
# tests/agent/agent_crash_campaign.cc (each: a deployment between whole sets — three good ones
# and one whose program fails and rolls back — killed either at a seeded phase and delay or at
# its N-th file-system mutation (LD_PRELOAD tests/agent/crash_shim.cc), sometimes killed again
# during the restart's recovery, then checked: whole old or whole new set, running, no orphan). Runs JOBS independent campaign processes in parallel (each its own root under
# /tmp; safe: orphans are found by the root's marker), niced. Binaries are copied to OUT/bin
# first so rebuilding the tree does not disturb a running campaign.
#
# Usage: bench/agent_crash_campaign.sh [--points N] [--jobs J] [--seed S] [--build DIR] [--out DIR]
#   defaults: 1000 points, 2 jobs, seed = current epoch seconds, build/release,
#   /work/fuzzlog/crash-campaign. Point i has seed S+i; replay one:
#   VQI_AGENT_CRASH_SEED=<seed> VQI_AGENT_CRASH_POINTS=1 build/release/tests/agent/agent_crash_test \
#     --gtest_filter=AgentCrashCampaign.*
# Output: OUT/job-K.log (one campaign-point line per point), OUT/failures/seed-S.log (the
# problems and the agent's log of each failed point), and a summary on stdout.
set -euo pipefail
POINTS=1000 JOBS=2 SEED=$(date +%s) BUILD=build/release OUT=/work/fuzzlog/crash-campaign
while [ $# -gt 0 ]; do
  case "$1" in
    --points) POINTS=$2; shift 2 ;;
    --jobs) JOBS=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    *) echo "usage: $0 [--points N] [--jobs J] [--seed S] [--build DIR] [--out DIR]" >&2; exit 2 ;;
  esac
done
[[ "$POINTS" =~ ^[0-9]+$ && "$JOBS" =~ ^[1-9][0-9]*$ && "$SEED" =~ ^[0-9]+$ ]] ||
  { echo "--points, --jobs and --seed are non-negative integers (jobs ≥ 1)" >&2; exit 2; }
SHIM=$BUILD/tests/agent/libagent_crash_shim.so
for b in "$BUILD/apps/agent/vqi-agent" "$BUILD/tests/agent/agent_crash_test" "$SHIM"; do
  [ -e "$b" ] || { echo "no $b (build vqi-agent, agent_crash_test, agent_crash_shim)" >&2; exit 1; }
done
rm -rf "$OUT"
mkdir -p "$OUT/bin" "$OUT/failures"
cp "$BUILD/apps/agent/vqi-agent" "$BUILD/tests/agent/agent_crash_test" "$SHIM" "$OUT/bin/"

echo "command: $0 --points $POINTS --jobs $JOBS --seed $SEED --build $BUILD --out $OUT"
echo "seed: $SEED (points $SEED..$((SEED + POINTS - 1))), jobs: $JOBS, started: $(date -u +%FT%TZ)"
echo "machine: $(nproc) cores, $(uname -sr), commit $(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo '?')"
START=$(date +%s)
per=$((POINTS / JOBS))
pids=()
for ((k = 0; k < JOBS; k++)); do
  first=$((SEED + k * per))
  n=$per
  [ $k -eq $((JOBS - 1)) ] && n=$((POINTS - k * per))
  VQI_AGENT_BIN="$OUT/bin/vqi-agent" VQI_AGENT_CRASH_SHIM="$OUT/bin/$(basename "$SHIM")" VQI_AGENT_CRASH_SEED=$first VQI_AGENT_CRASH_POINTS=$n \
    VQI_AGENT_CRASH_FAILDIR="$OUT/failures" \
    nice -n 10 "$OUT/bin/agent_crash_test" --gtest_filter='AgentCrashCampaign.*' \
    >"$OUT/job-$k.log" 2>&1 &
  pids+=($!)
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
END=$(date +%s)

cat "$OUT"/job-*.log | grep '^campaign-point ' >"$OUT/points.txt" || true
echo "finished: $(date -u +%FT%TZ), wall $((END - START)) s"
awk -v wall=$((END - START)) '
  { for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
    n++; secs += f["seconds"]; rk += f["recovery_kills"]
    if ($NF == "FAIL") { fail++; failed = failed " " f["seed"]; next }
    res[f["result"]]++; cell[f["hit"] "," f["result"]]++; hits[f["hit"]] = 1
    tcell[f["to"] == "F" ? "failing" : "good", f["result"]]++
    if (f["recovery_kills"] > 0) rres[f["result"]]++
    if (f["call"] != "-") { calls++; site = f["call"]; gsub(/[0-9]+/, "N", site); sites[site] = 1
                            if (f["call"] == "none") callnone++ } }
  END {
    printf "points: %d (failures: %d), old set: %d, new set: %d, recovery kills: %d, mean %.2f s/point, wall %d s\n",
      n, fail, res["old"], res["new"], rk, n ? secs / n : 0, wall
    printf "upgrade that succeeds: old %d new %d; upgrade that fails: old %d new %d\n",
      tcell["good", "old"], tcell["good", "new"], tcell["failing", "old"], tcell["failing", "new"]
    printf "points with recovery kills: old %d new %d\n", rres["old"], rres["new"]
    ns = 0; for (k in sites) ns++
    printf "killed at the N-th file-system mutation: %d points (%d finished first), %d distinct call sites; the rest at a seeded delay in a target phase\n", calls, callnone, ns - (callnone > 0)
    printf "%-14s %6s %6s\n", "hit phase", "old", "new"
    split("inbox prepare prepared stopping starting soaking rolling-back committed outcome done", order, " ")
    for (i = 1; i <= 10; i++) printf "%-14s %6d %6d\n", order[i], cell[order[i] ",old"], cell[order[i] ",new"]
    if (fail) printf "FAILED seeds (replay with VQI_AGENT_CRASH_SEED=<seed> VQI_AGENT_CRASH_POINTS=1):%s\n", failed
  }' "$OUT/points.txt"
if [ "$(wc -l <"$OUT/points.txt")" -lt "$POINTS" ]; then
  echo "only $(wc -l <"$OUT/points.txt") of $POINTS points ran: see $OUT/job-*.log" >&2
  status=1
fi
exit $status
