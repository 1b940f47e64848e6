"""The vehicle's speed-up, read from SIM_SPEEDUP: followed, overridden, or 1 for an aircraft."""

from pathlib import Path

from patrol.link import Link
from patrol.timebase import TimeBase
from patrol.vehicle import Vehicle
from patrol.vehicle.speedup import settle_speedup
from sim import SimFleet
from tests.patrol.peer import Peer
from tests.patrol.simkit import HOME, wait_until


def test_the_link_runs_at_the_simulators_speedup_and_follows_it(tmp_path: Path) -> None:
    with (
        SimFleet(count=1, home=HOME, speedup=25, base_port=0, state_dir=tmp_path) as fleet,
        Link(f"tcp:127.0.0.1:{fleet.vehicles[0].port}") as link,
    ):
        assert link.wait_vehicle(10) == 1
        vehicle = Vehicle(link, 1)
        found = settle_speedup(vehicle)
        assert found.reported == 25 and found.used == 25
        assert link.timebase.scale == 25 and vehicle.timebase is link.timebase
        assert found.note == "speed-up 25: vehicle 1 reports SIM_SPEEDUP 25"
        assert vehicle.params.set("SIM_SPEEDUP", 30) == 30  # changed live, as on SITL
        wait_until(lambda: link.timebase.scale == 30, timeout=5)
        assert fleet.speedup == 30


def test_an_override_wins_and_a_mismatch_is_reported(tmp_path: Path) -> None:
    with SimFleet(count=1, home=HOME, speedup=20, base_port=0, state_dir=tmp_path) as fleet:
        fixed = TimeBase(10)
        with Link(f"tcp:127.0.0.1:{fleet.vehicles[0].port}", timebase=fixed) as link:
            assert link.wait_vehicle(10) == 1
            found = settle_speedup(Vehicle(link, 1), override=10)
    assert found.reported == 20 and found.used == 10 and fixed.scale == 10
    assert found.note.startswith(
        "speed-up MISMATCH: vehicle 1 reports SIM_SPEEDUP 20, but --speedup 10 was given"
    )


def test_a_real_aircraft_has_no_sim_speedup_and_runs_at_one() -> None:
    peer = Peer(sysids=(1,))  # answers no parameter read, as ArduPilot for an unknown name
    try:
        with Link(peer.url, timebase=TimeBase(7)) as link:
            assert link.wait_vehicle(5) == 1
            found = settle_speedup(Vehicle(link, 1))
            assert found.reported is None and found.used == 1 and link.timebase.scale == 1
            assert (
                found.note == "speed-up 1: vehicle 1 has no SIM_SPEEDUP parameter (a real aircraft)"
            )
        asked = [m for m in peer.received if m.get_type() == "PARAM_REQUEST_READ"]
        assert len(asked) >= 5  # re-asked, so that a lossy link does not pass for an aircraft
    finally:
        peer.close()
