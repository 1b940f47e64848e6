from __future__ import annotations

import math

import numpy as np
import pytest

from missions import flight
from missions.flight import (
    RTL_SPEED,
    descent_time,
    path_cost,
    path_costs,
    path_time,
    sortie_overhead,
    sortie_time,
    sortie_times,
    turn_times,
    vertical_time,
)
from missions.scurve import RADIUS, leg_times

DT = 1e-4


def integrated_speed_up() -> tuple[np.ndarray, np.ndarray]:
    """ArduCopter's speed-up from rest to 10 m/s, integrated from its jerk: raised-cosine ramps
    of 0.3 s to 1 m/s³ (WPNAV_JERK), held 2.2 s until the ramps have built 2.5 m/s² (WPNAV_ACCEL),
    held 1.2 s, then the same down: 3.5 + 3 + 3.5 = 10 m/s in 6.8 s."""
    ramp, hold, accel_hold = 0.3, 2.2, 1.2
    t = np.arange(0.0, 2 * (2 * ramp + hold) + accel_hold, DT)

    def rising(s):  # one jerk pulse: up, held, down
        up = 0.5 * (1 - np.cos(np.pi * np.clip(s, 0, ramp) / ramp))
        down = 0.5 * (1 + np.cos(np.pi * np.clip(s - ramp - hold, 0, ramp) / ramp))
        return np.where(
            s < ramp, up, np.where(s < ramp + hold, 1.0, np.where(s < 2 * ramp + hold, down, 0.0))
        )

    jerk = rising(t) - rising(t - (2 * ramp + hold) - accel_hold)
    accel = np.cumsum(jerk) * DT
    speed = np.cumsum(accel) * DT
    return t, np.cumsum(speed) * DT


def test_a_leg_is_a_jerk_limited_speed_up_cruise_and_slow_down():
    t, dist = integrated_speed_up()
    assert t[-1] == pytest.approx(6.8, abs=1e-3) and dist[-1] == pytest.approx(34.0, abs=0.01)
    # 200 m at 10 m/s: 6.8 s up, 132 m at 10 m/s, 6.8 s down
    times, _ = leg_times(np.array([200.0]), 10.0)
    assert times[0] == pytest.approx(6.8 + 13.2 + 6.8, abs=0.01)


def test_a_leg_too_short_for_the_speed_cruises_slower():
    times, ups = leg_times(np.array([30.0, 68.0, 500.0]), 10.0)
    assert ups.speed[0] < 6.0 and ups.speed[1] == pytest.approx(10.0)
    assert ups.distance[0] * 2 == pytest.approx(30.0)  # speeds up over half, slows over half
    assert times[0] > 30 / 6.0


@pytest.mark.parametrize("turn_deg", [90.0, 135.0, 180.0])
def test_a_corner_overlaps_the_legs_until_its_midpoint_is_wpnav_radius_off(turn_deg):
    # two long legs: the next starts when, half-way through the overlap, each leg's share
    # (d braking in, d speeding out) puts the target 2·d·sin(turn/2) = RADIUS from the corner
    t, dist = integrated_speed_up()
    half = t[np.argmax(2 * dist * math.sin(math.radians(turn_deg) / 2) >= RADIUS)]
    rad = math.radians(turn_deg)
    pts = np.array([[0, 0], [200, 0], [200 + 200 * math.cos(rad), 200 * math.sin(rad)]])
    # the corner costs the slow-down and speed-up (6.8 s over flying on) less the overlap
    assert turn_times(pts, 10.0)[0] == pytest.approx(6.8 - 2 * half, abs=0.01)


def test_straight_on_through_a_waypoint_costs_nothing():
    pts = np.array([[0, 0], [100, 0], [300, 0]], dtype=float)
    assert path_time(pts, 10) == pytest.approx(30.0, abs=0.05)


def test_a_stop_costs_a_whole_slow_down_and_speed_up():
    right = np.array([[0, 0], [100, 0], [100, 100]], dtype=float)
    assert turn_times(right, 10, np.array([True]))[0] == pytest.approx(6.8)
    assert turn_times(right, 10)[0] < 6.8 / 2


