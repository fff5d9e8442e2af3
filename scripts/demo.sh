#!/usr/bin/env bash
# The end-to-end demo on embedded defaults, in a throw-away vqi home. Every capability
# landed so far, chained as a newcomer would run it.
set -euo pipefail
VQI=${1:-build/release/apps/vqi/vqi}
VQI=$(realpath "$VQI")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HOME_DIR=${VQI_DEMO_HOME:-$ROOT/.vqi-demo}
SHARED=${VQI_SHARED_DIR:-$ROOT/../shared}
rm -rf "$HOME_DIR"
mkdir -p "$HOME_DIR"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
v() { echo "+ vqi $*"; "$VQI" --home "$HOME_DIR" "$@"; }

step "vqi $("$VQI" --version)"
