"""Mission transfer, parameters and actions against the simulator."""

import threading
import time
from pathlib import Path

import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from missions.items import FENCE, MISSION, RALLY, MissionItem
from patrol.link import Link
from patrol.timebase import TimeBase
from patrol.vehicle import Vehicle
from patrol.vehicle.actions import CommandError
from patrol.vehicle.mission_transfer import MissionTransferError, compare
from patrol.vehicle.params import ParamError
from sim import SimFleet
from tests.patrol.simkit import HOME, M_LAT, M_LON


def connect(fleet: SimFleet, speedup: float) -> tuple[Link, Vehicle]:
    tb = TimeBase(speedup)
    link = Link(f"tcp:127.0.0.1:{fleet.vehicles[0].port}", timebase=tb).start()
    sysid = link.wait_vehicle(5.0)
    assert sysid == 1
    return link, Vehicle(link, sysid, timebase=tb)


def big_mission(count: int) -> list[MissionItem]:
    """Home, takeoff, then a zig-zag of waypoints with loiters and speed changes mixed in."""
    items = [
        MissionItem(16, frame=0, lat=HOME[0], lon=HOME[1], alt=HOME[2]),
        MissionItem(mavlink.MAV_CMD_NAV_TAKEOFF, alt=20),
    ]
    for k in range(2, count):
        lat = HOME[0] + (k % 50) * 10 * M_LAT
        lon = HOME[1] + (k // 50) * 10 * M_LON
        if k % 25 == 0:
            items.append(MissionItem(mavlink.MAV_CMD_DO_CHANGE_SPEED, param1=1, param2=5 + k % 7))
        elif k % 10 == 0:
            items.append(
                MissionItem(
                    mavlink.MAV_CMD_NAV_LOITER_TIME, lat=lat, lon=lon, alt=25, param1=3,
                )
            )  # fmt: skip
        else:
            items.append(MissionItem(16, lat=lat, lon=lon, alt=20 + k % 5, param4=float("nan")))
    return items


@pytest.mark.parametrize("path", ["ftp", "mission"])
def test_500_items_at_20_percent_loss_verified_identical(tmp_path: Path, path: str) -> None:
    """Over MAVLink FTP and over the mission protocol alike."""
    speedup = 30.0  # the vehicle's 8 s upload timeout is 270 ms of wall time
    with SimFleet(count=1, home=HOME, speedup=speedup, base_port=0, state_dir=tmp_path) as fleet:
        link, vehicle = connect(fleet, speedup)
        vehicle.missions.use_ftp = path == "ftp"
        try:
            fleet.vehicles[0].faults.packet_loss = 0.2
            items = big_mission(500)
            started = time.monotonic()
            stats = vehicle.missions.upload_verified(items, MISSION)
            took = time.monotonic() - started
            fleet.vehicles[0].faults.packet_loss = 0.0
            assert compare(items, vehicle.missions.download(MISSION), MISSION) == []
        finally:
            link.close()
    assert stats.path == path
    assert stats.resent > 0  # the loss was real and recovered from
    # typically 8-10 s; a lost request costs ArduPilot's 1 s re-request period (33 ms here)
    assert took < 30, f"500 items at 20 % loss took {took:.1f} s"


def test_fence_rally_round_trip_and_refusals(tmp_path: Path) -> None:
    speedup = 40.0
    with SimFleet(count=1, home=HOME, speedup=speedup, base_port=0, state_dir=tmp_path) as fleet:
        link, vehicle = connect(fleet, speedup)
        try:
            square = [(0, 0), (300, 0), (300, 300), (0, 300)]
            fence = [
                MissionItem(
                    mavlink.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION,
                    frame=0,
                    lat=HOME[0] + n * M_LAT - 50 * M_LAT,
                    lon=HOME[1] + e * M_LON - 50 * M_LON,
                    param1=4,
                    mission_type=FENCE,
                )
                for n, e in square
            ] + [
                MissionItem(
                    mavlink.MAV_CMD_NAV_FENCE_CIRCLE_EXCLUSION,
                    frame=0,
                    lat=HOME[0] + 100 * M_LAT,
                    lon=HOME[1] + 100 * M_LON,
                    param1=20,
                    mission_type=FENCE,
                )
            ]
            rally = [
                MissionItem(
                    mavlink.MAV_CMD_NAV_RALLY_POINT,
                    lat=HOME[0] + 60 * M_LAT,
                    lon=HOME[1] + 60 * M_LON,
                    alt=30,
                    mission_type=RALLY,
                )
            ]
            vehicle.missions.upload_verified(fence, FENCE)
            vehicle.missions.upload_verified(rally, RALLY)
            assert compare(rally, vehicle.missions.download(RALLY), RALLY) == []
            # an unsupported command in an item: refused with the MAV_MISSION_RESULT name
            bad = [*big_mission(3), MissionItem(31010, param1=1)]
            with pytest.raises(MissionTransferError, match="MAV_MISSION_UNSUPPORTED"):
                vehicle.missions.upload(bad, MISSION)
            with pytest.raises(MissionTransferError, match="MAV_MISSION_NO_SPACE"):
                vehicle.missions.upload(big_mission(700), MISSION)
            vehicle.missions.clear(RALLY)
            assert vehicle.missions.download(RALLY) == []
        finally:
            link.close()


def test_params_and_actions(tmp_path: Path) -> None:
    speedup = 40.0
    with SimFleet(count=1, home=HOME, speedup=speedup, base_port=0, state_dir=tmp_path) as fleet:
        link, vehicle = connect(fleet, speedup)
        try:
            vehicle.telemetry.request_streams()
            # arming before the position estimate: refused with the vehicle's reasons
            vehicle.actions.set_mode("GUIDED")
            with pytest.raises(CommandError, match=r"arming refused: Arm: "):
                vehicle.actions.arm()
            assert vehicle.params.set("RTL_ALT", 2500) == 2500
            assert vehicle.params.get("rtl_alt") == 2500
            assert vehicle.params.ensure("RTL_ALT", 2500) == (2500, False)
            with pytest.raises(ParamError, match="stored 1"):
                vehicle.params.set("FS_GCS_ENABLE", 1.7)  # INT8: the vehicle truncates
            vehicle.params.set("FS_GCS_ENABLE", 0)  # (this test is not about link loss)
            with pytest.raises(ParamError, match="NO_SUCH_PARAM"):
                vehicle.params.get("NO_SUCH_PARAM")
            with pytest.raises(CommandError, match="unknown mode"):
                vehicle.actions.set_mode("HOVER")
            fleet.wait_for(lambda: fleet.vehicles[0].ekf_has_position(), sim_timeout=80)
            deadline = time.monotonic() + 5
            while vehicle.telemetry.state.prearm_ok is False and time.monotonic() < deadline:
                time.sleep(0.02)
            vehicle.actions.arm()
            vehicle.actions.disarm()
            assert not vehicle.telemetry.state.armed
            vehicle.actions.arm()
            vehicle.actions.takeoff(15)
            assert vehicle.actions.wait_altitude(14, 30)
            target = (HOME[0] + 60 * M_LAT, HOME[1] + 40 * M_LON)
            vehicle.actions.goto(*target, 18)
            fleet.wait_for(
                lambda: abs(fleet.vehicles[0].pose().lat - target[0]) < 3 * M_LAT, sim_timeout=40
            )
            vehicle.actions.pause("PAUSE")  # DO_PAUSE_CONTINUE: holds, mode unchanged
            assert vehicle.actions.paused_by == "PAUSE"
            assert vehicle.telemetry.state.mode_name == "GUIDED"
            vehicle.actions.resume_mission()  # DO_PAUSE_CONTINUE 1 (no mode change)
            assert vehicle.telemetry.state.mode_name == "GUIDED"
            vehicle.actions.pause("BRAKE")
            assert vehicle.telemetry.state.mode_name == "BRAKE"
            vehicle.actions.land()
            fleet.wait_for(lambda: not fleet.vehicles[0].armed, sim_timeout=80)
            with pytest.raises(CommandError, match="MAV_RESULT_FAILED"):
                vehicle.actions.takeoff(10)  # disarmed
        finally:
            link.close()


def outage_after(fleet: SimFleet, items_taken: int, seconds: float) -> threading.Thread:
    """Cut the ground link for ``seconds`` of sim time once the vehicle has taken
    ``items_taken`` items of a MISSION upload."""
    sim = fleet.vehicles[0]

    def watch() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            upload = sim.missions.uploads.get(MISSION)
            if upload is not None and upload.expected >= items_taken:
                sim.faults.outages = [(fleet.sim_time, fleet.sim_time + seconds)]
                return
            time.sleep(0.001)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_link_dropping_mid_upload_restarts_and_verifies(tmp_path: Path) -> None:
    speedup = 20.0
    with SimFleet(count=1, home=HOME, speedup=speedup, base_port=0, state_dir=tmp_path) as fleet:
        link, vehicle = connect(fleet, speedup)
        vehicle.missions.use_ftp = False  # the mission protocol's own restarts
        try:
            items = big_mission(300)
            watcher = outage_after(fleet, 100, seconds=10.0)  # longer than either side's timeout
            stats = vehicle.missions.upload_verified(items, MISSION)
            watcher.join()
            assert fleet.vehicles[0].faults.outages, "the outage never happened"
            assert compare(items, vehicle.missions.download(MISSION), MISSION) == []
        finally:
            link.close()
    assert stats.restarts >= 1


def test_link_gone_for_good_fails_the_upload_clearly(tmp_path: Path) -> None:
    speedup = 20.0
    with SimFleet(count=1, home=HOME, speedup=speedup, base_port=0, state_dir=tmp_path) as fleet:
        link, vehicle = connect(fleet, speedup)
        vehicle.missions.use_ftp = False  # the mission protocol's own restarts
        try:
            outage_after(fleet, 100, seconds=600.0)
            with pytest.raises(MissionTransferError, match=r"mission upload failed after 3 tries"):
                vehicle.missions.upload_verified(big_mission(300), MISSION)
            fleet.vehicles[0].faults.outages = []
            # as in SITL, the vehicle keeps the part it took: only a verified upload may fly
            held = vehicle.missions.download(MISSION)
            assert 100 <= len(held) < 300
        finally:
            link.close()
