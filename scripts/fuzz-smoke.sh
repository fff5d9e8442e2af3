#!/usr/bin/env bash
# `make fuzz-smoke`: builds every libFuzzer target named in fuzz/targets.txt with clang
# (-DVQI_FUZZ=ON, ASan + UBSan) in build/fuzz, then runs each for FUZZ_SECONDS (default 30) on
# its corpus fuzz/corpus/<folder>. Fails on any crash, leak, sanitizer report or timeout; the
# input that failed is kept in build/fuzz/artifacts/. The checked-in corpus is only read: new
# inputs go to build/fuzz/corpus/<target>.
#   FUZZ_SECONDS=300 make fuzz-smoke        longer runs
#   FUZZ_TARGETS="safetensors_fuzz" ...     a subset
#   FUZZ_TIMEOUT=60 ...                      seconds one input may take (default 10). libFuzzer
#                                            measures wall-clock time: on a machine busy with
#                                            other work (or a reniced campaign) raise it, or
#                                            starved runs report timeouts that are not bugs
#                                            (re-run a timeout's input alone to tell).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-30}
timeout=${FUZZ_TIMEOUT:-10}
build=${FUZZ_BUILD:-build/fuzz}
jobs=${JOBS:-$(nproc)}

names=()
corpora=()
while read -r name corpus _; do
  [[ -z "${name}" || "${name}" == \#* ]] && continue
  if [[ -n "${FUZZ_TARGETS:-}" && " ${FUZZ_TARGETS} " != *" ${name} "* ]]; then continue; fi
  names+=("${name}")
  corpora+=("${corpus:-${name}}")
done < fuzz/targets.txt
[[ ${#names[@]} -gt 0 ]] || { echo "fuzz-smoke: no targets selected" >&2; exit 1; }

if [[ ! -f "${build}/build.ninja" ]]; then
  cmake -S . -B "${build}" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DVQI_FUZZ=ON \
    -DVQI_WITH_TRAIN=OFF -DVQI_WITH_OPENCV_DNN=OFF >/dev/null
fi
# Only the fuzz targets and what they link are built (no libtorch).
cmake --build "${build}" -j "${jobs}" --target "${names[@]}"

mkdir -p "${build}/artifacts"
failed=()
for i in "${!names[@]}"; do
  name=${names[$i]}
  exe=$(find "${build}" -type f -name "${name}" -perm -u+x | head -n 1)
  [[ -n "${exe}" ]] || { echo "fuzz-smoke: ${name} was not built" >&2; failed+=("${name}"); continue; }
  seeds=fuzz/corpus/${corpora[$i]}
  work=${build}/corpus/${name}
  mkdir -p "${work}" "${seeds}"
  echo "== ${name}: ${seconds} s on ${seeds} ($(ls "${seeds}" | wc -l) seeds)"
  if ! "${exe}" "${work}" "${seeds}" -max_total_time="${seconds}" -timeout="${timeout}" \
      -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
      -artifact_prefix="${build}/artifacts/${name}-" 2>"${build}/${name}.log"; then
    tail -n 40 "${build}/${name}.log" >&2
    failed+=("${name}")
  fi
  grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb)|^#[0-9]+ *DONE" \
    "${build}/${name}.log" || true
  echo "   corpus: $(ls "${work}" | wc -l) inputs in ${work}"
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz-smoke: FAILED: ${failed[*]} (inputs in ${build}/artifacts/)" >&2
  exit 1
fi
echo "fuzz-smoke: ${#names[@]} targets, ${seconds} s each, no crash"
