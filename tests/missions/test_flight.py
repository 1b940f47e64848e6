from __future__ import annotations

import numpy as np
import pytest

from missions.flight import ACCEL, path_time, sortie_overhead, turn_times, vertical_time


def test_straight_path_is_length_over_speed():
    pts = np.array([[0, 0], [100, 0], [300, 0]], dtype=float)
    assert path_time(pts, 10) == pytest.approx(30.0)


def test_u_turn_costs_a_stop_and_a_right_angle_half():
    u = np.array([[0, 0], [100, 0], [0, 0]], dtype=float)
    right = np.array([[0, 0], [100, 0], [100, 100]], dtype=float)
    assert turn_times(u, 10)[0] == pytest.approx(10 / ACCEL)
    assert turn_times(right, 10)[0] == pytest.approx(10 / ACCEL / 2)


def test_vertical_time_uses_ardupilot_defaults():
    # 30 m: climb at 2.5 m/s, descend 20 m at 1.5 m/s and the last 10 m at 0.5 m/s
    assert vertical_time(30) == pytest.approx(12 + 20 / 1.5 + 20)


def test_sortie_overhead_matches_sitl_timings():
    # SITL (06): liftoff 3.75 s after NAV_TAKEOFF, ~7 s over home in RTL, disarm 2.1 s after
    # touchdown; plus the stop-start cost of leaving and reaching home at 10 m/s
    assert sortie_overhead(30, 10) == pytest.approx(3.75 + vertical_time(30) + 4 + 7 + 2.1)