def test_path_cost_ranks_as_path_time_counts():
    rng = np.random.default_rng(7)
    for speed in (5.0, 10.0, 15.0):
        pts = np.cumsum(rng.uniform(-150, 150, (20, 2)), axis=0)
        assert path_cost(pts, speed) / speed == pytest.approx(path_time(pts, speed), abs=0.05)
        lanes = np.array([[0, 0], [200, 0], [200, 25], [0, 25], [0, 50], [200, 50.0]])
        # legs too short for the speed: within a second of the full model
        assert path_cost(lanes, speed) / speed == pytest.approx(path_time(lanes, speed), abs=1)


def test_vertical_time_uses_ardupilot_defaults():
    # 30 m: climb at 2.5 m/s after a 2.5 s speed-up at 1 m/s², the take-off item done 0.5 m
    # short (reached at 1 m/s). Land: speed up to 1.5 m/s (1.5 s, 1.125 m); hold it until the
    # square-root approach to LAND_ALT_LOW asks for less (1.625 m above it), slow at 1 m/s² to
    # 1 m/s (0.5 s, 1 m above), then proportionally (PSC_POSZ_P 1) to 0.5 m/s (ln 2 s, 0.5 m
    # above) and land the last 10.5 m at LAND_SPEED
    climb = 12 + 2.5 - 1.0
    descent = 1.5 + (20 - 1.125 - 1.625) / 1.5 + 0.5 + math.log(2) + 10.5 / 0.5
    assert vertical_time(30) == pytest.approx(climb + descent)
    # SITL (10): NAV_LAND from 25 m touched down 31.8 s later
    assert descent_time(25) == pytest.approx(31.8, abs=0.3)


def test_sortie_overhead_matches_sitl_timings():
    # SITL (06): liftoff 3.75 s after NAV_TAKEOFF, RTL_LOIT_TIME 5 s over home, disarm 2.1 s
    # after touchdown; plus speeding up from and slowing down to home at 10 m/s
    assert sortie_overhead(30, 10) == pytest.approx(3.75 + vertical_time(30) + 6.8 + 5 + 2.1)


def test_a_sortie_stops_at_hovers_and_the_last_waypoint_and_returns_at_wpnav_speed():
    # home, A, B (20 s hover), C, home: a corner flown through at A, stops at B and at C (RTL
    # follows), the legs at 5 m/s but RTL's at WPNAV_SPEED
    pts = np.array([[0, 0], [300, 0], [300, 300], [0, 300], [0, 0]], dtype=float)
    hover = np.array([0.0, 0.0, 20.0, 0.0, 0.0])
    legs, ups = leg_times(np.full(4, 300.0), np.array([5.0, 5.0, 5.0, RTL_SPEED]))
    overlap_at_a = (legs[0] - 60) - turn_times(pts[:3], 5)[0]
    fixed = sortie_overhead(30, 5) - ups.duration[0]  # less speeding up and slowing at home
    expected = fixed + legs.sum() - overlap_at_a + 20
    assert sortie_time(pts, hover, 30, 5) == pytest.approx(expected, abs=1e-6)
    assert legs[3] < 300 / 5  # RTL returns at 10 m/s, not the mission's 5


def test_sorties_timed_together_take_what_each_takes_alone():
    # the corners of all of them are worked out in one pass; the joins between sorties must
    # add nothing and cut no corner
    rng = np.random.default_rng(3)
    sorties = []
    for n in (2, 3, 7, 12):
        pts = rng.uniform(-400, 400, (n, 2))
        pts[0] = pts[-1] = 0.0
        hover = np.where(rng.random(n) < 0.3, 30.0, 0.0)
        hover[0] = hover[-1] = 0.0
        sorties.append((pts, hover))
    together = sortie_times(sorties, 40, 8)
    flight._known.clear()
    alone = [sortie_time(pts, hover, 40, 8) for pts, hover in sorties[::-1]][::-1]
    assert together == pytest.approx(alone, abs=1e-9)


def test_paths_costed_together_cost_what_each_costs_alone():
    rng = np.random.default_rng(4)
    paths = [rng.uniform(0, 200, (n, 2)) for n in (0, 1, 2, 5, 9)]
    paths.append(np.array([[0, 0], [0, 0], [50, 0], [50, 30.0]]))  # a leg of no length
    assert path_costs(paths, 8) == pytest.approx([path_cost(p, 8) for p in paths], abs=1e-9)
