from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import LineString, Point, box

from missions.errors import PlanningError
from missions.flight import leg_lengths
from missions.routing import Router


def test_clear_leg_is_straight():
    r = Router([box(100, 100, 200, 200)], 10, ["school"])
    path = r.path(np.array([0.0, 0.0]), np.array([300.0, 0.0]))
    assert len(path) == 2


def test_goes_around_a_zone_on_the_short_side():
    zone = box(100, -50, 200, 150)  # more of it lies north of the straight line
    r = Router([zone], 10, ["school"])
    path = r.path(np.array([0.0, 0.0]), np.array([300.0, 0.0]))
    line = LineString(path)
    assert not line.intersects(zone.buffer(8))  # legs keep 85 % of the clearance
    assert path[1:-1, 1].max() < 0  # around the south side
    # shortest: down to the corner (clearance 10) and back; at most a few metres over ideal
    ideal = 2 * np.hypot(100, 60) + 100
    assert leg_lengths(path).sum() < ideal + 5


def test_no_way_out_of_an_enclosure():
    ring = Point(0, 0).buffer(300).difference(Point(0, 0).buffer(200))
    r = Router([ring], 10, ["wall"])
    with pytest.raises(PlanningError, match="no way around"):
        r.path(np.array([0.0, 0.0]), np.array([500.0, 0.0]))


def test_end_inside_a_zone_is_named():
    r = Router([box(100, -50, 200, 50)], 10, ["高压线走廊"])
    with pytest.raises(PlanningError, match="inside no-fly zone '高压线走廊'"):
        r.path(np.array([0.0, 0.0]), np.array([150.0, 0.0]))
