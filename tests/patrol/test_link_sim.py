"""The link against the simulator: two vehicles sharing one UDP port, and MAVLink 2 signing."""

from pathlib import Path

from missions.items import MISSION
from patrol.link import Link, signing_key
from patrol.timebase import TimeBase
from patrol.vehicle import Vehicle
from patrol.vehicle.mission_transfer import compare
from sim import SimFleet
from tests.patrol.simkit import HOME, gcs_udp_port, square_plan, wait_until

K = 20.0


def test_two_vehicles_on_one_udp_port_without_cross_talk(tmp_path: Path) -> None:
    tb = TimeBase(K)
    with (
        gcs_udp_port() as port,
        SimFleet(
            count=2, home=HOME, speedup=K, base_port=0, state_dir=tmp_path,
            gcs_udp=("127.0.0.1", port),
        ),
        Link(f"udpin:127.0.0.1:{port}", timebase=tb) as link,
    ):  # fmt: skip
        heard: set[int] = set()
        link.add_handler(lambda m: heard.add(m.get_srcSystem()))
        wait_until(lambda: {1, 2} <= heard, timeout=10)
        one, two = Vehicle(link, 1, timebase=tb), Vehicle(link, 2, timebase=tb)
        assert one.params.get("MAV_SYSID") == 1 and two.params.get("MAV_SYSID") == 2
        plans = [square_plan(80, legs=2).items, square_plan(150, legs=4).items]
        one.missions.upload_verified(plans[0], MISSION)
        two.missions.upload_verified(plans[1], MISSION)
        assert compare(plans[0], one.missions.download(MISSION), MISSION) == []
        assert compare(plans[1], two.missions.download(MISSION), MISSION) == []
        one.telemetry.request_streams()
        wait_until(lambda: one.telemetry.state.position is not None, timeout=10)
        assert two.telemetry.state.position is None  # streams asked of vehicle 1 only


def test_signed_link_flies_commands_and_refuses_the_unsigned(tmp_path: Path) -> None:
    key = "township field key"
    tb = TimeBase(K)
    with SimFleet(
        count=1, home=HOME, speedup=K, base_port=0, state_dir=tmp_path, signing_key=key
    ) as fleet:
        url = f"tcp:127.0.0.1:{fleet.vehicles[0].port}"
        with Link(url, timebase=tb, key=signing_key(key), require_signing=True) as link:
            assert link.wait_vehicle(5.0) == 1
            vehicle = Vehicle(link, 1, timebase=tb)
            assert vehicle.params.set("RTL_ALT", 2000) == 2000  # our signed PARAM_SET is taken
            assert link.stats.rejected_unsigned == link.stats.rejected_wrong_key == 0
        with Link(url, timebase=tb, key=signing_key("wrong key"), require_signing=True) as link:
            assert link.wait_vehicle(1.0) is None
            assert link.stats.rejected_wrong_key > 0 and link.stats.rejected_unsigned == 0
