import numpy as np
import pytest

from vision.detect import load_detector
from vision.detect.evaluation import match_frame
from vision.detect.models import ModelUnavailable
from vision.detect.nanodet import INPUT_SIZE, NUM_CLASSES, REG_BINS, decode, find_heads


def peaked(bins: list[int]) -> np.ndarray:
    """Regression logits of one cell whose softmax puts (almost) all weight on these bins."""
    logits = np.full((4, REG_BINS), -50.0, np.float32)
    for side, b in enumerate(bins):
        logits[side, b] = 50.0
    return logits.reshape(-1)


def test_decode_a_known_cell():
    side = INPUT_SIZE // 8
    scores = np.zeros((side * side, NUM_CLASSES), np.float32)
    regression = np.zeros((side * side, 4 * REG_BINS), np.float32)
    cell = 2 * side + 3  # row 2, column 3: centre (28, 20) at stride 8
    scores[cell, 0] = 0.9
    scores[cell + 1, 5] = 0.99  # a bus: not a person
    scores[cell + 2, 0] = 0.2  # under the threshold
    regression[cell] = peaked([2, 3, 4, 5])
    boxes, found = decode(scores, regression, stride=8, threshold=0.3)
    np.testing.assert_allclose(boxes, [[28 - 16, 20 - 24, 28 + 32, 20 + 40]], atol=1e-4)
    np.testing.assert_allclose(found, [0.9])


def test_decode_takes_the_expected_bin_not_the_best_one():
    side = INPUT_SIZE // 32
    scores = np.zeros((side * side, NUM_CLASSES), np.float32)
    scores[0, 0] = 0.8
    regression = np.full((side * side, 4 * REG_BINS), -50.0, np.float32)
    regression[0].reshape(4, REG_BINS)[:, [1, 3]] = 0.0  # half on bin 1, half on bin 3
    boxes, _ = decode(scores, regression, stride=32, threshold=0.5)
    np.testing.assert_allclose(boxes, [[16 - 64, 16 - 64, 16 + 64, 16 + 64]], atol=1e-3)


def test_output_layout_is_read_from_the_graph():
    outputs = [("s8", [1, 2704, 80]), ("r8", [1, 2704, 44]), ("s16", [1, 676, 80]),
               ("r16", [1, 676, 44]), ("s32", [1, 169, 80]), ("r32", [1, 169, 44])]  # fmt: skip
    heads = find_heads(outputs[::-1])
    assert [(h.stride, h.scores, h.regression) for h in heads] == [
        (8, "s8", "r8"), (16, "s16", "r16"), (32, "s32", "r32")]  # fmt: skip
    with pytest.raises(ModelUnavailable, match="stride 16"):
        find_heads([o for o in outputs if o[0] != "r16"])


def test_the_committed_model_has_the_expected_outputs(nanodet):
    assert [h.stride for h in nanodet._heads] == [8, 16, 32]


def test_an_empty_scene_has_no_people(nanodet):
    assert nanodet.detect(np.full((720, 1280, 3), 127, np.uint8)) == []


def test_finds_the_labelled_people_of_a_real_frame(nanodet, vtest_frame_0):
    frame, labels = vtest_frame_0
    boxes = nanodet.detect(frame)
    counts = match_frame(boxes, labels["people"], labels["ignore"])
    assert counts.recall == 1.0 and counts.false_positives <= 1
    assert all(b.cls == "person" and 0.5 <= b.score <= 1 for b in boxes)


def test_a_higher_threshold_keeps_a_subset(vtest_frame_0):
    frame, _ = vtest_frame_0
    low = load_detector("nanodet", min_score=0.3).detect(frame)  # people and traffic cones
    high = load_detector("nanodet", min_score=0.6).detect(frame)
    assert len(high) < len(low)
    assert all(b.score >= 0.6 for b in high)
    assert {(b.x1, b.y1) for b in high} <= {(b.x1, b.y1) for b in low}


def test_a_missing_model_is_named_and_the_default_falls_back_to_hog(tmp_path, caplog):
    missing = tmp_path / "nanodet.onnx"
    with pytest.raises(ModelUnavailable, match=r"nanodet\.onnx is missing"):
        load_detector("nanodet", model_path=missing)
    assert load_detector(None, model_path=missing).name == "hog"
    assert "HOG instead" in caplog.text
