"""ArduPilot's mission files (``@MISSION/mission.dat``, ``fence.dat``, ``rally.dat`` over
MAVLink FTP): a ``<HHHHH`` header (magic 0x763d, mission type, options, start, count), then
one MISSION_ITEM_INT payload (38 bytes, MAVLink wire order) per item."""

from __future__ import annotations

import struct

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from missions.items import FENCE, MISSION, RALLY, MissionItem

HEADER = struct.Struct("<HHHHH")
MAGIC = 0x763D
ITEM = mavlink.MAVLink_mission_item_int_message
ITEM_SIZE = ITEM.unpacker.size
PATHS = {MISSION: "@MISSION/mission.dat", FENCE: "@MISSION/fence.dat", RALLY: "@MISSION/rally.dat"}


class MissionFileError(Exception):
    """A mission file that is not what the vehicle should have sent."""


def item_message(
    item: MissionItem, seq: int, mission_type: int, sysid: int, compid: int
) -> mavlink.MAVLink_mission_item_int_message:
    return ITEM(
        sysid, compid, seq, item.frame, item.command, 0, item.autocontinue,
        item.param1, item.param2, item.param3, item.param4,
        item.x, item.y, item.alt, mission_type,
    )  # fmt: skip


def encode(items: list[MissionItem], mission_type: int, sysid: int, compid: int) -> bytes:
    """The file for ``items`` (for MISSION, item 0 is home), as ``wp ftpload`` writes it."""
    out = bytearray(HEADER.pack(MAGIC, mission_type, 0, 0, len(items)))
    for seq, item in enumerate(items):
        msg = item_message(item, seq, mission_type, sysid, compid)
        out += ITEM.unpacker.pack(*(getattr(msg, name) for name in ITEM.ordered_fieldnames))
    return bytes(out)


def decode(data: bytes, mission_type: int) -> list[MissionItem]:
    """The items of a file read from the vehicle; MissionFileError if it is malformed."""
    if len(data) < HEADER.size:
        raise MissionFileError(f"mission file of {len(data)} bytes has no header")
    magic, kind, _options, _start, count = HEADER.unpack_from(data)
    if magic != MAGIC:
        raise MissionFileError(f"mission file magic 0x{magic:04x}, expected 0x{MAGIC:04x}")
    if kind != mission_type:
        raise MissionFileError(f"mission file holds mission type {kind}, not {mission_type}")
    if len(data) != HEADER.size + count * ITEM_SIZE:
        raise MissionFileError(
            f"mission file header says {count} items but {len(data) - HEADER.size} bytes follow"
        )
    items = []
    for seq in range(count):
        start = HEADER.size + seq * ITEM_SIZE
        raw = ITEM.unpacker.unpack(data[start : start + ITEM_SIZE])
        f = dict(zip(ITEM.ordered_fieldnames, raw, strict=True))
        items.append(
            MissionItem(
                command=f["command"], frame=f["frame"], lat=f["x"] / 1e7, lon=f["y"] / 1e7,
                alt=float(f["z"]), param1=f["param1"], param2=f["param2"],
                param3=f["param3"], param4=f["param4"], autocontinue=f["autocontinue"],
                mission_type=mission_type,
            )
        )  # fmt: skip
    return items
