"""NanoDet for any input size, in int8.

1. The converted model (fixed 1 x 3 x 416 x 416) is made to take any batch and any height and
   width that are multiples of 32: the input's dimensions become symbolic, the six output
   Reshapes keep the batch (shape (0, C, -1) instead of (1, C, -1) computed from constants) and
   each TF "SAME" Pad node is folded into the Conv or MaxPool after it (zeros before a Conv,
   -inf before the MaxPool: exactly what their own pads do). Checked against the original on
   416 x 416 inputs.
2. That model is quantised statically with onnxruntime.quantization: QDQ, int8 weights per
   output channel, uint8 activations calibrated with MinMax on CALIB.npy (uint8 RGB images,
   scripts/models/calibration_inputs.py, none from vtest.avi), except the class scores (the
   Sigmoids' outputs), which keep their whole range 0-1: calibrated, they would end at the
   highest score the calibration images happened to give (0.58 at stride 8).

Run with the tools environment (onnx, onnxruntime). Usage:
    python nanodet_int8.py nanodet.onnx CALIB.npy OUT.onnx"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper
from onnx.utils import Extractor
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process


def any_size(model: onnx.ModelProto) -> onnx.ModelProto:
    graph = model.graph
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    producer = {out: node for node in graph.node for out in node.output}
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)

    # outputs: (batch, C, cells) reshapes that keep the batch
    for node in graph.node:
        if node.op_type != "Reshape":
            continue
        channels = 80 if producer[node.input[0]].op_type == "Sigmoid" else 44
        name = f"reshape_keep_batch_{channels}"
        if name not in inits:
            inits[name] = np.array([0, channels, -1], np.int64)
            graph.initializer.append(numpy_helper.from_array(inits[name], name))
        node.input[1] = name

    # TF's explicit Pad nodes into the pads of the Conv / MaxPool that follows
    folded = []
    for node in graph.node:
        if node.op_type != "Pad":
            continue
        (after,) = consumers[node.output[0]]
        pads = inits[node.input[1]]
        value = inits[node.input[2]] if len(node.input) > 2 and node.input[2] else np.float32(0)
        mode = [a.s for a in node.attribute if a.name == "mode"]
        if mode not in ([], [b"constant"]) or pads[[0, 1, 4, 5]].any():
            raise SystemExit(f"{node.name}: a Pad over batch or channels, or not constant")
        if (after.op_type, float(value)) not in (("Conv", 0.0), ("MaxPool", -np.inf)):
            raise SystemExit(f"{node.name}: Pad with {value} before {after.op_type}")
        attrs = {a.name: a for a in after.attribute}
        if any(helper.get_attribute_value(attrs["pads"])) if "pads" in attrs else False:
            raise SystemExit(f"{after.name} already pads")
        if "auto_pad" in attrs and attrs["auto_pad"].s not in (b"NOTSET", b"VALID"):
            raise SystemExit(f"{after.name}: auto_pad {attrs['auto_pad'].s}")
        for attr in [a for a in after.attribute if a.name in ("pads", "auto_pad")]:
            after.attribute.remove(attr)
        top, left, bottom, right = int(pads[2]), int(pads[3]), int(pads[6]), int(pads[7])
        after.attribute.append(helper.make_attribute("pads", [top, left, bottom, right]))
        after.input[0] = node.input[0]
        folded.append(node)
    for node in folded:
        graph.node.remove(node)

    for dim, name in zip(graph.input[0].type.tensor_type.shape.dim, ("batch", None, "height",
                         "width"), strict=True):  # fmt: skip
        if name:
            dim.ClearField("dim_value")
            dim.dim_param = name
    for output in graph.output:
        for dim, name in zip(output.type.tensor_type.shape.dim, ("batch", "cells", None),
                             strict=True):  # fmt: skip
            if name:
                dim.ClearField("dim_value")
                dim.dim_param = name
    # drop what only computed the old reshape shapes
    model = Extractor(model).extract_model([graph.input[0].name], [o.name for o in graph.output])
    onnx.checker.check_model(model, full_check=True)
    print(f"nanodet_int8: any input size; {len(folded)} Pad nodes folded")
    return model


def session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def check_same(original: Path, changed: Path) -> None:
    a, b = session(original), session(changed)
    names = [o.name for o in a.get_outputs()]
    x = np.random.default_rng(0).uniform(0, 1, (2, 3, 416, 416)).astype(np.float32)
    one = [a.run(names, {a.get_inputs()[0].name: x[i : i + 1]}) for i in range(2)]
    both = b.run(names, {b.get_inputs()[0].name: x})
    worst = max(
        float(np.abs(np.concatenate([one[0][k], one[1][k]]) - both[k]).max())
        for k in range(len(names))
    )
    print(f"nanodet_int8: any-size model against the original, batch of 2: max |diff| {worst:.1e}")
    if worst > 1e-4:
        raise SystemExit("nanodet_int8: the any-size model does not compute what the original does")


class Mosaics(CalibrationDataReader):
    def __init__(self, images: np.ndarray, input_name: str) -> None:
        self._items = iter(
            {input_name: (image.astype(np.float32) / 255.0).transpose(2, 0, 1)[None]}
            for image in images
        )

    def get_next(self):
        return next(self._items, None)


def main() -> int:
    source, calibration, out = (Path(p) for p in sys.argv[1:4])
    images = np.load(calibration)
    with tempfile.TemporaryDirectory() as tmp:
        float_model = Path(tmp) / "any_size.onnx"
        onnx.save(any_size(onnx.load(source)), float_model)
        check_same(source, float_model)
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(float_model), str(prepared), skip_symbolic_shape=True)
        input_name = session(prepared).get_inputs()[0].name
        scores = [n.output[0] for n in onnx.load(prepared).graph.node if n.op_type == "Sigmoid"]
        whole_range = [{"rmin": np.float32(0.0), "rmax": np.float32(1.0)}]
        quantize_static(
            str(prepared),
            str(out),
            Mosaics(images, input_name),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
            extra_options={"TensorQuantOverrides": {name: whole_range for name in scores}},
        )
        # how far int8 is from float on the calibration images (person scores)
        a, b = session(float_model), session(out)
        worst, mean = 0.0, []
        for image in images[:2]:
            x = {input_name: (image.astype(np.float32) / 255.0).transpose(2, 0, 1)[None]}
            for fa, fb in zip(a.run(None, x), b.run(None, x), strict=True):
                if fa.shape[2] == 80:
                    diff = np.abs(fa[..., 0] - fb[..., 0])
                    worst = max(worst, float(diff.max()))
                    mean.append(float(diff.mean()))
    print(
        f"nanodet_int8: wrote {out} ({len(images)} calibration images); person scores against "
        f"float on 2 of them: mean |diff| {np.mean(mean):.4f}, max {worst:.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
