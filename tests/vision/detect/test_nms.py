"""NMS: a box the detector puts around two people standing close is not a third person."""

import numpy as np
import pytest

from vision.detect.nms import covered_share, nms, spans_others

# nanodet-drone on the simulated camera (35 m, 1920x1080): two people standing close and,
# scored lower, one box around both that overlaps them by IoU 0.49 and 0.34, under the NMS
# threshold, with 84 % and 68 % of each inside it
PAIR = np.array([[1553.3, 164.3, 1568.4, 196.7],
                 [1538.8, 166.9, 1553.1, 199.1],
                 [1543.2, 165.8, 1566.6, 198.3]], np.float32)  # fmt: skip
PAIR_SCORES = np.array([0.62, 0.58, 0.46], np.float32)


def test_a_box_spanning_two_people_is_dropped():
    assert sorted(nms(PAIR, PAIR_SCORES, 0.5).tolist()) == [0, 1]
    assert sorted(nms(PAIR, PAIR_SCORES, 0.5, span_cover=None).tolist()) == [0, 1, 2]


def test_a_spanning_box_that_scores_best_stays_and_the_people_after_it_too():
    # only boxes kept before it (better scores) can make a box a span of others
    scores = np.array([0.5, 0.45, 0.7], np.float32)
    assert sorted(nms(PAIR, scores, 0.5).tolist()) == [0, 1, 2]


def test_people_side_by_side_and_people_behind_a_near_one_are_kept():
    row = np.array([[100, 100, 130, 180], [124, 102, 154, 182], [148, 100, 178, 180]], np.float32)
    # the middle one overlaps each neighbour by a fifth of its width: they are not inside it
    assert len(nms(row, np.array([0.9, 0.5, 0.8], np.float32), 0.5)) == 3
    # two small, far people inside a near person's box cover too little of it to be its parts
    near = np.array([[200, 50, 280, 250], [205, 60, 225, 110], [250, 60, 270, 110]], np.float32)
    assert len(nms(near, np.array([0.4, 0.9, 0.8], np.float32), 0.5)) == 3
    assert not spans_others(near[0], near[1:])


def test_covered_share_counts_overlaps_once():
    box = np.array([0, 0, 10, 10], float)
    assert covered_share(box, np.array([[0, 0, 6, 10], [4, 0, 10, 10]], float)) == 1.0
    assert covered_share(box, np.array([[0, 0, 5, 5], [0, 0, 5, 5]], float)) == 0.25
    assert covered_share(box, np.array([[-5, -5, 5, 20]], float)) == pytest.approx(0.5)
    assert covered_share(box, np.zeros((0, 4))) == 0.0
