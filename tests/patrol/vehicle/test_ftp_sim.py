"""MAVLink FTP from the controller against the simulator: missions, fences and rally points as
files, the 650-item cut only a read-back sees, and the fall back to the mission protocol when
the vehicle has no FTP or its FTP fails."""

from __future__ import annotations

from pathlib import Path

import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink
from pymavlink.mavftp import MAVFTP

from missions.items import FENCE, MISSION, RALLY, MissionItem
from patrol.vehicle.ftp import FtpClient
from patrol.vehicle.mission_transfer import MissionTransferError, compare
from sim import SimFleet, telemetry
from tests.patrol.simkit import HOME, M_LAT, M_LON
from tests.patrol.vehicle.test_transfer_sim import big_mission, connect

SPEEDUP = 30.0


def fence_and_rally() -> tuple[list[MissionItem], list[MissionItem]]:
    corners = [(-150, -150), (-150, 150), (150, 150), (150, -150)]
    fence = [
        MissionItem(5001, frame=0, lat=HOME[0] + n * M_LAT, lon=HOME[1] + e * M_LON, param1=4,
                    mission_type=FENCE)
        for n, e in corners
    ] + [MissionItem(5004, frame=0, lat=HOME[0] + 50 * M_LAT, lon=HOME[1] + 50 * M_LON,
                     param1=30, mission_type=FENCE)]  # fmt: skip
    rally = [
        MissionItem(5100, lat=HOME[0] + s * 60 * M_LAT, lon=HOME[1] + s * 60 * M_LON, alt=30,
                    mission_type=RALLY)
        for s in (1, -1)
    ]  # fmt: skip
    return fence, rally


def test_missions_fences_and_rally_points_as_files(tmp_path: Path) -> None:
    fence, rally = fence_and_rally()
    with SimFleet(count=1, home=HOME, speedup=SPEEDUP, base_port=0, state_dir=tmp_path) as fleet:
        link, vehicle = connect(fleet, SPEEDUP)
        sim = fleet.vehicles[0]
        try:
            items = big_mission(120)
            for sent, kind in ((items, MISSION), (fence, FENCE), (rally, RALLY)):
                stats = vehicle.missions.upload_verified(sent, kind)
                assert stats.path == "ftp" and stats.way() == "over MAVLink FTP"
                assert compare(sent, vehicle.missions.download(kind), kind) == []
            # what the vehicle now flies: the files went into its mission, fence and rally
            assert [i.command for i in sim.mission_items()] == [i.command for i in items]
            assert sim.missions.count(FENCE) == 5 and sim.missions.count(RALLY) == 2
            assert sim.params["MIS_TOTAL"] == 120 and sim.params["FENCE_TOTAL"] == 7
            # every parameter in one transfer, as pymavlink decodes it
            pck = FtpClient(vehicle.channel).read("@PARAM/param.pck", check_crc=False)
            assert len(MAVFTP.ftp_param_decode(pck).params) == 1354
        finally:
            link.close()


def test_700_items_cut_to_650_is_caught_by_the_read_back(tmp_path: Path) -> None:
    with SimFleet(count=1, home=HOME, speedup=SPEEDUP, base_port=0, state_dir=tmp_path) as fleet:
        link, vehicle = connect(fleet, SPEEDUP)
        try:
            with pytest.raises(MissionTransferError) as refused:
                vehicle.missions.upload_verified(big_mission(700), MISSION)
        finally:
            link.close()
    message = str(refused.value)
    assert "over MAVLink FTP" in message
    assert "sent 700 items, vehicle holds only the first 650" in message
    assert "dropped, without a word, what did not fit in its storage" in message
    assert fleet.vehicles[0].missions.count(MISSION) == 650  # the vehicle did take 650


def test_no_ftp_capability_uses_the_mission_protocol(tmp_path: Path, monkeypatch) -> None:
    def without_ftp(v):
        msg = telemetry.autopilot_version(v)
        msg.capabilities &= ~mavlink.MAV_PROTOCOL_CAPABILITY_FTP
        return msg

    monkeypatch.setitem(telemetry.BY_ID, mavlink.MAVLINK_MSG_ID_AUTOPILOT_VERSION, without_ftp)
    with SimFleet(count=1, home=HOME, speedup=SPEEDUP, base_port=0, state_dir=tmp_path) as fleet:
        link, vehicle = connect(fleet, SPEEDUP)
        try:
            stats = vehicle.missions.upload_verified(big_mission(20), MISSION)
        finally:
            link.close()
    assert stats.path == "mission"
    assert stats.way() == "over the mission protocol (vehicle offers no MAVLink FTP)"


def test_failing_ftp_falls_back_to_the_mission_protocol(tmp_path: Path) -> None:
    with SimFleet(count=1, home=HOME, speedup=SPEEDUP, base_port=0, state_dir=tmp_path) as fleet:
        link, vehicle = connect(fleet, SPEEDUP)
        handler = fleet.vehicles[0].channels[0].on_message
        handler.ftp.handle = lambda channel, msg: None  # FTP requests go unanswered
        try:
            items = big_mission(30)
            stats = vehicle.missions.upload_verified(items, MISSION)
            assert compare(items, vehicle.missions.download(MISSION), MISSION) == []
        finally:
            link.close()
    assert stats.path == "mission"
    assert stats.note.startswith("MAVLink FTP failed: no reply to CreateFile from vehicle 1")
