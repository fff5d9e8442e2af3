#!/usr/bin/env bash
# Issue 17, acceptance 1: vqi-infer-min links the inference core, the oneDNN backend and the
# lower layer only. Checks the binary itself: its shared libraries (ldd) and its symbols (nm),
# then runs it on a generated model and image.
#   edge_link_test.sh VQI_INFER_MIN VQI WORKDIR
set -euo pipefail
min=$1 vqi=$2 work=$3
fail() { echo "FAIL: $*" >&2; exit 1; }

libs=$(ldd "$min")
for bad in libtorch libc10 libopencv_dnn 'libonnx\.so'; do
  if grep -E "$bad" <<<"$libs"; then fail "$min links $bad"; fi
done
grep -q libdnnl <<<"$libs" || fail "$min does not link oneDNN (libdnnl)"
grep -q libopencv_dnn <<<"$(ldd "$vqi")" || echo "note: vqi itself has no OpenCV dnn (VQI_WITH_OPENCV_DNN=OFF)"

syms=$(nm -C "$min")
for bad in 'vqi::onnx::' 'vqi::train::' 'vqi::detect::' 'vqi::dataset::' 'cv::dnn::' 'torch::' 'onnx::checker' 'onnx::shape_inference'; do
  if grep -F "$bad" <<<"$syms" | head -3 | grep -q .; then fail "$min holds symbols of $bad"; fi
done
grep -qF 'vqi::infer::RegisterOnednnBackend' <<<"$syms" || fail "no oneDNN registration in $min"
echo "links: $(grep -oE 'lib(dnnl|onnx_proto|protobuf|opencv_[a-z]+)[^ ]*' <<<"$libs" | sort -u | tr '\n' ' ')"

# Runs: a random-weight model from the full vqi, one synthesized tag image.
rm -rf "$work" && mkdir -p "$work"
"$vqi" model export --random t --imgsz 96x64 --seed 3 --out "$work/m.onnx" >/dev/null
"$vqi" dataset synth --count 1 --seed 1 --out "$work/s" >/dev/null
img=$(ls "$work"/s/images/* | head -1)
out=$("$min" "$work/m.onnx" "$img" --conf 0.001)
grep -q '"detections":\[{"box"' <<<"$out" || fail "no detections printed: $out"
set +e
"$min" "$work" "$img" 2>"$work/err"; rc=$?
set -e
[ "$rc" = 1 ] && grep -q "is a directory" "$work/err" || fail "a directory as model: rc $rc, $(cat "$work/err")"
echo "ok: $(wc -c <<<"$out") bytes of detections"
rm -rf "$work"
