import cv2
import numpy as np
import pytest

from tests.vision.detect.conftest import MASKS
from vision.detect import load_detector
from vision.detect.faces import mask_decision


@pytest.fixture(scope="module")
def faces():
    return load_detector("faces")


@pytest.fixture(scope="module")
def unmasked_face():
    path = MASKS / "without_mask"
    if not path.is_dir():
        pytest.skip("../shared/data/masks is not beside the repository")
    return cv2.imread(str(sorted(path.glob("*.jpg"))[0]))


def test_the_decision_needs_the_confidence():
    assert mask_decision(0.9, 0.1, 0.75) is True
    assert mask_decision(0.1, 0.9, 0.75) is False
    assert mask_decision(0.6, 0.4, 0.75) == "unknown"
    assert mask_decision(0.4, 0.6, 0.75) == "unknown"  # unsure is never no_mask
    assert mask_decision(0.6, 0.4, 0.5) is True


def test_a_confidence_below_a_half_is_refused():
    with pytest.raises(ValueError, match="mask_confidence"):
        load_detector("faces", mask_confidence=0.4)


def test_no_faces_in_a_blank_frame(faces):
    assert faces.detect(np.full((360, 640, 3), 90, np.uint8)) == []


def test_a_large_unmasked_face_is_judged(faces, unmasked_face):
    (face, *_) = sorted(faces.detect(unmasked_face), key=lambda b: -b.score)
    assert face.cls == "face" and face.width >= 40
    assert face.mask is False
    assert face.to_json()["mask"] is False


def test_faces_under_the_size_threshold_are_unknown(faces, unmasked_face):
    (face, *_) = sorted(faces.detect(unmasked_face), key=lambda b: -b.score)
    scale = 30.0 / face.width  # the same picture, the face now 30 px wide
    small = cv2.resize(unmasked_face, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    found = faces.detect(small)
    assert found, "the shrunk face should still be found, to be called unknown"
    assert all(b.width < 40 and b.mask == "unknown" for b in found)
    # and the threshold is the detector's: with 10 px, the same small face is judged
    judged = load_detector("faces", min_face_px=10).detect(small)
    assert any(b.mask in (True, False) for b in judged)
