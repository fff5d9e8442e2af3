#!/usr/bin/env bash
# Installs every Debian 12 package vqi builds, tests or runs with. Idempotent: does nothing
# (and needs no network) when all are present. Runs apt-get through sudo when not root.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config git ca-certificates ccache
  # base
  nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev libssl-dev libsodium-dev
  libsqlite3-dev sqlite3 libre2-dev libyaml-cpp-dev libcurl4-openssl-dev libcpp-httplib-dev
  libzip-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # benchmark peers (bench/: nginx serves the same artifact as `vqi server`)
  nginx curl
  # data and inference
  libopencv-dev libdnnl-dev libonnx-dev libprotobuf-dev protobuf-compiler
  # JPEG decoding of the inference image path (libjpeg-turbo)
  libjpeg-dev
  # training (libs/train only)
  libtorch-dev
  # transport (later waves; tests start a real broker)
  mosquitto mosquitto-clients libmosquitto-dev
  # fuzzing (clang's libFuzzer runtime)
  clang libclang-rt-14-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Try with the current package lists first; refresh them only if that fails.
if ! $SUDO apt-get install -y --no-install-recommends "${missing[@]}"; then
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
