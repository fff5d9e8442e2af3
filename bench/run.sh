#!/usr/bin/env bash
# Runs every benchmark that is built. Usage: bench/run.sh BUILD_DIR
set -uo pipefail
BUILD=${1:-build/release}
for b in "$BUILD"/bench/*_bench; do
  [ -x "$b" ] || continue
  echo "== $(basename "$b")"
  "$b" || echo "(failed: $b)"
done
