#!/usr/bin/env bash
# Callback wake-up latency: from `vqi workflow task-success` committing to the waiting execution
# continuing (its TaskSucceeded history event's timestamp), median of N runs. The commit happens
# between the CLI's start (t0) and exit (t1), so the latency lies in [event - t1, event - t0].
# Also: the CLI's own run time, and task-success exit -> execution process exit.
# Usage: bench/workflow_callback_latency.sh [VQI_BINARY] [RUNS]
#   (default binary: build/release/libs/workflow/vqi_workflow_cli, which has the test resources)
set -euo pipefail
bin=${1:-build/release/libs/workflow/vqi_workflow_cli}
runs=${2:-10}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat >"$dir/def.json" <<'DEF'
{"StartAt": "Approve", "States": {"Approve": {"Type": "Task",
 "Resource": "vqi:test:token.waitForTaskToken", "Parameters": {"token.$": "$$.Task.Token"},
 "End": true}}}
DEF
ms() { date +%s%3N; }
results=()
for i in $(seq 1 "$runs"); do
  rm -f "$dir/tokens"
  VQI_WORKFLOW_TOKEN_FILE="$dir/tokens" "$bin" workflow start --definition "$dir/def.json" \
    --input '{}' --name "run$i" --store "$dir/store.db" >"$dir/run$i.out" 2>>"$dir/start.err" &
  pid=$!
  until [ -s "$dir/tokens" ]; do sleep 0.01; done
  sleep 0.3  # let the execution settle into its wait
  t0=$(ms)
  "$bin" workflow task-success --token "$(head -1 "$dir/tokens")" --output '{}' \
    --store "$dir/store.db" >/dev/null
  t1=$(ms)
  wait "$pid"
  t2=$(ms)
  grep -q SUCCEEDED "$dir/run$i.out" || { echo "run $i did not succeed" >&2; exit 1; }
  ev=$("$bin" workflow history --store "$dir/store.db" --execution "run$i" |
    grep '"type":"TaskSucceeded"' | sed 's/.*"timestamp":\([0-9]*\).*/\1/')
  results+=("$((ev - t1)) $((ev - t0)) $((t1 - t0)) $((t2 - t1))")
done
median() { printf '%s\n' "${results[@]}" | awk -v c="$1" '{print $c}' | sort -n |
  awk '{v[NR]=$1} END {printf "%d", v[int((NR+1)/2)]}'; }
echo "task-success commit -> execution continues: median between $(median 1) and $(median 2) ms;" \
  "task-success CLI run: median $(median 3) ms; CLI exit -> execution process exit: median" \
  "$(median 4) ms; $runs runs"
