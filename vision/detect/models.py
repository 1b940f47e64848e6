"""Where the detectors' model files are (vision/models/, shipped with the package) and how
they are opened; a model that cannot be opened raises ModelUnavailable."""

from __future__ import annotations

from pathlib import Path

import onnxruntime as ort

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"


class ModelUnavailable(RuntimeError):
    """A detector's model file is missing or cannot be loaded."""


def onnx_session(path: Path, threads: int = 1) -> ort.InferenceSession:
    """An onnxruntime CPU session with `threads` intra-op threads and no busy-waiting between
    runs (the camera reader and the controller share the cores)."""
    if not Path(path).is_file():
        raise ModelUnavailable(f"model file {path} is missing")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime's errors derive from Exception only
        raise ModelUnavailable(f"model file {path} cannot be loaded: {exc}") from exc
