#!/usr/bin/env bash
# The fleet step of the demo (issue 19), on loopback: a Mosquitto broker (`vqi broker run`), the
# control plane with its fleet controller (`vqi server --mqtt --tls-auto`), one thing and its
# agent (`vqi-agent run --bundle`), and a deployment of the model component plus a tiny
# inspection stub that depends on it. Waits for SUCCEEDED, prints the status, stops everything.
#
# Usage: demo_fleet.sh VQI VQI_AGENT HOME MODEL_COMPONENT MODEL_VERSION KEY
#   (run by scripts/demo.sh; standalone on any home holding a signed component and a key)
set -euo pipefail
VQI=$(realpath "$1")
AGENT=$(realpath "$2")
HOME_DIR=$3
MODEL=$4
MODEL_VERSION=$5
KEY=$6
OUT=$HOME_DIR/demo/fleet
THING=demo-cam-1
rm -rf "$OUT"
mkdir -p "$OUT"

v() { echo "+ vqi $*"; "$VQI" --home "$HOME_DIR" "$@"; }
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# wait_for FILE TEXT SECONDS PID: until FILE contains TEXT (fails when PID ends first).
wait_for() {
  for _ in $(seq $(($3 * 10))); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$4" 2>/dev/null || break
    sleep 0.1
  done
  echo "timed out waiting for '$2' in $1:" >&2
  tail -n 20 "$1" >&2
  return 1
}

AGENT_PID="" SERVER_PID="" BROKER_PID="" UNCLEAN=""
stop_one() {  # NAME PID: SIGTERM and wait; an exit code other than 0 is reported
  [ -n "$2" ] || return 0
  kill -TERM "$2" 2>/dev/null || true
  local rc=0
  wait "$2" 2>/dev/null || rc=$?
  if [ "$rc" != 0 ]; then UNCLEAN="$UNCLEAN $1(exit $rc)"; fi
}
stop() {  # the agent first (it stops its components), then the server, then the broker
  stop_one vqi-agent "$AGENT_PID"
  stop_one "vqi server" "$SERVER_PID"
  stop_one "vqi broker" "$BROKER_PID"
  AGENT_PID="" SERVER_PID="" BROKER_PID=""
}
trap stop EXIT

# The inspection stub: a program component with a HARD dependency on the model; its run script
# gets the model's folder through a recipe variable (as a real inference component would).
STUB=$OUT/stub
mkdir -p "$STUB"
cat > "$STUB/inspect.sh" <<'EOF'
#!/bin/sh
# inspection stub: proves it sees the deployed model, then idles like a long-running inspector
model="$1/model.onnx"
echo "inspection stub: model $model ($(wc -c < "$model") bytes, sha256 $(sha256sum "$model" | cut -c1-16)...)"
exec sleep 86400
EOF
cat > "$STUB/recipe.json" <<EOF
{"RecipeFormatVersion": "2020-01-25", "ComponentName": "com.example.InspectStub",
 "ComponentVersion": "1.0.0", "ComponentPublisher": "vqi demo",
 "ComponentDescription": "A stand-in for the inspection program: reads the model, then idles.",
 "ComponentDependencies": {"$MODEL": {"VersionRequirement": ">=$MODEL_VERSION", "DependencyType": "HARD"}},
 "Manifests": [{"Platform": {"os": "linux"},
   "Lifecycle": {"run": "sh {artifacts:path}/inspect.sh {$MODEL:artifacts:path}"},
   "Artifacts": [{"Uri": "s3://demo/inspect.sh"}]}]}
EOF
v component create --recipe "$STUB/recipe.json" --artifact "$STUB/inspect.sh" --key "$KEY"

BROKER_PORT=$(free_port)
SERVER_PORT=$(free_port)
v thing create "$THING" --group demo-line --broker "127.0.0.1:$BROKER_PORT" \
  --server "https://127.0.0.1:$SERVER_PORT"

echo "+ vqi broker run --port $BROKER_PORT &"
"$VQI" --home "$HOME_DIR" broker run --port "$BROKER_PORT" > "$OUT/broker.log" 2>&1 &
BROKER_PID=$!
wait_for "$OUT/broker.log" "broker: listening on" 20 "$BROKER_PID"

echo "+ vqi server --port $SERVER_PORT --mqtt 127.0.0.1:$BROKER_PORT --tls-auto &"
"$VQI" --home "$HOME_DIR" server --port "$SERVER_PORT" --mqtt "127.0.0.1:$BROKER_PORT" \
  --tls-auto > "$OUT/server.log" 2>&1 &
SERVER_PID=$!
wait_for "$OUT/server.log" "listening on https://" 30 "$SERVER_PID"

echo "+ vqi-agent run --root $OUT/agent --bundle $HOME_DIR/fleet/bundles/$THING --soak 2 --heartbeat 1 &"
"$AGENT" run --root "$OUT/agent" --bundle "$HOME_DIR/fleet/bundles/$THING" --soak 2 --heartbeat 1 \
  > "$OUT/agent.log" 2>&1 &
AGENT_PID=$!

cat > "$OUT/deployment.json" <<EOF
{"deploymentName": "demo: model + inspection stub",
 "components": {"$MODEL": {"componentVersion": "$MODEL_VERSION"},
                "com.example.InspectStub": {"componentVersion": "1.0.0"}},
 "deploymentPolicies": {"failureHandlingPolicy": "ROLLBACK"}}
EOF
START=$(date +%s.%N)
ID=$("$VQI" --home "$HOME_DIR" deployment create --target group:demo-line \
  --file "$OUT/deployment.json" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
echo "+ vqi deployment create --target group:demo-line --file deployment.json  → $ID"

STATUS=""
for _ in $(seq 120); do
  STATUS=$("$VQI" --home "$HOME_DIR" deployment status "$ID" --json |
    python3 -c 'import json, sys; print(" ".join(d["status"] for d in json.load(sys.stdin)["devices"]))')
  case "$STATUS" in QUEUED | IN_PROGRESS | "") sleep 0.5 ;; *) break ;; esac
done
echo "$ID on $THING: $STATUS after $(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$START" "$(date +%s.%N)") s"
v deployment status "$ID"
v thing show "$THING"
echo "+ vqi-agent status --root $OUT/agent"
"$AGENT" status --root "$OUT/agent"
echo "+ tail -n 1 $OUT/agent/logs/com.example.InspectStub.log"
tail -n 1 "$OUT/agent/logs/com.example.InspectStub.log" 2>/dev/null || true
stop
trap - EXIT
if [ "$STATUS" != "SUCCEEDED" ]; then
  echo "the fleet deployment did not succeed ($STATUS); logs in $OUT" >&2
  tail -n 30 "$OUT/agent.log" "$OUT/server.log" >&2
  exit 1
fi
if [ -n "$UNCLEAN" ]; then
  echo "fleet step: not stopped cleanly:$UNCLEAN; logs in $OUT" >&2
  exit 1
fi
echo "fleet step: agent, server and broker stopped cleanly (exit 0 after SIGTERM)"
