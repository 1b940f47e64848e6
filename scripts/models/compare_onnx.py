"""Compare two ONNX models output by output on the same random inputs (tf2onnx does not write
byte-identical files from run to run, so a fresh conversion is checked by its outputs).
Usage: python compare_onnx.py A.onnx B.onnx [N,C,H,W]  (the input shape, needed where the
model's height and width are symbolic; a symbolic batch is 2 otherwise)"""

from __future__ import annotations

import sys

import numpy as np
import onnxruntime as ort


def main() -> int:
    a, b = (ort.InferenceSession(p, providers=["CPUExecutionProvider"]) for p in sys.argv[1:3])
    (inp,) = a.get_inputs()
    if len(sys.argv) > 3:
        shape = [int(v) for v in sys.argv[3].split(",")]
    else:
        shape = [d if isinstance(d, int) else 2 for d in inp.shape]  # a batch of 2 if dynamic
    rng = np.random.default_rng(1)
    worst = 0.0
    for _ in range(3):
        x = rng.uniform(-1, 1, shape).astype(np.float32)
        outputs = zip(a.run(None, {inp.name: x}), b.run(None, {inp.name: x}), strict=True)
        for got_a, got_b in outputs:
            worst = max(worst, float(np.abs(got_a - got_b).max()))
    print(f"{sys.argv[2]}: max |committed - fresh| {worst:.2e} over 3 random inputs")
    return 0 if worst < 1e-5 else 1


if __name__ == "__main__":
    sys.exit(main())
