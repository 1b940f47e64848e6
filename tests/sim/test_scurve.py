"""S-curve legs and corners (sim.scurve): limits, a rest at each end, corners cut inside."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.scurve import Profile, Track, WaypointLimits, kinematic_limit, speed_up

# ArduCopter's defaults: WPNAV_ACCEL 2.5 m/s², WPNAV_JERK 1 m/s³, the snap from ATC_INPUT_TC 0.15
SNAP = 1.0 * math.pi / (2 * 0.15) / 2


def lim(speed: float) -> WaypointLimits:
    return WaypointLimits(speed, 2.5, 1.5, 2.5, 1.0, 1.0, SNAP)


def test_speed_up_to_wpnav_speed_takes_6_8_s_over_34_m():
    # jerk ramps of 0.3 s to 1 m/s³ held until 2.5 m/s² (2.8 s, +3.5 m/s), 2.5 m/s² for 1.2 s
    # (+3 m/s), then letting go (2.8 s, +3.5 m/s)
    up = speed_up(10.0, 2.5, 1.0, lim(10).ramp)
    assert lim(10).ramp == pytest.approx(0.3)
    assert (up.rise, up.accel_hold, up.duration) == pytest.approx((2.8, 1.2, 6.8))
    assert up.distance == pytest.approx(34.0)
    assert up.at(2.8) == pytest.approx((up.at(2.8)[0], 3.5, 2.5))


@settings(max_examples=120, deadline=None, derandomize=True)
@given(
    length=st.floats(0.01, 2000),
    speed=st.floats(0.3, 20),
    accel=st.floats(0.5, 5),
    jerk=st.floats(0.3, 20),
    ramp=st.floats(0.02, 1.0),
)
def test_a_leg_goes_from_rest_to_rest_within_its_limits(length, speed, accel, jerk, ramp):
    leg = Profile(length, speed, accel, jerk, ramp)
    t = np.linspace(0, leg.duration, 2001)
    p, v, a = np.array([leg.at(x) for x in t]).T
    assert (p[0], v[0], a[0]) == pytest.approx((0, 0, 0), abs=1e-12)
    assert (p[-1], v[-1]) == pytest.approx((length, 0), abs=1e-6 * max(1, length))
    assert v.max() <= speed * (1 + 1e-9) and np.abs(a).max() <= accel * (1 + 1e-9)
    assert (np.diff(p) >= -1e-9).all()  # never backwards
    dt = t[1] - t[0]
    assert np.abs(np.diff(v)).max() <= accel * dt * 1.001  # continuous speed
    assert np.abs(np.diff(a)).max() <= jerk * dt * 1.001  # continuous acceleration


def test_kinematic_limit_keeps_each_axis_within_its_own():
    assert kinematic_limit((200, 0, 0), 10, 2.5, 1.5) == 10
    assert kinematic_limit((0, 0, 10), 10, 2.5, 1.5) == 2.5
    assert kinematic_limit((0, 0, -10), 10, 2.5, 1.5) == 1.5
    climb = kinematic_limit((10, 0, 10), 10, 2.5, 1.5)  # 45°: the climb limits it
    assert climb * math.sqrt(0.5) == pytest.approx(2.5)


def fly_corner(turn_deg: float, speed: float, first: float, second: float):
    """The target's path through one corner, every 20 ms from before the braking until the
    next leg has sped up: (north, east) and speeds."""
    track = Track((0, 0, 30), (first, 0, 30), lim(speed))
    rad = math.radians(turn_deg)
    track.set_next((first + second * math.cos(rad), second * math.sin(rad), 30), lim(speed))
    while track.this.t < track.this.profile.decel_start - 1.0:
        track.step(0.5)  # nothing happens at the corner before this leg brakes
    path, speeds = [], []
    while track.next is not None or track.this.t < track.this.profile.accel_end:
        pos, vel, _ = track.step(0.02)
        if track.passed and track.next is not None:
            track.shift()
        path.append(pos[:2])
        speeds.append(math.hypot(vel[0], vel[1]))
    return np.array(path), np.array(speeds)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(
    turn=st.floats(0, 180),
    speed=st.floats(1, 20),
    first=st.floats(5, 400),
    second=st.floats(5, 400),
)
def test_a_corner_is_cut_inside_and_never_swings_outside(turn, speed, first, second):
    path, speeds = fly_corner(turn, speed, first, second)
    rad = math.radians(turn)
    rel = path - np.array([first, 0.0])
    # a left turn: inside the corner is left of both legs (on them included)
    left_of_first = rel[:, 1]
    left_of_second = math.cos(rad) * rel[:, 1] - math.sin(rad) * rel[:, 0]
    outside = np.maximum(-np.minimum(left_of_first, left_of_second), 0.0)
    if turn in (0.0, 180.0):
        outside = np.abs(left_of_first)  # straight on or back: on the line
    assert outside.max() <= 1e-6
    assert np.min(np.hypot(*rel.T)) <= 2.05  # the apex within WPNAV_RADIUS of the waypoint
    # ArduCopter checks the speed at the middle of the overlap only: a straight-on waypoint
    # between legs of different lengths may be passed a little faster
    assert speeds.max() <= speed * 1.02


@pytest.mark.parametrize(
    ("turn", "through"),
    [(0, (9.9, 10.01)), (90, (2.5, 3.8)), (180, (0.0, 0.2))],  # SITL 06: 2.96 m/s at 90°
)
def test_a_corner_is_flown_slower_the_sharper_it_turns(turn, through):
    path, speeds = fly_corner(turn, 10, 200, 200)
    at_corner = speeds[np.argmin(np.hypot(path[:, 0] - 200, path[:, 1]))]
    assert through[0] <= at_corner <= through[1]


def test_a_pause_stops_on_the_track_and_continue_goes_on():
    track = Track((0, 0, 30), (300, 0, 30), lim(10))
    for _ in range(500):  # 10 s: cruising
        pos, vel, _ = track.step(0.02)
    stopped_at = None
    for i in range(400):
        pos, vel, _ = track.step(0.02, paused=True)
        if stopped_at is None and vel[0] == 0:
            stopped_at = i * 0.02
    assert stopped_at is not None and 4.0 < stopped_at < 5.5  # SITL: 8.8 m/s to 0 in ~5 s
    assert pos[1] == 0 and 0 < pos[0] < 300
    held = pos
    while not track.passed:
        pos, vel, _ = track.step(0.02)
    assert pos == pytest.approx((300, 0, 30)) and held[0] < 300
