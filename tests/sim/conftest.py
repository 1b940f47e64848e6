"""Fixtures: a simulated fleet at high speedup and a scripted ground station."""

from __future__ import annotations

import pytest

from sim import SimFleet
from sim.geo import offset
from tests.sim.gcs import Gcs, item

HOME = (27.57, 119.71, 200.0, 0.0)


@pytest.fixture
def fleet(tmp_path):
    """One copter in lock-step (the test's ground station advances simulated time), with
    SITL's boot timing shortened ten times (GPS/EKF position at ~4 s)."""
    f = SimFleet(count=1, home=HOME, base_port=0, state_dir=tmp_path, boot_time_scale=0.1)
    yield f
    f.stop()


@pytest.fixture
def vehicle(fleet):
    return fleet.vehicles[0]


@pytest.fixture
def gcs(fleet, vehicle):
    g = Gcs(vehicle.port, fleet=fleet)
    yield g
    g.close()


@pytest.fixture
def ready(fleet, vehicle, gcs):
    """A vehicle whose EKF has a position, seen by a connected GCS."""
    gcs.wait_for(vehicle.ekf_has_position, 60)
    gcs.drain()
    return vehicle


def local(north: float, east: float) -> tuple[float, float]:
    return offset(HOME[0], HOME[1], north, east)


def square_mission(alt: float = 20.0) -> list:
    """Home, takeoff, three waypoints 100 m apart, RTL."""
    items = [item(0, 16, HOME[0], HOME[1], 0), item(1, 22, alt=alt)]
    for seq, (n, e) in enumerate([(100, 0), (100, 100), (0, 100)], start=2):
        items.append(item(seq, 16, *local(n, e), alt))
    items.append(item(5, 20))
    return items


def take_off(fleet, vehicle, gcs, alt: float = 20.0) -> None:
    assert gcs.command(176, 1, 4).result == 0
    assert gcs.command(400, 1).result == 0
    assert gcs.command(22, 0, 0, 0, 0, 0, 0, alt).result == 0
    gcs.wait_for(lambda: vehicle.pose().alt_rel > alt - 0.3, 40)
