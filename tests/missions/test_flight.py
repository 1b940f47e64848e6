from __future__ import annotations

import numpy as np
import pytest

from missions.flight import ACCEL, path_time, turn_times, vertical_time


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
