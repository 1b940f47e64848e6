"""Mission, fence and rally storage and the MAVLink mission protocol, as ArduPilot answers it."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from pymavlink.dialects.v20 import ardupilotmega as mavlink

if TYPE_CHECKING:
    from sim.link import Channel

MISSION = mavlink.MAV_MISSION_TYPE_MISSION
FENCE = mavlink.MAV_MISSION_TYPE_FENCE
RALLY = mavlink.MAV_MISSION_TYPE_RALLY

# Capacities of SITL's storage. 650 for MISSION is recorded; fence and rally are ArduPilot's
# AC_Fence/AP_Rally limits for the same storage layout.
CAPACITY = {MISSION: 650, FENCE: 84, RALLY: 10}
UPLOAD_TIMEOUT_S = 8.0
REREQUEST_S = 1.0

NAV_COMMANDS = {16, 17, 18, 19, 20, 21, 22, 30, 31, 82, 83, 84, 85, 92, 93, 94}
DO_COMMANDS = {
    112, 113, 114, 115,  # conditions
    176, 177, 178, 179, 181, 182, 183, 184, 189, 191, 197, 200, 201, 202, 203, 205, 206,
    207, 208, 210, 211, 212, 213, 214, 215, 216, 217, 218, 220, 221, 222, 223, 224,
    2000, 2500, 2501, 2600, 3000, 5004, 42600, 42700, 42702, 42703,
}  # fmt: skip
FENCE_COMMANDS = {5000, 5001, 5002, 5003, 5004}
FENCE_SHAPES = FENCE_COMMANDS - {5000}  # polygon vertices and circles: not the return point
RALLY_COMMANDS = {5100}
LOITER_COMMANDS = {17, 18, 19, 31}
WAYPOINT_COMMANDS = {16, 82}
LOCATIONLESS_NAV = {20, 93}  # RTL, DELAY: stored without a location, sent back in frame 0
FRAME_GLOBAL_RELATIVE = mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT


@dataclass
class Item:
    """One stored item, in MISSION_ITEM_INT terms (x/y degE7)."""

    seq: int
    frame: int
    command: int
    param1: float
    param2: float
    param3: float
    param4: float
    x: int
    y: int
    z: float
    autocontinue: int = 1
    mission_type: int = MISSION

    @property
    def lat(self) -> float:
        return self.x / 1e7

    @property
    def lon(self) -> float:
        return self.y / 1e7


def float32_degrees(deg_e7: int) -> float:
    """Degrees as ArduPilot fills a legacy MISSION_ITEM: ``lat * 1.0e-7f`` in float32."""
    return float(np.float32(deg_e7) * np.float32(1e-7))


def item_from_message(msg: mavlink.MAVLink_message) -> Item:
    """An Item from MISSION_ITEM_INT or legacy MISSION_ITEM (degrees converted to degE7)."""
    if msg.get_type() == "MISSION_ITEM":
        x, y = round(msg.x * 1e7), round(msg.y * 1e7)
    else:
        x, y = msg.x, msg.y
    return Item(
        seq=msg.seq,
        frame=msg.frame,
        command=msg.command,
        param1=msg.param1,
        param2=msg.param2,
        param3=msg.param3,
        param4=msg.param4,
        x=x,
        y=y,
        z=msg.z,
        autocontinue=msg.autocontinue,
        mission_type=getattr(msg, "mission_type", MISSION),
    )


def validate(item: Item) -> int:
    """MAV_MISSION_RESULT for storing ``item`` (ArduPilot's mavlink_int_to_mission_cmd)."""
    allowed = {
        MISSION: NAV_COMMANDS | DO_COMMANDS,
        FENCE: FENCE_COMMANDS,
        RALLY: RALLY_COMMANDS,
    }[item.mission_type]
    if item.command not in allowed:
        return mavlink.MAV_MISSION_UNSUPPORTED
    if item.command in LOITER_COMMANDS and math.isnan(item.param4):
        return mavlink.MAV_MISSION_INVALID_PARAM4
    positional = item.command in NAV_COMMANDS | RALLY_COMMANDS and item.command != 20
    if positional and item.seq > 0 and abs(item.x) > 900_000_000:
        return mavlink.MAV_MISSION_INVALID_PARAM5_X
    if positional and item.seq > 0 and abs(item.y) > 1_800_000_000:
        return mavlink.MAV_MISSION_INVALID_PARAM6_Y
    return mavlink.MAV_MISSION_ACCEPTED


def stored_form(item: Item) -> Item:
    """What ArduPilot keeps and sends back: nav items in frame 3 (relative), DO items in frame
    0, NaN params as 0, LOITER_TIME param3 (xtrack) 1, autocontinue 0 for fence and rally,
    and of a (spline) waypoint only param1, the hold time: Copter's storage has no room for
    the acceptance radius, pass radius or yaw (12: param2 2 came back 0)."""
    stored = replace(item)
    for name in ("param1", "param2", "param3", "param4"):
        if math.isnan(getattr(stored, name)):
            setattr(stored, name, 0.0)
    if item.mission_type == MISSION:
        stored.autocontinue = 1
        if item.command in NAV_COMMANDS and item.command not in LOCATIONLESS_NAV:
            stored.frame = FRAME_GLOBAL_RELATIVE
        else:
            stored.frame = mavlink.MAV_FRAME_GLOBAL
        if item.command == 19:
            stored.param3 = 1.0
        if item.command in WAYPOINT_COMMANDS:
            stored.param2 = stored.param3 = stored.param4 = 0.0
    elif item.mission_type == RALLY:
        stored.autocontinue = 0
        stored.frame = FRAME_GLOBAL_RELATIVE
    else:
        stored.autocontinue = 0
        stored.frame = mavlink.MAV_FRAME_GLOBAL
    return stored


@dataclass
class Upload:
    channel: Channel
    sysid: int
    compid: int
    count: int
    expected: int = 0
    last_progress: float = 0.0
    last_request: float = 0.0


def fence_total(items: list[Item]) -> int:
    """FENCE_TOTAL as AC_PolyFence_loader::write_fence sets it: polygon vertices plus circles,
    plus 2 (the legacy protocol's return and closing points); 0 for fewer than 3."""
    n = sum(1 for i in items if i.command in FENCE_SHAPES)
    return n + 2 if n >= 3 else 0


class MissionStore:
    """The three item lists (item 0 of MISSION is home) and one upload per mission type."""

    def __init__(
        self,
        text: Callable[[int, str], None],
        clock: Callable[[], float],
        home_item: Callable[[], Item],
        on_change: Callable[[int], None],
        param_value: Callable[[str, float], None],
    ):
        self.items: dict[int, list[Item]] = {MISSION: [], FENCE: [], RALLY: []}
        self.uploads: dict[int, Upload] = {}
        self.text = text
        self.clock = clock
        self.home_item = home_item
        self.on_change = on_change
        self.param_value = param_value
        self.warned: set[str] = set()

    # -- persistence ------------------------------------------------------------------------
    def to_json(self) -> dict:
        return {str(t): [dict(vars(i)) for i in items] for t, items in self.items.items()}

    def load_json(self, data: dict) -> None:
        for key, items in data.items():
            self.items[int(key)] = [Item(**i) for i in items]

    def count(self, mission_type: int = MISSION) -> int:
        return len(self.items[mission_type])

    def write_home(self) -> bool:
        """Home is set (AP_Mission::write_home_to_storage): an empty mission now holds item
        0, as SITL's MIS_TOTAL 1 at that moment shows. True when the count changed."""
        if self.items[MISSION]:
            return False
        self.items[MISSION].append(self.home_item())
        return True

    # -- helpers ----------------------------------------------------------------------------
    @staticmethod
    def _ack(channel: Channel, msg, mission_type: int, result: int) -> None:
        channel.send(
            mavlink.MAVLink_mission_ack_message(
                msg.get_srcSystem(), msg.get_srcComponent(), result, mission_type
            )
        )

    def _request(self, upload: Upload, mission_type: int) -> None:
        upload.channel.send(
            mavlink.MAVLink_mission_request_message(
                upload.sysid, upload.compid, upload.expected, mission_type
            )
        )
        upload.last_request = self.clock()

    def _warn_once(self, text: str) -> None:
        if text not in self.warned:
            self.warned.add(text)
            self.text(mavlink.MAV_SEVERITY_WARNING, text)

    def _write(self, item: Item) -> None:
        items = self.items[item.mission_type]
        stored = stored_form(item)
        if item.mission_type == MISSION and item.seq == 0:
            stored = self.home_item()
        if item.seq < len(items):
            items[item.seq] = stored
        else:
            items.append(stored)

    # -- upload -----------------------------------------------------------------------------
    def handle_count(self, channel: Channel, msg) -> None:
        mtype = getattr(msg, "mission_type", MISSION)
        if mtype not in self.items:
            self._ack(channel, msg, mtype, mavlink.MAV_MISSION_UNSUPPORTED)
            return
        if msg.count > CAPACITY[mtype]:
            self._ack(channel, msg, mtype, mavlink.MAV_MISSION_NO_SPACE)
            self.text(mavlink.MAV_SEVERITY_WARNING, f"Only {CAPACITY[mtype]} items are supported")
            return
        current = self.uploads.get(mtype)
        if current is not None and (current.sysid, current.compid) != (
            msg.get_srcSystem(),
            msg.get_srcComponent(),
        ):
            self._ack(channel, msg, mtype, mavlink.MAV_MISSION_DENIED)  # someone else uploads
            return
        del self.items[mtype][msg.count :]  # ArduPilot truncates at once
        self.uploads.pop(mtype, None)
        if msg.count == 0:
            self._complete(channel, msg, mtype)
            return
        upload = Upload(channel, msg.get_srcSystem(), msg.get_srcComponent(), msg.count)
        upload.last_progress = self.clock()
        self.uploads[mtype] = upload
        self._request(upload, mtype)

    def handle_item(self, channel: Channel, msg) -> None:
        mtype = getattr(msg, "mission_type", MISSION)
        upload = self.uploads.get(mtype)
        if upload is None or mtype not in self.items:
            return  # no upload in progress: ArduPilot does not answer (late duplicates)
        if msg.get_type() == "MISSION_ITEM":
            self._warn_once("got MISSION_ITEM; GCS should send MISSION_ITEM_INT")
        if msg.seq != upload.expected:
            self._ack(channel, msg, mtype, mavlink.MAV_MISSION_INVALID_SEQUENCE)
            return
        if (msg.get_srcSystem(), msg.get_srcComponent()) != (upload.sysid, upload.compid):
            self._ack(channel, msg, mtype, mavlink.MAV_MISSION_DENIED)
            return
        item = item_from_message(msg)
        item.mission_type = mtype
        result = validate(item)
        if result != mavlink.MAV_MISSION_ACCEPTED:
            del self.uploads[mtype]
            self._ack(channel, msg, mtype, result)
            self.on_change(mtype)
            return
        self._write(item)
        upload.expected += 1
        upload.last_progress = self.clock()
        if mtype == MISSION:
            self.param_value("MIS_TOTAL", float(len(self.items[MISSION])))
        elif mtype == RALLY:
            self.param_value("RALLY_TOTAL", float(len(self.items[RALLY])))
        if upload.expected >= upload.count:
            del self.uploads[mtype]
            self._complete(channel, msg, mtype)
        else:
            self._request(upload, mtype)

    def _complete(self, channel: Channel, msg, mtype: int) -> None:
        self._ack(channel, msg, mtype, mavlink.MAV_MISSION_ACCEPTED)
        if mtype == MISSION:
            self.text(mavlink.MAV_SEVERITY_INFO, "Flight plan received")
        elif mtype == FENCE:
            self.text(mavlink.MAV_SEVERITY_DEBUG, "Fence Indexed OK")
            self.param_value("FENCE_TOTAL", float(fence_total(self.items[FENCE])))
        self.on_change(mtype)

    def tick(self) -> None:
        """Re-request the awaited item every second; give up after 8 s without progress."""
        now = self.clock()
        for mtype, upload in list(self.uploads.items()):
            if now - upload.last_progress >= UPLOAD_TIMEOUT_S:
                del self.uploads[mtype]
                upload.channel.send(
                    mavlink.MAVLink_mission_ack_message(
                        upload.sysid,
                        upload.compid,
                        mavlink.MAV_MISSION_OPERATION_CANCELLED,
                        mtype,
                    )
                )
                self.text(mavlink.MAV_SEVERITY_WARNING, "Mission upload timeout")
                self.on_change(mtype)
            elif now - upload.last_request >= REREQUEST_S:
                self._request(upload, mtype)

    # -- download ---------------------------------------------------------------------------
    def _download_type(self, channel: Channel, msg) -> int | None:
        """The mission type a download request is for, or None after refusing it."""
        mtype = getattr(msg, "mission_type", MISSION)
        if mtype not in self.items:
            self._ack(channel, msg, mtype, mavlink.MAV_MISSION_UNSUPPORTED)
            return None
        if mtype in self.uploads:
            self._ack(channel, msg, mtype, mavlink.MAV_MISSION_DENIED)  # upload in progress
            return None
        return mtype

    def handle_request_list(self, channel: Channel, msg) -> None:
        mtype = self._download_type(channel, msg)
        if mtype is not None:
            self._send_count(channel, msg, mtype)

    def _send_count(self, channel: Channel, msg, mtype: int) -> None:
        channel.send(
            mavlink.MAVLink_mission_count_message(
                msg.get_srcSystem(), msg.get_srcComponent(), self.count(mtype), mtype
            )
        )

    def handle_request(self, channel: Channel, msg) -> None:
        mtype = self._download_type(channel, msg)
        if mtype is None:
            return
        items = self.items[mtype]
        if mtype == MISSION and msg.seq == 0:
            item = self.home_item()  # "always allow HOME to be read", even with no mission
        elif msg.seq >= len(items):
            self._send_count(channel, msg, mtype)
            self._ack(channel, msg, mtype, mavlink.MAV_MISSION_INVALID_SEQUENCE)
            return
        else:
            item = items[msg.seq]
        dest = (msg.get_srcSystem(), msg.get_srcComponent())
        if msg.get_type() == "MISSION_REQUEST":
            self._warn_once("got MISSION_REQUEST; use MISSION_REQUEST_INT!")
            out = mavlink.MAVLink_mission_item_message(
                *dest, item.seq, item.frame, item.command, 0, item.autocontinue,
                item.param1, item.param2, item.param3, item.param4,
                float32_degrees(item.x), float32_degrees(item.y), item.z, mtype,
            )  # fmt: skip
        else:
            out = mavlink.MAVLink_mission_item_int_message(
                *dest, item.seq, item.frame, item.command, 0, item.autocontinue,
                item.param1, item.param2, item.param3, item.param4,
                item.x, item.y, item.z, mtype,
            )  # fmt: skip
        channel.send(out)

    def handle_clear_all(self, channel: Channel, msg) -> None:
        mtype = getattr(msg, "mission_type", MISSION)
        if mtype == mavlink.MAV_MISSION_TYPE_ALL:
            for items in self.items.values():
                items.clear()
            changed = list(self.items)
        elif mtype in self.uploads:
            self._ack(channel, msg, mtype, mavlink.MAV_MISSION_ERROR)  # upload in progress
            return
        elif mtype in self.items:
            self.items[mtype].clear()
            changed = [mtype]
        else:
            self._ack(channel, msg, mtype, mavlink.MAV_MISSION_UNSUPPORTED)
            return
        self._ack(channel, msg, mtype, mavlink.MAV_MISSION_ACCEPTED)
        for m in changed:
            self.on_change(m)
