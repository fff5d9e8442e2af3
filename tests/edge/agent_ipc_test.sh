#!/usr/bin/env bash
# Issue 20: the component IPC through the real vqi-agent in local mode (docs/design/ipc.md).
# Component com.ex.Ipc (granted: its results topic) reads its configuration, reports a metric
# (into the metrics file the KPI tracker reads) and its state, measures IPC round trips;
# com.ex.NoGrant is refused a cloud publish and com.ex.Ipc's configuration. Then the agent's
# idle memory with the IPC server running (limits as agent_link_test.sh).
#   agent_ipc_test.sh VQI_AGENT VQI_IPC WORKDIR [MAX_OWN_KB [MAX_RSS_KB]]
set -euo pipefail
agent=$1 ipc=$2 work=$3 max_own_kb=${4:-4096} max_rss_kb=${5:-16384}
fail() { echo "FAIL: $*" >&2; cat "$work/agent.log" >&2 || true; exit 1; }

rm -rf "$work" && mkdir -p "$work/recipes" "$work/artifacts"
cat >"$work/recipes/ipc.json" <<R
{"RecipeFormatVersion": "2020-01-25", "ComponentName": "com.ex.Ipc", "ComponentVersion": "1.0.0",
 "ComponentConfiguration": {"DefaultConfiguration": {"Greeting": "hello",
   "accessControl": {"aws.greengrass.ipc.mqttproxy": {"com.ex.Ipc:mqttproxy:1": {
     "operations": ["aws.greengrass#PublishToIoTCore"], "resources": ["vqi/v1/results/local/com.ex.Ipc"]}}}}},
 "Manifests": [{"Lifecycle": {"run": "$ipc get-config /Greeting >got.txt && $ipc metric defect_rate 0.5 && $ipc state RUNNING && ($ipc publish vqi/v1/results/local/com.ex.Ipc '{\"a\":1}' 2>publish.err || true) && $ipc round-trips 2000 >rt.txt && exec sleep 1000"}}]}
R
cat >"$work/recipes/nogrant.json" <<R
{"RecipeFormatVersion": "2020-01-25", "ComponentName": "com.ex.NoGrant", "ComponentVersion": "1.0.0",
 "ComponentDependencies": {"com.ex.Ipc": {"VersionRequirement": "^1.0.0"}},
 "Manifests": [{"Lifecycle": {"run": "($ipc publish vqi/v1/results/local/com.ex.Ipc '{\"a\":1}' 2>publish.err || true); ($ipc get-config --component com.ex.Ipc 2>config.err || true); exec sleep 1000"}}]}
R
echo '{"components": {"com.ex.NoGrant": {"componentVersion": "1.0.0"}}}' >"$work/d.json"
"$agent" run --root "$work/root" --soak 0.5 2>"$work/agent.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do "$agent" status --root "$work/root" | grep -q 'agent: running' && break; sleep 0.1; done
out=$("$agent" deploy --root "$work/root" --file "$work/d.json" --recipes "$work/recipes" \
      --artifacts "$work/artifacts" --wait 30) || fail "deploy: $out"
grep -q SUCCEEDED <<<"$out" || fail "deploy: $out"
w="$work/root/work"
for _ in $(seq 100); do [ -s "$w/com.ex.Ipc/rt.txt" ] && [ -s "$w/com.ex.NoGrant/config.err" ] && break; sleep 0.1; done
[ "$(cat "$w/com.ex.Ipc/got.txt")" = '"hello"' ] || fail "get-config: $(cat "$w/com.ex.Ipc/got.txt")"
grep -q '"metric":"defect_rate","value":0.5' "$w/com.ex.Ipc/metrics.jsonl" || fail "metric not in metrics.jsonl"
# Local mode has no broker and no spool: a granted cloud publish is Unavailable, not refused.
grep -q '^vqi-ipc: Unavailable' "$w/com.ex.Ipc/publish.err" || fail "granted publish: $(cat "$w/com.ex.Ipc/publish.err")"
grep -q '^vqi-ipc: PermissionDenied: .*accessControl' "$w/com.ex.NoGrant/publish.err" || fail "ungranted publish: $(cat "$w/com.ex.NoGrant/publish.err")"
grep -q '^vqi-ipc: PermissionDenied' "$w/com.ex.NoGrant/config.err" || fail "other's config: $(cat "$w/com.ex.NoGrant/config.err")"
echo "ipc: $(cat "$w/com.ex.Ipc/rt.txt")"
sleep 2  # idle
rss=$(awk '/^Rss:/ {print $2}' "/proc/$pid/smaps_rollup")
pss=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup")
own=$(awk '/^Private_Dirty:/ {print $2}' "/proc/$pid/smaps_rollup")
echo "idle with 2 components and the IPC server: RSS ${rss} kB, PSS ${pss} kB, own (Private_Dirty) ${own} kB (limits: own ${max_own_kb} kB, RSS ${max_rss_kb} kB)"
# PSS depends on how many other processes map the same libraries (docs/resource-limits.md);
# the gates are the agent's own memory and every resident page, which do not.
[ "$own" -le "$max_own_kb" ] || fail "idle own memory ${own} kB is above ${max_own_kb} kB"
[ "$rss" -le "$max_rss_kb" ] || fail "idle RSS ${rss} kB is above ${max_rss_kb} kB"
kill -TERM $pid && wait $pid || fail "vqi-agent did not exit 0 on SIGTERM"
trap - EXIT
[ ! -e "$work/root/ipc.socket" ] || fail "socket left behind"
rm -rf "$work"
echo ok
