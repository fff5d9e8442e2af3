#!/usr/bin/env bash
# The fleet step of the demo (issue 19), on loopback: a Mosquitto broker (`vqi broker run`), the
# control plane with its fleet controller (`vqi server --mqtt --tls-auto`), one thing and its
# agent (`vqi-agent run --bundle`), and a deployment of the model component plus a tiny
# inspection stub that depends on it. Waits for SUCCEEDED, prints the status, stops everything.
#
# Then (issue 20), when vqi-inspect and its shipped recipe are there: the inspection component
# `vqi.inspect` (components/recipes/vqi-inspect.yaml) deployed with the model, a simulated camera
# for three seconds, and the results the control plane received (`vqi results tail|stats`).
#
# Usage: demo_fleet.sh VQI VQI_AGENT HOME MODEL_COMPONENT MODEL_VERSION KEY [IMAGES]
#   (run by scripts/demo.sh; standalone on any home holding a signed component and a key;
#   IMAGES: a folder of camera images, default 15 synthetic tags)
set -euo pipefail
VQI=$(realpath "$1")
AGENT=$(realpath "$2")
HOME_DIR=$3
MODEL=$4
MODEL_VERSION=$5
KEY=$6
IMAGES=${7:-}
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

# Inspection on the device (issue 20): vqi.inspect with the model, a simulated camera, results.
INSPECT_BIN=$(dirname "$VQI")/../inspect/vqi-inspect
RECIPE=$(cd "$(dirname "$0")/.." && pwd)/components/recipes/vqi-inspect.yaml
INSPECTED=""
if [ "$STATUS" = "SUCCEEDED" ] && [ -x "$INSPECT_BIN" ] && [ -f "$RECIPE" ]; then
  printf '\n\033[1m== %s\033[0m\n' "Inspect: vqi-inspect on the device, a simulated camera, results over MQTT"
  v component create --recipe "$RECIPE" --artifact "$(realpath "$INSPECT_BIN")" \
    --var COMPONENT_VERSION=1.0.0 --var MODEL_GROUP="${MODEL#vqi.model.}" --key "$KEY"
  CAMERA=$OUT/camera
  mkdir -p "$CAMERA" "$OUT/camera-feed"
  if [ -z "$IMAGES" ] || [ ! -d "$IMAGES" ] ||
    [ -z "$(find "$IMAGES" -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' \) | head -n 1)" ]; then
    v dataset synth --count 15 --seed 5 --out "$OUT/camera-src" > /dev/null
    IMAGES=$OUT/camera-src/images
  fi
  # The first 15 images below IMAGES (the metal-tag set keeps them in per-capture subfolders),
  # numbered so that equal names in different folders stay apart.
  i=0
  while IFS= read -r f; do
    i=$((i + 1))
    cp "$f" "$OUT/camera-feed/$(printf '%02d' "$i")-$(basename "$f")"
  done < <(find "$IMAGES" -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' \) | sort | head -n 15)
  FEED=$(find "$OUT/camera-feed" -type f | wc -l)
  python3 - "$MODEL" "$MODEL_VERSION" "$CAMERA" > "$OUT/inspect-deployment.json" <<'PY'
import json, sys
model, version, camera = sys.argv[1:4]
print(json.dumps({"deploymentName": "demo: model + vqi-inspect",
                  "components": {model: {"componentVersion": version},
                                 "vqi.inspect": {"componentVersion": "1.0.0", "configurationUpdate": {
                                     "merge": json.dumps({"ImageDirectory": camera, "SettleSeconds": 0.5})}}},
                  "deploymentPolicies": {"failureHandlingPolicy": "ROLLBACK"}}))
PY
  ID2=$("$VQI" --home "$HOME_DIR" deployment create --target group:demo-line \
    --file "$OUT/inspect-deployment.json" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
  echo "+ vqi deployment create --target group:demo-line --file inspect-deployment.json  → $ID2"
  STATUS2=""
  for _ in $(seq 120); do
    STATUS2=$("$VQI" --home "$HOME_DIR" deployment status "$ID2" --json |
      python3 -c 'import json, sys; print(" ".join(d["status"] for d in json.load(sys.stdin)["devices"]))')
    case "$STATUS2" in QUEUED | IN_PROGRESS | "") sleep 0.5 ;; *) break ;; esac
  done
  echo "$ID2 on $THING: $STATUS2"
  N=0
  if [ "$STATUS2" = "SUCCEEDED" ]; then
    v camera simulate --from "$OUT/camera-feed" --to "$CAMERA" --fps 5
    for _ in $(seq 60); do
      N=$("$VQI" --home "$HOME_DIR" results stats --json |
        python3 -c 'import json, sys; print(sum(t["images"] for t in json.load(sys.stdin)))' 2>/dev/null || echo 0)
      [ "$N" -ge "$FEED" ] && break
      sleep 0.5
    done
    v results tail --limit 5
    v results stats
  fi
  if [ "$N" -lt "$FEED" ] || [ "$FEED" = 0 ]; then
    echo "the inspection step did not deliver every result ($STATUS2, $N of $FEED); logs in $OUT" >&2
    tail -n 30 "$OUT/agent.log" "$OUT/agent/logs/vqi.inspect.log" >&2 || true
    exit 1  # the EXIT trap stops everything
  fi
  INSPECTED="$N of $FEED camera images inspected on the device and received by the control plane"
fi

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
if [ -n "$INSPECTED" ]; then echo "inspection step: $INSPECTED"; fi
