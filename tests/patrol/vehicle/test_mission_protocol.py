"""The mission protocol against a scripted vehicle that uses MISSION_REQUEST_INT and loses
messages in ways a real radio does, without the simulator."""

import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from missions.items import MISSION, MissionItem
from patrol.link import Link
from patrol.timebase import TimeBase
from patrol.vehicle import Vehicle
from patrol.vehicle.mission_transfer import MissionTransferError, compare, item_from_message
from tests.patrol.peer import Peer


class ScriptedVehicle:
    """Requests with MISSION_REQUEST_INT, never re-requests (so the ground station must re-send
    lost items), ignores the first copy of some items and requests, and can refuse."""

    def __init__(self, refuse_at: int | None = None) -> None:
        self.stored: list[MissionItem] = []
        self.expected = 0
        self.count = 0
        self.ignored: set[tuple[str, int]] = set()
        self.refuse_at = refuse_at

    def __call__(self, peer: Peer, msg) -> None:
        kind = msg.get_type()
        if kind == "MISSION_COUNT":
            self.count, self.expected, self.stored = msg.count, 0, []
            peer.send(1, mavlink.MAVLink_mission_request_int_message(255, 190, 0, MISSION))
        elif kind == "MISSION_ITEM_INT":
            if msg.seq != self.expected:
                peer.send(1, mavlink.MAVLink_mission_ack_message(255, 190, 13, MISSION))
                return
            if msg.seq % 3 == 2 and ("item", msg.seq) not in self.ignored:
                self.ignored.add(("item", msg.seq))  # "lost" on the way up
                return
            if msg.seq == self.refuse_at:
                peer.send(1, mavlink.MAVLink_mission_ack_message(255, 190, 6, MISSION))
                return
            self.stored.append(item_from_message(msg, MISSION))
            self.expected += 1
            if self.expected == self.count:
                peer.send(1, mavlink.MAVLink_mission_ack_message(255, 190, 0, MISSION))
            else:
                peer.send(
                    1, mavlink.MAVLink_mission_request_int_message(255, 190, self.expected, 0)
                )
        elif kind == "MISSION_REQUEST_LIST":
            peer.send(1, mavlink.MAVLink_mission_count_message(255, 190, len(self.stored), 0))
        elif kind == "MISSION_REQUEST_INT":
            if msg.seq % 4 == 1 and ("request", msg.seq) not in self.ignored:
                self.ignored.add(("request", msg.seq))  # the reply is "lost"
                return
            item = self.stored[msg.seq]
            peer.send(
                1,
                mavlink.MAVLink_mission_item_int_message(
                    255, 190, msg.seq, item.frame, item.command, 0, 1, item.param1,
                    item.param2, item.param3, item.param4, item.x, item.y, item.alt, 0,
                ),
            )  # fmt: skip


def items(n: int) -> list[MissionItem]:
    return [MissionItem(16, frame=0, lat=27.57, lon=119.71, alt=200)] + [
        MissionItem(16, lat=27.57 + k * 1e-4, lon=119.71, alt=20 + k) for k in range(1, n)
    ]


def test_upload_and_download_recover_lost_messages() -> None:
    script = ScriptedVehicle()
    peer = Peer(on_message=script)
    try:
        with Link(peer.url, timebase=TimeBase(10.0)) as link:
            assert link.wait_vehicle(5.0) == 1
            vehicle = Vehicle(link, 1, timebase=TimeBase(10.0))
            sent = items(12)
            stats = vehicle.missions.upload_verified(sent, MISSION)
            assert len(script.stored) == 12 and compare(sent, script.stored, MISSION) == []
            assert stats.resent >= 3  # items 2, 5, 8, 11 were "lost" once
            assert ("request", 1) in script.ignored and ("request", 9) in script.ignored
    finally:
        peer.close()


def test_refusal_names_the_result() -> None:
    peer = Peer(on_message=ScriptedVehicle(refuse_at=4))
    try:
        with Link(peer.url, timebase=TimeBase(10.0)) as link:
            assert link.wait_vehicle(5.0) == 1
            vehicle = Vehicle(link, 1, timebase=TimeBase(10.0))
            with pytest.raises(
                MissionTransferError, match="at item 4 of 6: MAV_MISSION_INVALID_PARAM1"
            ):
                vehicle.missions.upload(items(6), MISSION)
    finally:
        peer.close()
