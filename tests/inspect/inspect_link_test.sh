#!/usr/bin/env bash
# Issue 20: vqi-inspect links the inference core and exactly one backend: no libtorch, no
# exporter (libonnx), no training/dataset/detect code; no OpenCV dnn unless it is the backend.
#   inspect_link_test.sh VQI_INSPECT BACKEND
set -euo pipefail
bin=$1 backend=$2
fail() { echo "FAIL: $*" >&2; exit 1; }

# ldd: everything loaded, also through other libraries (Debian's OpenCV imgcodecs brings GDAL,
# and with it SQLite); readelf: what vqi-inspect itself asks for.
libs=$(ldd "$bin")
needed=$(readelf -d "$bin" | grep NEEDED)
bad='libtorch|libc10|libonnx\.so'
[ "$backend" = onednn ] && bad="$bad|libopencv_dnn"
[ "$backend" = opencv ] && bad="$bad|libdnnl"
if grep -E "$bad" <<<"$libs"; then fail "$bin loads one of: $bad"; fi
if grep -E 'libsqlite3|libmosquitto|libzip|libyaml-cpp|libsodium|libcurl' <<<"$needed"; then
  fail "$bin itself links a control-plane library"
fi
case $backend in
  onednn) grep -q libdnnl <<<"$libs" || fail "$bin does not link oneDNN" ;;
  opencv) grep -q libopencv_dnn <<<"$libs" || fail "$bin does not link OpenCV dnn" ;;
esac

syms=$(nm -C "$bin")
for sym in 'vqi::onnx::' 'vqi::train::' 'vqi::detect::' 'vqi::dataset::' 'torch::' \
           'onnx::checker' 'vqi::sqlite::'; do
  if grep -F "$sym" <<<"$syms" | head -3 | grep -q .; then fail "$bin holds symbols of $sym"; fi
done
if [ "$backend" = onednn ]; then
  grep -qF 'vqi::infer::RegisterOnednnBackend' <<<"$syms" || fail "no oneDNN registration"
  if grep -qF 'vqi::infer::RegisterOpencvBackend' <<<"$syms"; then fail "two backends"; fi
else
  grep -qF 'vqi::infer::RegisterOpencvBackend' <<<"$syms" || fail "no OpenCV registration"
  if grep -qF 'vqi::infer::RegisterOnednnBackend' <<<"$syms"; then fail "two backends"; fi
fi
echo "ok: $bin ($backend) links $(grep -oE 'lib(dnnl|onnx_proto|protobuf|opencv_[a-z]+)[^ ]*' <<<"$libs" | sort -u | tr '\n' ' ')"
