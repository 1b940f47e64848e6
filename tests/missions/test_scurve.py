"""The planner's closed-form S-curves against the maths the simulator flies (sim.scurve) and
against their own slow path."""

from __future__ import annotations

import math

import numpy as np
import pytest

from missions import scurve as planner
from sim import scurve as flown

SPEEDS = [1.0, 3.0, 5.0, 8.0, 10.0, 13.0, 20.0]


def limits(speed: float) -> flown.WaypointLimits:
    return flown.WaypointLimits(
        speed=speed, speed_up=2.5, speed_down=1.5, accel=planner.ACCEL, accel_z=1.0,
        jerk=planner.JERK, snap=planner.JERK * math.pi / (2 * planner.INPUT_TC) / 2,
    )  # fmt: skip


@pytest.mark.parametrize("speed", SPEEDS)
def test_cruise_speed_of_a_short_leg_is_the_one_whose_speed_ups_fill_it(speed):
    length = np.geomspace(0.05, 400, 60)
    ups = planner.speed_ups(planner.cruise_speeds(length, speed))
    short = ups.speed < speed
    assert 2 * ups.distance[short] == pytest.approx(length[short], rel=1e-9)
    assert (2 * ups.distance[~short] <= length[~short] + 1e-9).all()


@pytest.mark.parametrize("speed", SPEEDS)
def test_leg_times_and_speed_ups_match_what_the_simulator_flies(speed):
    length = np.geomspace(0.05, 1000, 40)
    times, ups = planner.leg_times(length, speed)
    lim = limits(speed)
    for i, L in enumerate(length):
        profile = flown.Profile(L, speed, lim.accel, lim.jerk, lim.ramp)
        assert times[i] == pytest.approx(profile.duration, abs=1e-6)
        for t in np.linspace(0, ups.duration[i], 9):
            got = [x[i] for x in planner.speed_up_at(ups, np.full(len(length), t))]
            assert got == pytest.approx(profile.change.at(t), abs=1e-6)


def test_corner_overlaps_match_the_simulators_corners():
    rng = np.random.default_rng(11)
    for _ in range(60):
        speed = float(rng.choice(SPEEDS[1:]))
        turn = rng.uniform(0, math.pi)
        l1, l2 = rng.choice([12.0, 25.0, 40.0, 80.0, 250.0], 2) * rng.uniform(0.8, 1.2, 2)
        lim = limits(speed)
        a, b = (0.0, 0.0, 30.0), (l1, 0.0, 30.0)
        c = (l1 + l2 * math.cos(turn), l2 * math.sin(turn), 30.0)
        track = flown.Track(a, b, lim)
        track.set_next(c, lim)
        while track.this.t < track.this.profile.decel_start - 0.1:
            track.step(0.05)  # no corner before this leg brakes
        while track.next.t == 0 and not track.this.finished:
            track.step(1e-3)
        sim_overlap = track.this.remaining + 1e-3 if track.next.t > 0 else 0.0
        _, ups = planner.leg_times(np.array([l1, l2]), speed)
        got = planner.corner_overlaps(
            planner.take(ups, np.array([0])), planner.take(ups, np.array([1])),
            np.array([math.cos(turn)]), np.array([speed]),
        )[0]  # fmt: skip
        assert got == pytest.approx(sim_overlap, abs=2e-3), (speed, math.degrees(turn), l1, l2)


@pytest.mark.parametrize("speed", SPEEDS)
def test_the_corner_table_and_its_shortcuts_agree_with_solving_each_corner(speed):
    rng = np.random.default_rng(int(speed * 10))
    n = 3000
    lengths = np.array([5.0, 15.0, 20.0, 30.0, 45.0, 70.0, 150.0, 400.0])
    l1 = rng.choice(lengths, n) * rng.uniform(0.8, 1.2, n)
    l2 = rng.choice(lengths, n) * rng.uniform(0.8, 1.2, n)
    cos = np.cos(rng.uniform(0, np.pi, n))
    _, before = planner.leg_times(l1, speed)
    _, after = planner.leg_times(l2, speed)
    limit = np.full(n, speed)
    quick = planner.corner_overlaps(before, after, cos, limit)
    slow = planner._solve_overlaps(before, after, cos, limit)
    assert np.abs(quick - slow).max() < 2e-3
