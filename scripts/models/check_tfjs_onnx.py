"""Check a converted ONNX model against its TensorFlow.js original on the same inputs.

Writes inputs, runs the original with TF.js (run_tfjs.mjs, node) and the ONNX model with
onnxruntime, and prints the largest absolute difference per output.
Usage: python check_tfjs_onnx.py MODEL.json MODEL.onnx NODE_DIR [IMAGE...]
Inputs: random images and, if given, real images (RGB / 255 at the model's input size)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnxruntime as ort
import tensorflow as tf


def main() -> int:
    model_json, model_onnx, node_dir, *images = sys.argv[1:]
    session = ort.InferenceSession(model_onnx, providers=["CPUExecutionProvider"])
    (inp,) = session.get_inputs()
    shape = [int(d) for d in inp.shape]
    nchw = shape[1] == 3
    side = shape[2] if nchw else shape[1]
    rng = np.random.default_rng(0)
    inputs = [rng.uniform(0, 1, shape).astype(np.float32) for _ in range(2)]
    for image in images:
        decoded = tf.io.decode_image(Path(image).read_bytes(), channels=3, expand_animations=False)
        rgb = tf.image.resize(tf.cast(decoded, tf.float32), (side, side)).numpy() / 255
        inputs.append((rgb.transpose(2, 0, 1) if nchw else rgb)[None].astype(np.float32))
    # ES modules resolve packages from the script's folder: run a copy inside node_dir
    script = Path(node_dir) / "run_tfjs.mjs"
    shutil.copyfile(Path(__file__).with_name("run_tfjs.mjs"), script)
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for k, x in enumerate(inputs):
            x.tofile(f"{tmp}/in{k}.f32")
            subprocess.run(
                ["node", str(script), model_json, f"{tmp}/in{k}.f32",
                 ",".join(map(str, shape)), f"{tmp}/out{k}"],
                check=True, cwd=node_dir,
            )  # fmt: skip
            meta = json.loads(Path(f"{tmp}/out{k}/outputs.json").read_text())
            names = [o.name for o in session.get_outputs()]
            got = dict(zip(names, session.run(None, {inp.name: x}), strict=True))
            for name, info in meta.items():
                expected = np.fromfile(f"{tmp}/out{k}/{info['file']}", np.float32)
                onnx_out = got[name].reshape(-1)
                diff = float(np.abs(expected - onnx_out).max())
                worst = max(worst, diff)
                print(f"input {k} output {name} {info['shape']}: max |TF.js - ONNX| {diff:.2e}")
    print(f"{Path(model_onnx).name}: largest difference over {len(inputs)} inputs {worst:.2e}")
    return 0 if worst < 1e-3 else 1


if __name__ == "__main__":
    sys.exit(main())
