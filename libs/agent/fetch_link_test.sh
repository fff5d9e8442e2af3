#!/usr/bin/env bash
# The device side of downloads links base, component, signing and libcurl only: no libtorch,
# OpenCV or cpp-httplib (issue 19). Checks the binary itself (ldd, nm) and runs it once.
#   fetch_link_test.sh VQI_FETCH_MIN WORKDIR
set -euo pipefail
bin=$1 work=$2
fail() { echo "FAIL: $*" >&2; exit 1; }

libs=$(ldd "$bin")
for bad in libtorch libc10 libopencv libcpp-httplib libdnnl 'libonnx'; do
  if grep -E "$bad" <<<"$libs"; then fail "$bin links $bad"; fi
done
grep -q libcurl <<<"$libs" || fail "$bin does not link libcurl"
syms=$(nm -C "$bin")
for bad in 'httplib::' 'torch::' 'cv::' 'vqi::infer::' 'vqi::server::' 'vqi::registry::' 'vqi::sqlite::'; do
  if grep -F "$bad" <<<"$syms" | head -3 | grep -q .; then fail "$bin holds symbols of $bad"; fi
done
echo "links: $(grep -oE 'lib(curl|sodium|ssl|crypto|yaml-cpp|zip)[^ ]*' <<<"$libs" | sort -u | tr '\n' ' ')"

rm -rf "$work" && mkdir -p "$work"
set +e
"$bin" "$work/none" "$work/root" c 1.0.0 2>"$work/err"; rc=$?
set -e
[ "$rc" = 1 ] && grep -q "is not a folder" "$work/err" || fail "a missing bundle: rc $rc, $(cat "$work/err")"
echo "ok: $(stat -c %s "$bin") bytes"
rm -rf "$work"
