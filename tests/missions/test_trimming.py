from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, box

from missions import trimming
from missions.trimming import _push_out, centre_clipped
from tests.missions.strategies import any_polygon


def _geos_clipped(path: np.ndarray, area) -> np.ndarray:
    """centre_clipped as an overlay: each line intersected with the area, cut to its bounds."""
    out = path.copy()
    for j in range(0, len(path), 2):
        part = LineString(path[j : j + 2]).intersection(area)
        if part.is_empty:
            continue
        lo, _, hi, _ = part.bounds
        high = path[j, 0] >= path[j + 1, 0]
        out[j, 0], out[j + 1, 0] = (hi, lo) if high else (lo, hi)
    return out


@pytest.mark.parametrize("crossings", [trimming.MAX_CROSSINGS, 0])  # 0: GEOS line by line
@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # the same patch each time
)
@given(area=any_polygon(), seed=st.integers(0, 2**31), on_vertices=st.booleans())
def test_centre_clipped_cuts_lines_where_an_overlay_does(
    crossings, monkeypatch, area, seed, on_vertices
):
    monkeypatch.setattr(trimming, "MAX_CROSSINGS", crossings)
    rng = np.random.default_rng(seed)
    xmin, ymin, xmax, ymax = area.bounds
    y = rng.uniform(ymin - 1, ymax + 1, 12)
    if on_vertices:  # lines through corners and along edges
        y[:6] = rng.choice(shapely.get_coordinates(area)[:, 1], 6)
    mid = (xmin + xmax) / 2
    a, b = rng.uniform(xmin - 5, mid, 12), rng.uniform(mid, xmax + 5, 12)
    flip = rng.random(12) < 0.5  # either way along
    path = np.column_stack(
        [np.column_stack([np.where(flip, b, a), np.where(flip, a, b)]).ravel(), np.repeat(y, 2)]
    )
    assert np.allclose(centre_clipped(path, area), _geos_clipped(path, area), atol=1e-6)


def test_a_piece_no_line_reaches_moves_no_end():
    # two lines 20 m apart see y 0-40; the grid reaches 45: that strip (a fewer-lines layout
    # gives it up) cannot be seen by moving any end, so no end is moved for it
    path = np.array([[0.0, 10], [100, 10], [100, 30], [0, 30]])
    trimmed = path.copy()
    trimmed[[0, 3], 0] = 10.0  # both left ends cut back
    missed = box(0, 40, 100, 45)
    assert not _push_out(
        trimmed, path, missed, (np.zeros(2), np.full(2, 100.0), path[0::2, 1], 10.0), 0.0
    )
    assert (trimmed[[0, 3], 0] == 10.0).all()
