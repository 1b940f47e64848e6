import itertools

import numpy as np
import pytest

from vision.detect.nanodet import NanoDetPeopleDetector, touches_inner_edge
from vision.detect.nms import nms
from vision.detect.tiling import tile_starts, tiles


@pytest.mark.parametrize("length", [416, 500, 720, 1280, 1920])
def test_tiles_cover_the_frame_with_the_overlap(length):
    starts = tile_starts(length, 416, 96)
    assert starts[0] == 0 and starts[-1] + 416 == max(length, 416)
    assert all(b - a <= 416 - 96 for a, b in itertools.pairwise(starts))


def test_a_frame_smaller_than_a_tile_is_one_tile():
    assert tiles(300, 200, 416, 96) == [(0, 0, 416)]


def test_overlap_must_be_smaller_than_the_tile():
    with pytest.raises(ValueError, match="overlap"):
        tile_starts(1000, 416, 416)


def test_a_person_cut_by_a_tile_gives_way_to_the_whole_box():
    boxes = np.array([[300, 100, 330, 180],  # whole person, from the tile that holds all of it
                      [300, 100, 320, 180],  # its left part, cut by the next tile's edge
                      [400, 100, 430, 180]], np.float32)  # fmt: skip
    scores = np.array([0.6, 0.9, 0.7], np.float32)
    cut = np.array([False, True, False])
    assert sorted(nms(boxes, scores, 0.5, cut=cut).tolist()) == [0, 2]
    # without the cut flag the two overlap by IoU 0.67 and the better score (the part) wins
    assert sorted(nms(boxes, scores, 0.5).tolist()) == [1, 2]


def test_near_people_are_not_merged():
    boxes = np.array([[100, 100, 130, 180], [118, 102, 148, 182]], np.float32)  # IoU 0.25
    assert len(nms(boxes, np.array([0.9, 0.8], np.float32), 0.5)) == 2


def test_only_inner_tile_edges_cut():
    boxes = np.array([[0, 0, 10, 10], [410, 50, 416, 90], [100, 100, 120, 150]], np.float32)
    assert touches_inner_edge(boxes, (0, 0, 416, 416), 1280, 720).tolist() == [False, True, False]
    assert touches_inner_edge(boxes, (0, 0, 416, 416), 416, 416).tolist() == [False] * 3


def test_tiles_merge_into_one_box_per_person(monkeypatch):
    detector = NanoDetPeopleDetector(tile=416, overlap=96)
    regions = detector.regions(1280, 720)
    assert len(regions) == 1 + 8  # the whole frame and 4 x 2 tiles
    person = [330.0, 100.0, 360.0, 180.0]  # inside tiles 0 and 1 (x 0-416 and 288-704)

    def run_region(rgb, region):
        x0, y0, w, h = region
        if (x0, y0, w, h) == (0, 0, 1280, 720):
            return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)
        x1, x2 = max(person[0], x0), min(person[2], x0 + w)
        if x1 >= x2 or person[1] >= y0 + h:
            return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)
        part = [x1, person[1], x2, min(person[3], y0 + h)]
        score = 0.9 if x2 - x1 < 30 else 0.7  # the cut part even scores higher
        return np.array([part], np.float32), np.array([score], np.float32)

    monkeypatch.setattr(detector, "run_region", run_region)
    (box,) = detector.detect(np.zeros((720, 1280, 3), np.uint8))
    assert [box.x1, box.y1, box.x2, box.y2] == person


def test_the_small_people_preset_runs_enlarged_tiles_only():
    from vision.detect import load_detector

    detector = load_detector("nanodet-small", min_score=0.45)
    assert detector.name == "nanodet-small" and detector.min_score == 0.45
    regions = detector.regions(1280, 720)
    assert len(regions) == 5 * 3 and all(w == h == 320 for _, _, w, h in regions)
