from pathlib import Path

import cv2
import numpy as np
import pytest

from vision.detect import load_detector

VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")


def test_an_empty_scene_has_no_people():
    assert load_detector("hog").detect(np.full((480, 640, 3), 127, np.uint8)) == []


@pytest.mark.skipif(not VTEST.is_file(), reason="opencv-doc is installed by scripts/setup.sh")
def test_finds_the_walkers_of_a_real_street_scene():
    capture = cv2.VideoCapture(str(VTEST))
    ok, frame = capture.read()
    assert ok
    boxes = load_detector("hog").detect(frame)
    assert boxes and all(b.cls == "person" and 0 < b.score < 1 for b in boxes)
    assert all(b.height > b.width for b in boxes)  # people stand upright


def test_unknown_detector_names_the_choices():
    with pytest.raises(
        ValueError, match="one of nanodet, nanodet-full, nanodet-small, nanodet-drone, hog, faces"
    ):
        load_detector("yolo")
