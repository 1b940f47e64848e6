"""The "nanodet-drone" preset: the int8 any-size model on the whole frame, enlarged."""

import json

import cv2
import numpy as np
import pytest

from vision.detect import load_detector
from vision.detect.evaluation import match_frame
from vision.detect.models import ModelUnavailable, onnx_session
from vision.detect.nanodet import (
    INT8_MODEL_PATH,
    MODEL_PATH,
    NanoDetPeopleDetector,
    decode,
    scale_for_people,
)

from .conftest import LABELS, VTEST


@pytest.fixture(scope="module")
def drone():
    return load_detector("nanodet-drone")


def test_the_preset_runs_the_int8_model_once_on_the_enlarged_frame(drone):
    assert drone.name == "nanodet-drone" and drone.any_size
    assert drone.scale == 1.3 and drone.min_score == 0.35
    assert drone.regions(1280, 720) == [(0, 0, 1280, 720)]
    assert load_detector("nanodet-drone", scale=1.8).scale == 1.8


def test_the_int8_model_takes_any_size_and_batch():
    session = onnx_session(INT8_MODEL_PATH)
    (inp,) = session.get_inputs()
    assert inp.shape[1] == 3 and all(isinstance(d, str) for d in inp.shape[2:])
    blob = np.zeros((2, 3, 320, 480), np.float32)
    shapes = sorted(tuple(a.shape) for a in session.run(None, {inp.name: blob}))
    cells = [(320 // s) * (480 // s) for s in (8, 16, 32)]
    assert shapes == sorted((2, c, w) for c in cells for w in (80, 44))


def test_the_int8_model_is_close_to_the_float_one_on_a_real_frame(vtest_frame_0):
    """Frame 0 letterboxed to 416: person scores differ little, and both find the people."""
    frame, labels = vtest_frame_0
    canvas = np.zeros((416, 416, 3), np.uint8)
    canvas[:312] = cv2.resize(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), (416, 312), cv2.INTER_AREA)
    blob = (canvas / np.float32(255)).transpose(2, 0, 1)[None]
    a, b = onnx_session(MODEL_PATH), onnx_session(INT8_MODEL_PATH)
    names = [o.name for o in a.get_outputs()]
    got_a = a.run(names, {a.get_inputs()[0].name: blob})
    got_b = b.run(names, {b.get_inputs()[0].name: blob})
    for x, y in zip(got_a, got_b, strict=True):
        if x.shape[2] == 80:  # class scores: the person's
            diff = np.abs(x[..., 0] - y[..., 0])
            assert diff.mean() < 0.01 and diff.max() < 0.2
    for path in (MODEL_PATH, INT8_MODEL_PATH):
        boxes = NanoDetPeopleDetector(path, tile=None).detect(frame)
        counts = match_frame(boxes, labels["people"], labels["ignore"])
        assert counts.recall == 1.0 and counts.false_positives == 0, path


def test_scores_keep_their_whole_range(vtest_frame_0):
    """The class scores are not clipped at the highest score the calibration images gave."""
    frame, _ = vtest_frame_0
    boxes = load_detector("nanodet-full", model_path=INT8_MODEL_PATH).detect(frame)
    assert max(b.score for b in boxes) > 0.7


def test_boxes_come_back_to_frame_pixels(drone, monkeypatch):
    """The frame is enlarged 1.3 times and padded to a multiple of 32; a box the network gives
    in input pixels comes back in frame pixels, offset by the region."""
    seen = []

    def run(blob):
        seen.append(blob.shape)
        return np.array([[130.0, 260.0, 169.0, 325.0]], np.float32), np.array([0.9], np.float32)

    monkeypatch.setattr(drone, "_run", run)
    frame = np.zeros((720, 1280, 3), np.uint8)
    (box,) = drone.detect(frame)
    assert seen[-1] == (1, 3, 960, 1664)  # 1664 x 936 padded to 960
    assert [box.x1, box.y1, box.x2, box.y2] == pytest.approx([100, 200, 130, 250], abs=0.2)
    (box,) = drone.detect(frame, region=(40, 240, 1280, 720))
    assert seen[-1] == (1, 3, 640, 1632)  # 1612 x 624, padded
    assert [box.x1, box.y1] == pytest.approx([40 + 130 / (1612 / 1240), 240 + 260 / 1.3], abs=0.2)


@pytest.mark.parametrize("region", [(0, 0, 0, 10), (-5, 0, 100, 100), (0, 0, 1281, 720), (1, 2)])
def test_a_bad_region_is_refused(drone, region):
    with pytest.raises(ValueError, match="detection region"):
        drone.detect(np.zeros((720, 1280, 3), np.uint8), region=region)


def test_scale_needs_an_any_size_model():
    with pytest.raises(ModelUnavailable, match=r"416x416 inputs only; scale needs"):
        NanoDetPeopleDetector(MODEL_PATH, tile=None, scale=1.3)
    with pytest.raises(ValueError, match="tile=None"):
        NanoDetPeopleDetector(INT8_MODEL_PATH, scale=1.3)  # tiles by default


def test_scale_for_people():
    assert scale_for_people(32) == pytest.approx(1.31, abs=0.01)
    assert scale_for_people(84) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="positive"):
        scale_for_people(0)


def test_decode_on_a_wide_input():
    columns = 1664 // 8
    scores = np.zeros((columns * 120, 80), np.float32)
    regression = np.full((columns * 120, 44), -50.0, np.float32)
    cell = 2 * columns + 3  # row 2, column 3: centre (28, 20)
    scores[cell, 0] = 0.9
    regression[cell].reshape(4, 11)[:, 1] = 50.0  # one bin (8 px) on every side
    boxes, _ = decode(scores, regression, stride=8, threshold=0.5, columns=columns)
    np.testing.assert_allclose(boxes, [[20, 12, 36, 28]], atol=1e-3)


def test_finds_drone_sized_people_in_real_frames(drone):
    """Four labelled vtest frames shrunk to 320 x 240 (people 13-51 px tall) in a 1280x720
    frame, as the drone sees people from 30-40 m."""
    if not VTEST.is_file():
        pytest.skip("opencv-doc's vtest.avi is installed by scripts/setup.sh")
    labels = {e["frame"]: e for e in json.loads(LABELS.read_text())["frames"]}
    capture = cv2.VideoCapture(str(VTEST))
    canvas = np.full((720, 1280, 3), 90, np.uint8)
    people, ignore = [], []
    for k, index in enumerate((40, 120, 200, 300)):
        capture.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, frame = capture.read()
        assert ok
        ox, oy = 320 * k, 240 * (k % 2)
        canvas[oy : oy + 240, ox : ox + 320] = cv2.resize(frame, (320, 240), cv2.INTER_AREA)
        place = np.array([320 / 768, 240 / 576] * 2)
        people += [list(np.array(b) * place + [ox, oy] * 2) for b in labels[index]["people"]]
        ignore += [list(np.array(b) * place + [ox, oy] * 2) for b in labels[index]["ignore"]]
    counts = match_frame(drone.detect(canvas), people, ignore)
    assert len(people) >= 15
    assert counts.recall >= 0.85 and counts.precision >= 0.85, counts
