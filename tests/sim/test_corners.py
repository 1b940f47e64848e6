"""Waypoint corners flown by the simulated copter: cut inside the two legs as ArduCopter's
S-curves cut them, never swinging outside, and timed as SITL flew them."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Polygon

from tests.sim.conftest import HOME, local, take_off
from tests.sim.gcs import item


def fly(fleet, vehicle, gcs, corners, alt=20.0, speed=None, straight_home=False):
    """Fly home -> corners (north, east) -> RTL in AUTO; every step's (north, east) and where
    each "Reached command #n" was said."""
    items = [item(0, 16, HOME[0], HOME[1]), item(1, 22, alt=alt)]
    if speed:
        items.append(item(2, 178, p2=speed))
    first = len(items)
    items += [item(0, 16, *local(n, e), alt) for n, e in corners]
    items.append(item(0, 20))
    for seq, it in enumerate(items):
        it.seq = seq
    assert gcs.upload(items).type == 0
    take_off(fleet, vehicle, gcs, alt)
    s = vehicle.copter.state
    track, reached = [], {}
    seen = len(gcs.log)

    def record():
        nonlocal seen
        track.append((s.n, s.e))
        for msg in gcs.log[seen:]:
            if msg.get_type() == "STATUSTEXT" and msg.text.startswith("Reached command #"):
                reached[int(msg.text.rsplit("#", 1)[1]) - first] = (s.n, s.e)
        seen = len(gcs.log)
        return not vehicle.armed

    assert gcs.command(176, 1, 3).result == 0
    gcs.wait_for(record, 600)
    return np.array(track), reached


def outside(track: np.ndarray, route: list[tuple[float, float]]) -> float:
    """How far the track strays from the route anywhere but inside a corner's triangle."""
    line = LineString(route)
    inside = shapely.union_all(
        [Polygon(route[i - 1 : i + 2]).buffer(1e-6) for i in range(1, len(route) - 1)]
    )
    pts = shapely.points(track)
    dist = shapely.distance(line, pts)
    dist[shapely.contains(inside, pts)] = 0.0
    return float(dist.max())


SQUARE_80 = [(80, 0), (80, 80), (0, 80), (40, 40)]


@pytest.mark.parametrize("speed", [None, 5, 15, 20])
def test_the_80_m_square_never_swings_outside_its_corners(fleet, ready, gcs, speed):
    # the first S-curve attempt swung ~10 m outside each corner: a waypoint was reached 91.7 m
    # out on this square
    track, reached = fly(fleet, ready, gcs, SQUARE_80, speed=speed)
    route = [(0.0, 0.0), *SQUARE_80, (0.0, 0.0)]
    assert outside(track, route) <= 1.0
    assert track[:, 0].max() <= 80 + 1.0 and track[:, 1].max() <= 80 + 1.0
    for k, corner in enumerate(SQUARE_80):  # reached half-way round, inside WPNAV_RADIUS
        assert math.dist(reached[k], corner) <= 2.05, (k, reached[k])


def test_random_corners_at_random_speeds_stay_inside(fleet, ready, gcs):
    rng = np.random.default_rng(3)
    pts = [(0.0, 0.0)]
    for _ in range(8):  # legs of 15-150 m, turns of any angle either way
        heading = rng.uniform(0, 2 * math.pi)
        length = rng.uniform(15, 150)
        pts.append(
            (pts[-1][0] + length * math.cos(heading), pts[-1][1] + length * math.sin(heading))
        )
    track, reached = fly(fleet, ready, gcs, pts[1:], speed=float(rng.uniform(3, 18)))
    assert outside(track, [*pts, (0.0, 0.0)]) <= 1.0
    assert len(reached) == len(pts) - 1


@pytest.mark.parametrize(
    ("after", "at_corner"),
    [
        ((400, 0), (9.5, 10.01)),  # straight on: WPNAV_SPEED kept
        ((200, 200), (2.5, 3.8)),  # 90°: SITL (06) passed at 2.96 m/s
        ((0, 0), (0.0, 0.5)),  # back the way it came: a stop
    ],
)
def test_corner_speed_is_set_by_the_turn(fleet, ready, gcs, after, at_corner):
    track, _ = fly(fleet, ready, gcs, [(200, 0), after])
    step = np.hypot(*np.diff(track, axis=0).T) / fleet.dt
    nearest = int(np.argmin(np.hypot(track[:, 0] - 200, track[:, 1])))
    assert at_corner[0] <= step[nearest] <= at_corner[1]
