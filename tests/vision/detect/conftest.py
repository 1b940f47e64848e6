import json
from pathlib import Path

import cv2
import pytest

ROOT = Path(__file__).resolve().parents[3]
VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
LABELS = ROOT / "data" / "eval" / "vtest-people.json"
MASKS = ROOT.parent / "shared" / "data" / "masks"


@pytest.fixture(scope="session")
def vtest_frame_0():
    if not VTEST.is_file():
        pytest.skip("opencv-doc's vtest.avi is installed by scripts/setup.sh")
    ok, frame = cv2.VideoCapture(str(VTEST)).read()
    assert ok
    labels = json.loads(LABELS.read_text())["frames"]
    return frame, next(e for e in labels if e["frame"] == 0)


@pytest.fixture(scope="session")
def nanodet():
    from vision.detect import load_detector

    return load_detector("nanodet")
