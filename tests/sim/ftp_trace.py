"""The MAVLink FTP part of SITL transcript 11 (../shared/reference/sitl/11-ftp.jsonl), kept as
test data in tests/sim/data/sitl-11-ftp.jsonl: every FILE_TRANSFER_PROTOCOL request and reply,
the recorder's notes, the stream requests, and what the vehicle said around the transfers
(STATUSTEXT, MISSION_COUNT, MISSION_CURRENT, AUTOPILOT_VERSION, the *_TOTAL and STAT_RUNTIME
parameters).

    .venv/bin/python -m tests.sim.ftp_trace      # re-extract from the shared transcript
"""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from tests.sim.replay import SHARED, Record, to_message

TRACE = Path(__file__).resolve().parent / "data" / "sitl-11-ftp.jsonl"
SENT = {
    "FILE_TRANSFER_PROTOCOL", "MISSION_REQUEST_LIST", "MISSION_ACK", "COMMAND_LONG",
    "REQUEST_DATA_STREAM",
}  # fmt: skip
RECEIVED = {
    "FILE_TRANSFER_PROTOCOL", "STATUSTEXT", "MISSION_COUNT", "MISSION_CURRENT", "AUTOPILOT_VERSION",
}  # fmt: skip
# parameters that change during the recording (their values are in param.pck's CRC)
PARAMS = {"MIS_TOTAL", "FENCE_TOTAL", "RALLY_TOTAL", "STAT_RUNTIME"}
FTP_HEADER = struct.Struct("<HBBBBBBI")


def keep(record: dict) -> bool:
    kind, direction = record["type"], record["dir"]
    if direction == "meta":
        return kind == "_NOTE"
    if direction == "out":
        return kind in SENT
    if kind == "PARAM_VALUE":
        return record["fields"]["param_id"] in PARAMS
    return kind in RECEIVED


def extract(source: Path = SHARED / "11-ftp.jsonl") -> list[str]:
    with open(source) as f:
        return [line.rstrip("\n") for line in f if keep(json.loads(line))]


if __name__ == "__main__":
    TRACE.write_text("\n".join(extract()) + "\n")
    print(f"wrote {TRACE}")


# -- replaying it ---------------------------------------------------------------------------
PATH_OPCODES = {3, 4, 6, 8, 9, 10, 11, 12, 13, 14, 16}  # requests whose data is a path


def load() -> list[Record]:
    with open(TRACE) as f:
        return [record(json.loads(line)) for line in f]


def record(r: dict) -> Record:
    return Record(r.get("boot_ms", 0) / 1000.0, r["dir"], r["type"], r["fields"])


def ftp_payload(fields: dict, note: str) -> bytes:
    """The 251-byte payload of a recorded request. The recorder kept only the first ``size``
    data bytes; a path request whose size was deliberately short (case e13) gets the full
    name back from the note that announced it."""
    data = bytes.fromhex(fields.get("data") or "")
    if fields["opcode"] in PATH_OPCODES:
        for name in re.findall(r'"([^"]+)"', note):
            if name.encode().startswith(data) and len(name) > len(data):
                data = name.encode()
    head = FTP_HEADER.pack(
        fields["seq_number"], fields["session"], fields["opcode"], fields["size"],
        fields["req_opcode"], fields["burst_complete"], 0, fields["offset"],
    )  # fmt: skip
    return (head + data).ljust(251, b"\0")


def decode(msg) -> dict:
    """A FILE_TRANSFER_PROTOCOL reply's fields, named as the recorder named them."""
    payload = bytes(msg.payload)
    seq, session, opcode, size, req_opcode, burst, _pad, offset = FTP_HEADER.unpack_from(payload)
    return {
        "seq_number": seq, "session": session, "opcode": opcode, "size": size,
        "req_opcode": req_opcode, "burst_complete": burst, "offset": offset,
        "data": payload[12 : 12 + size].hex(),
    }  # fmt: skip


def replay(records: list[Record], gcs, fleet, tail_s: float = 1.0) -> None:
    """Lock-step: advance the (not started) fleet to each recorded request's sim time and send
    it, as the recorder did; everything the simulator says lands in ``gcs.log``."""
    gcs.sock.setblocking(False)
    note = ""
    for r in records:
        if r.direction == "meta":
            note = r.fields.get("text", "")
            continue
        if r.direction != "out":
            continue
        while fleet.sim_time < r.boot_s:
            fleet.advance(max(min(0.05, r.boot_s - fleet.sim_time), fleet.dt))
            gcs.pump_all()
        if r.type == "FILE_TRANSFER_PROTOCOL":
            f = r.fields
            gcs.send(
                mavlink.MAVLink_file_transfer_protocol_message(
                    f["target_network"], f["target_system"], f["target_component"],
                    ftp_payload(f, note),
                )
            )  # fmt: skip
        else:
            gcs.send(to_message(r))
    fleet.advance(tail_s)
    gcs.pump_all()
