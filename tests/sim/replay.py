"""Replay a recorded ArduCopter SITL transcript against the simulator and reduce both sides
to the events a ground controller acts on (ACKs, mission protocol, modes, texts)."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from pymavlink.dialects.v20 import ardupilotmega as mavlink

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "sitl"

# Texts SITL sends that the simulator deliberately does not reproduce.
IGNORED_TEXTS: tuple[re.Pattern, ...] = ()
COMPARED = {
    "HEARTBEAT",
    "COMMAND_ACK",
    "MISSION_ACK",
    "MISSION_COUNT",
    "MISSION_REQUEST",
    "MISSION_REQUEST_INT",
    "MISSION_ITEM_INT",
    "MISSION_ITEM",
    "MISSION_ITEM_REACHED",
    "STATUSTEXT",
}


@dataclass
class Record:
    boot_s: float
    direction: str
    type: str
    fields: dict
    src: tuple[int, int] | None = None


def load(name: str) -> list[Record]:
    records = []
    with open(SHARED / name) as f:
        for line in f:
            r = json.loads(line)
            src = tuple(r["src"]) if "src" in r else None
            records.append(
                Record(r.get("boot_ms", 0) / 1000.0, r["dir"], r["type"], r["fields"], src)
            )
    return records


def _value(v):
    if v == "NaN":
        return math.nan
    if v == "Infinity":
        return math.inf
    if v == "-Infinity":
        return -math.inf
    return v


def to_message(record: Record) -> mavlink.MAVLink_message:
    """The recorded outgoing message, rebuilt as a pymavlink message."""
    cls = mavlink.mavlink_map[getattr(mavlink, f"MAVLINK_MSG_ID_{record.type}")]
    args = []
    for name in cls.fieldnames:
        value = record.fields.get(name, 0)
        value = [_value(x) for x in value] if isinstance(value, list) else _value(value)
        if isinstance(value, str):
            value = value.encode()
        args.append(value)
    return cls(*args)


def normalize_text(text: str) -> str:
    text = re.sub(r"\d+\.\d+", "#", text)
    text = re.sub(r"used \d+ mAh", "used # mAh", text)
    text = re.sub(r"^EKF3 IMU\d ", "EKF3 IMU# ", text)  # the two EKF lanes report in any order
    return re.sub(r"^[0-9a-fA-F]{24,}$", "<board id>", text)


class Events:
    """Reduces a message stream to comparable events, in order."""

    def __init__(self) -> None:
        self.events: list[tuple] = []
        self.mode: int | None = None
        self.armed: bool | None = None
        self.armed_changes: list[bool] = []
        self.texts: list[tuple[float, str]] = []  # (sim time received, text)

    def add(self, mtype: str, f: dict) -> None:
        ev: tuple | None = None
        if mtype == "HEARTBEAT":
            armed = bool(f["base_mode"] & mavlink.MAV_MODE_FLAG_SAFETY_ARMED)
            if f["custom_mode"] != self.mode:
                self.mode = f["custom_mode"]
                self._push(("MODE", self.mode))
            if armed != self.armed:
                # compared on its own: the 1 Hz heartbeat that shows it has a free phase
                self.armed = armed
                self.armed_changes.append(armed)
            return
        if mtype == "COMMAND_ACK":
            ev = ("ACK", f["command"], f["result"])
        elif mtype == "MISSION_ACK":
            ev = ("MISSION_ACK", f["type"], f["mission_type"])
        elif mtype == "MISSION_COUNT":
            ev = ("MISSION_COUNT", f["count"], f["mission_type"])
        elif mtype in ("MISSION_REQUEST", "MISSION_REQUEST_INT"):
            ev = (mtype, f["seq"], f["mission_type"])
        elif mtype in ("MISSION_ITEM_INT", "MISSION_ITEM"):
            ev = (mtype, f["seq"], f["command"], f["frame"], f["mission_type"])
        elif mtype == "MISSION_ITEM_REACHED":
            ev = ("REACHED", f["seq"])
        elif mtype == "STATUSTEXT":
            if any(p.search(f["text"]) for p in IGNORED_TEXTS):
                return
            ev = ("TEXT", normalize_text(f["text"]))
        if ev is not None:
            self._push(ev)

    def _push(self, ev: tuple) -> None:
        # re-sent requests and repeated heartbeats depend on timing, not on behaviour
        if ev[0] == "MISSION_REQUEST" and self.events and self.events[-1] == ev:
            return
        self.events.append(ev)


def recorded_events(records: list[Record]) -> Events:
    ev = Events()
    for r in records:
        if r.direction == "in" and r.type in COMPARED and r.src in (None, (1, 1)):
            ev.add(r.type, r.fields)
    return ev


def recorded_texts(records: list[Record]) -> list[tuple[float, str]]:
    return [(r.boot_s, r.fields["text"]) for r in records if r.type == "STATUSTEXT"]


def leg_times(texts: list[tuple[float, str]]) -> dict:
    """Seconds from "Mission: n" to "Reached command #n" per item, and touchdown to disarm."""
    start: dict[int, float] = {}
    legs: dict = {}
    touchdown = None
    for t, text in texts:
        if m := re.match(r"Mission: (\d+)", text):
            start[int(m.group(1))] = t
        elif (m := re.match(r"Reached command #(\d+)", text)) and int(m.group(1)) in start:
            legs[int(m.group(1))] = t - start[int(m.group(1))]
        elif text.startswith("SIM Hit ground"):
            touchdown = t
        elif text == "Disarming motors" and touchdown is not None:
            legs["disarm_after_touchdown"] = t - touchdown
    return legs


def message_fields(msg) -> dict:
    return {name: getattr(msg, name) for name in msg.get_fieldnames()}


def replay(
    records: list[Record], gcs, fleet, tail_s: float = 1.0, chunk_s: float = 0.05, timed=None
):
    """Lock-step replay: advance the (not started) fleet to each recorded outgoing message's
    sim time and send it; return the events of everything the simulator answered. ``timed``,
    a list, receives (sim time to within one chunk, message) for every message."""
    gcs.sock.setblocking(False)
    outs = [r for r in records if r.direction == "out"]
    end = max(r.boot_s for r in records) + tail_s
    events = Events()
    seen = 0
    i = 0
    while fleet.sim_time < end:
        while i < len(outs) and outs[i].boot_s <= fleet.sim_time:
            gcs.send(to_message(outs[i]))
            i += 1
        next_out = outs[i].boot_s if i < len(outs) else end
        fleet.advance(max(min(chunk_s, next_out - fleet.sim_time), fleet.dt))
        gcs.pump_all()
        for msg in gcs.log[seen:]:
            if msg.get_type() in COMPARED:
                events.add(msg.get_type(), message_fields(msg))
            if msg.get_type() == "STATUSTEXT":
                events.texts.append((fleet.sim_time, msg.text))  # to within one chunk
            if timed is not None:
                timed.append((fleet.sim_time, msg))
        seen = len(gcs.log)
    gcs.close()
    return events
