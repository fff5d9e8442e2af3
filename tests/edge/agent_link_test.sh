#!/usr/bin/env bash
# Issue 19: vqi-agent links neither libtorch nor OpenCV (nor the training, ONNX, dataset,
# inference, server, SQLite or CA code): checks the binary's shared libraries (ldd) and symbols
# (nm), then runs it with a small set (two components, local mode) and reports its idle memory
# (RSS, PSS and its own Private_Dirty from /proc/<pid>/smaps_rollup). Fails when idle, its own
# memory is above MAX_OWN_KB (4 MB) or every resident page above MAX_RSS_KB (16 MB). The same
# with MQTT connected: tests/agent/agent_net_test.cc.
#   agent_link_test.sh VQI_AGENT WORKDIR [MAX_OWN_KB [MAX_RSS_KB]]
set -euo pipefail
agent=$1 work=$2 max_own_kb=${3:-4096} max_rss_kb=${4:-16384}
fail() { echo "FAIL: $*" >&2; exit 1; }

libs=$(ldd "$agent")
for bad in libtorch libc10 libopencv 'libonnx' libdnnl libgomp libsqlite; do
  if grep -E "$bad" <<<"$libs"; then fail "$agent links $bad"; fi
done
syms=$(nm -C "$agent")
for bad in 'vqi::onnx::' 'vqi::train::' 'vqi::detect::' 'vqi::dataset::' 'vqi::infer::' \
           'vqi::registry::' 'vqi::server::' 'cv::' 'torch::' 'c10::' \
           'httplib::' 'vqi::sqlite::' 'vqi::blob::' 'vqi::pki::' 'vqi::fleet::FleetStore' \
           'vqi::fleet::Controller'; do
  if grep -qF "$bad" <<<"$syms"; then fail "$agent holds symbols of $bad"; fi
done
grep -qF 'vqi::agent::Engine' <<<"$syms" || fail "no agent engine in $agent"
# The network side is in (run --bundle): MQTT (libmosquitto) and downloads (libcurl).
grep -qF 'vqi::agent::NetAgent' <<<"$syms" || fail "no network side in $agent"
for lib in libmosquitto libcurl; do grep -q "$lib" <<<"$libs" || fail "$agent does not link $lib"; done
echo "links: $(grep -oE '^\s*lib[^ ]+' <<<"$libs" | tr -d '\t' | sort | tr '\n' ' ')"

rm -rf "$work" && mkdir -p "$work/recipes" "$work/artifacts/com.ex.Model/1.0.0"
echo weights >"$work/artifacts/com.ex.Model/1.0.0/model.bin"
cat >"$work/recipes/model.json" <<'R'
{"RecipeFormatVersion": "2020-01-25", "ComponentName": "com.ex.Model", "ComponentVersion": "1.0.0",
 "Manifests": [{"Artifacts": [{"URI": "s3://b/model.bin"}], "Lifecycle": {}}]}
R
cat >"$work/recipes/program.json" <<'R'
{"RecipeFormatVersion": "2020-01-25", "ComponentName": "com.ex.Program", "ComponentVersion": "1.0.0",
 "ComponentDependencies": {"com.ex.Model": {"VersionRequirement": "^1.0.0"}},
 "Manifests": [{"Lifecycle": {"run": "exec sleep 1000"}}]}
R
echo '{"components": {"com.ex.Program": {"componentVersion": "1.0.0"}}}' >"$work/d.json"
"$agent" run --root "$work/root" --soak 0.5 2>"$work/agent.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do "$agent" status --root "$work/root" | grep -q 'agent: running' && break; sleep 0.1; done
out=$("$agent" deploy --root "$work/root" --file "$work/d.json" --recipes "$work/recipes" \
      --artifacts "$work/artifacts" --wait 30) || fail "deploy: $out"
grep -q SUCCEEDED <<<"$out" || fail "deploy: $out"
sleep 2  # idle: the set runs, no deployment
rss=$(awk '/^Rss:/ {print $2}' "/proc/$pid/smaps_rollup")
pss=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup")
own=$(awk '/^Private_Dirty:/ {print $2}' "/proc/$pid/smaps_rollup")
echo "idle with 2 components: RSS ${rss} kB, PSS ${pss} kB, own (Private_Dirty) ${own} kB (limits: own ${max_own_kb} kB, RSS ${max_rss_kb} kB)"
# PSS depends on how many other processes map the same libraries (docs/resource-limits.md);
# the gates are the agent's own memory and every resident page, which do not.
[ "$own" -le "$max_own_kb" ] || fail "idle own memory ${own} kB is above ${max_own_kb} kB"
[ "$rss" -le "$max_rss_kb" ] || fail "idle RSS ${rss} kB is above ${max_rss_kb} kB"
kill -TERM $pid && wait $pid || fail "vqi-agent did not exit 0 on SIGTERM"
trap - EXIT
rm -rf "$work"
echo ok
