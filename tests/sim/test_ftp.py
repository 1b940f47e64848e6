"""MAVLink FTP against the simulator: the recorded SITL exchange (tests/sim/data/sitl-11-ftp.jsonl)
replayed reply for reply, param.pck packed byte for byte as SITL packs it, and the behaviour
around transfers (stream slow-down, reply order, repeated requests, uploads)."""

from __future__ import annotations

import re
import struct
import zlib

import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink
from pymavlink.mavftp import MAVFTP

from sim import SimFleet
from sim.ftp_files import AP_TYPES, MISSION_HEADER, crc32, pack_item, pack_params
from sim.mission import Item
from tests.sim.conftest import HOME
from tests.sim.ftp_trace import FTP_HEADER, decode, load, replay
from tests.sim.gcs import Gcs

PARAM_SESSION = 1  # the trace's param.pck download
TOTALS = ("MIS_TOTAL", "FENCE_TOTAL", "RALLY_TOTAL")
# the simulator does not re-zero the barometers or store MIS_TOTAL when home is set, and the
# recording ran at speed-up 5
DIFFERENT_PARAMS = {"BARO1_GND_PRESS", "BARO2_GND_PRESS", "MIS_TOTAL", "SIM_SPEEDUP"}
HOME_Z = slice(10 + 24, 10 + 28)  # mission.dat: item 0's z (SITL's home is 200.1 m, ours 200)


def recorded_replies(records) -> list[dict]:
    return [r.fields for r in records if r.direction == "in" and r.type == "FILE_TRANSFER_PROTOCOL"]


def starts_mission_dat(data: bytes) -> bool:
    """The head of a mission.dat read back, reaching past item 0's altitude."""
    return data[:4] == b"\x3d\x76\0\0" and len(data) >= HOME_Z.stop


def pck_bytes(replies: list[dict]) -> bytes:
    """The param.pck download: the burst's data packets in offset order."""
    data = bytearray()
    for f in replies:
        if f["session"] == PARAM_SESSION and f["opcode"] == 128 and f["req_opcode"] == 15:
            assert f["offset"] == len(data)
            data += bytes.fromhex(f["data"])
    return bytes(data)


@pytest.fixture(scope="module")
def trace():
    return load()


@pytest.fixture(scope="module")
def replayed(trace, tmp_path_factory):
    fleet = SimFleet(count=1, home=HOME, base_port=0, state_dir=tmp_path_factory.mktemp("sim"))
    gcs = Gcs(fleet.vehicles[0].port)  # connected before boot, as the recorder was
    try:
        replay(trace, gcs, fleet)
    finally:
        fleet.stop()
        gcs.close()
    return gcs.log


def test_replies_match_sitl_one_for_one(trace, replayed):
    """Listings, opens (file sizes), bursts, reads, writes, terminates and every NAK: the same
    sequence numbers, sessions, opcodes, sizes, offsets and bytes, with three explained
    exceptions: param.pck's values (compared below), its CRC, and home's altitude."""
    want = recorded_replies(trace)
    got = [decode(m) for m in replayed if m.get_type() == "FILE_TRANSFER_PROTOCOL"]
    assert len(got) == len(want) == 244
    head = ("seq_number", "session", "opcode", "size", "req_opcode", "burst_complete", "offset")
    crc_requests = iter(
        r.fields for r in trace if r.direction == "out" and r.fields.get("opcode") == 14
    )
    for g, w in zip(got, want, strict=True):
        assert [g[k] for k in head] == [w[k] for k in head], (g, w)
        if w["session"] == PARAM_SESSION and w["req_opcode"] == 15:
            continue  # param.pck data: compared parameter by parameter below
        if w["req_opcode"] == 14 and next(crc_requests)["data_text"] != "@MISSION/nope.dat":
            continue  # CRC of param.pck (values) and mission.dat (home altitude)
        got_data, want_data = bytes.fromhex(g["data"]), bytes.fromhex(w.get("data", ""))
        if w["req_opcode"] == 3 and w["opcode"] == 128:
            want_data = b"\0\0".join(e.encode() for e in w["data_text"]) + b"\0\0"
        if w["offset"] == 0 and starts_mission_dat(want_data):
            want_data = want_data[: HOME_Z.start] + got_data[HOME_Z] + want_data[HOME_Z.stop :]
        assert got_data == want_data, (g, w)


def test_param_pck_holds_the_same_parameters(trace, replayed):
    """Same names, types and order as SITL's (decoded with pymavlink's own decoder), and the
    same values except what the simulator does not model."""
    sitl = MAVFTP.ftp_param_decode(pck_bytes(recorded_replies(trace)))
    ours = MAVFTP.ftp_param_decode(
        pck_bytes([decode(m) for m in replayed if m.get_type() == "FILE_TRANSFER_PROTOCOL"])
    )
    assert len(ours.params) == len(sitl.params) == 1354
    assert [(n, t) for n, _, t in ours.params] == [(n, t) for n, _, t in sitl.params]
    differ = {
        n.decode() for (n, a, _), (_, b, _) in zip(ours.params, sitl.params, strict=True) if a != b
    }
    assert differ == DIFFERENT_PARAMS


def test_param_pck_packing_and_crc_are_sitls(trace):
    """Packing SITL's own values reproduces its 14933-byte download exactly (padding so no
    value crosses a 239-byte packet); packed for 64-byte reads with the values it had then,
    the CRC is the one it reported (CRC-32 from 0, no final XOR)."""
    replies = recorded_replies(trace)
    sitl = pck_bytes(replies)
    decoded = MAVFTP.ftp_param_decode(sitl).params
    entries = [[n.decode(), t, v, None] for n, v, t in decoded]
    assert pack_params(entries, len(entries), 239) == sitl
    updates = {
        r.fields["param_id"]: r.fields["param_value"]
        for r in trace
        if r.type == "PARAM_VALUE" and r.boot_s < 33.2  # the CRC request
    }
    for entry in entries:
        if entry[0] in updates:
            entry[2] = updates[entry[0]]
    crcs = [f["crc32"] for f in replies if f["req_opcode"] == 14 and f["opcode"] == 128]
    assert crc32(pack_params(entries, len(entries), 64)) == crcs[1] == 4388634  # 0: mission


def test_mission_crc_is_crc32_from_zero(trace):
    replies = recorded_replies(trace)
    back = b"".join(
        bytes.fromhex(f["data"]) for f in replies if f["session"] == 5 and f["opcode"] == 128
        and f["req_opcode"] == 15
    )  # fmt: skip
    assert len(back) == 770
    assert crc32(back) == 3175576786 != zlib.crc32(back)


def test_after_terminate_the_totals_and_texts_as_sitl(trace, replayed):
    def events(kinds):
        return [
            (t, f["param_id"], f["param_value"]) if t == "PARAM_VALUE"
            else (t, f["count"], f["mission_type"]) if t == "MISSION_COUNT"
            else (t, re.sub(r"^[0-9a-f]{32}$", "<id>", f["text"]))
            for t, f in kinds
        ]  # fmt: skip

    def interesting(t: str, f: dict) -> bool:
        if t == "STATUSTEXT":
            return bool(
                re.match(r"Unsupported FTP|Fence Ind|ArduCopter|Frame|[0-9a-f]{32}$", f["text"])
            )
        return t == "MISSION_COUNT" or (t == "PARAM_VALUE" and f["param_id"] in TOTALS)

    want = events(
        (r.type, r.fields) for r in trace if r.direction == "in" and interesting(r.type, r.fields)
    )
    got = events(
        (m.get_type(), m.to_dict())
        for m in replayed
        if m.get_type() in ("STATUSTEXT", "PARAM_VALUE", "MISSION_COUNT")
        and interesting(m.get_type(), m.to_dict())
    )
    assert got == want
    totals = [m.total for m in replayed if m.get_type() == "MISSION_CURRENT"]
    assert 19 in totals and totals[-1] == 649


# -- behaviour around transfers -----------------------------------------------------------
def ftp(gcs: Gcs, opcode: int, session: int = 1, seq: int = 0, data: bytes = b"", size=None,
        offset: int = 0) -> list[dict]:  # fmt: skip
    """Send one request; its (first) reply, in a list."""
    size = len(data) if size is None else size
    head = FTP_HEADER.pack(seq, session, opcode, size, 0, 0, 0, offset)
    payload = (head + data).ljust(251, b"\0")
    gcs.send(mavlink.MAVLink_file_transfer_protocol_message(0, 1, 1, payload))
    msg = gcs.recv("FILE_TRANSFER_PROTOCOL", 2)
    assert msg is not None
    return [decode(msg)]


def upload_file(gcs: Gcs, path: str, content: bytes, session: int = 3) -> None:
    assert ftp(gcs, 6, session, 0, path.encode())[0]["opcode"] == 128
    for i, ofs in enumerate(range(0, len(content), 239)):
        assert ftp(gcs, 7, session, 2 + i, content[ofs : ofs + 239], offset=ofs)[0]["opcode"] == 128


def mission_file(items: list[Item], options: int = 0, start: int = 0) -> bytes:
    head = MISSION_HEADER.pack(0x763D, 0, options, start, len(items))
    return head + b"".join(pack_item(item, start + i) for i, item in enumerate(items))


def wp(seq: int, command: int = 16, north: float = 0.0, **kw) -> Item:
    return Item(seq, 3, command, 0, 0, 0, 0, int((HOME[0] + north / 111_000) * 1e7),
                int(HOME[1] * 1e7), 20.0, **kw)  # fmt: skip


def test_streams_slow_down_while_replies_go_out(gcs, ready):
    gcs.request_streams(4)
    gcs.collect(2)

    def attitude_rate(seconds: float, during=None) -> float:
        start = len(gcs.log)
        end = gcs.now() + seconds
        while gcs.now() < end:
            if during:
                during()
            gcs.collect(0.2)
        return sum(m.get_type() == "ATTITUDE" for m in gcs.log[start:]) / seconds

    assert attitude_rate(3) == pytest.approx(4, abs=0.4)
    ftp(gcs, 4, 1, 0, b"@MISSION/mission.dat")
    count = iter(range(1, 10_000))
    busy = attitude_rate(4, lambda: ftp(gcs, 5, 1, next(count), size=10))  # SITL: 0.86 Hz
    assert busy <= 1.1
    ftp(gcs, 1, 1, 20_000)
    assert attitude_rate(3) == pytest.approx(4, abs=0.4)


def test_terminate_ack_comes_before_the_vehicle_reacts(gcs, ready, vehicle):
    gcs.drain()
    upload_file(gcs, "@MISSION/mission.dat", mission_file([wp(0), wp(1, 22), wp(2, north=50)]))
    mark = len(gcs.log)
    ftp(gcs, 1, 3, 99)
    gcs.collect(0.1)
    kinds = [m.get_type() for m in gcs.log[mark:] if m.get_type() != "HEARTBEAT"]
    start = kinds.index("FILE_TRANSFER_PROTOCOL")
    assert kinds[start : start + 3] == ["FILE_TRANSFER_PROTOCOL", "PARAM_VALUE", "MISSION_CURRENT"]
    assert [i.command for i in vehicle.mission_items()] == [16, 22, 16]
    assert "Flight plan received" not in gcs.texts_since(mark)


def test_repeated_request_gets_the_same_reply(gcs, ready):
    open_ack = ftp(gcs, 4, 2, 40, b"@MISSION/mission.dat")
    first = ftp(gcs, 5, 2, 41, size=10)
    assert ftp(gcs, 5, 2, 41, size=10) == first  # lost reply: asked again, answered again
    assert ftp(gcs, 4, 2, 40, b"@MISSION/mission.dat")[0]["data"] == "01"  # Fail: already open
    assert open_ack[0]["size"] == 4
    assert ftp(gcs, 1, 2, 50)[0]["opcode"] == 128


def test_bad_uploads_and_partial_ones(gcs, ready, vehicle):
    before = [i.command for i in vehicle.mission_items()]
    good = [wp(0), wp(1, 22), wp(2, north=50)]
    upload_file(gcs, "@MISSION/mission.dat", mission_file(good)[:-38])  # count says 3, holds 2
    ftp(gcs, 1, 3, 90)
    assert [i.command for i in vehicle.mission_items()] == before  # refused whole
    upload_file(gcs, "@MISSION/mission.dat", mission_file([*good, wp(3, 31010), wp(4)]))
    ftp(gcs, 1, 3, 90)
    assert [i.command for i in vehicle.mission_items()] == [16, 22, 16]  # stored up to the bad
    upload_file(gcs, "@MISSION/mission.dat", mission_file([wp(1, 21)], options=1, start=1))
    ftp(gcs, 1, 3, 90)
    assert [i.command for i in vehicle.mission_items()] == [16, 21, 16]  # NO_CLEAR: patched


def test_param_pck_with_defaults_and_upload(gcs, ready, vehicle):
    vehicle.params.set("WPNAV_SPEED", 800)
    name = b"@PARAM/param.pck?withdefaults=1"
    ftp(gcs, 4, 4, 0, name)
    replies = ftp(gcs, 15, 4, 1, size=239)
    while replies[-1]["opcode"] == 128:
        replies.append(decode(gcs.recv("FILE_TRANSFER_PROTOCOL", 2)))
    assert replies[-1]["data"] == "06" and replies[-1]["burst_complete"] == 1  # EndOfFile
    data = b"".join(bytes.fromhex(r["data"]) for r in replies[:-1])
    decoded = MAVFTP.ftp_param_decode(data)
    values = {n.decode(): v for n, v, _ in decoded.params}
    defaults = {n.decode(): v for n, v, _ in decoded.defaults}
    assert (values["WPNAV_SPEED"], defaults["WPNAV_SPEED"]) == (800, 1000)
    assert ftp(gcs, 5, 4, 100, size=100)[0]["data"] == "0216"  # another read size: EINVAL
    ftp(gcs, 1, 4, 101)
    # MAVProxy's "param ftpload": a param.pck whose header count is the file's length
    entry = bytes([AP_TYPES[9][0], 10 << 4]) + b"WPNAV_SPEED" + struct.pack("<f", 650)
    upload_file(gcs, "@PARAM/param.pck", struct.pack("<HHH", 0x671B, 1, 6 + len(entry)) + entry)
    ftp(gcs, 1, 3, 200)
    assert vehicle.params["WPNAV_SPEED"] == 650


def test_working_directory(gcs, ready):
    upload_file(gcs, "/terrain/notes.txt", b"x" * 300)
    ftp(gcs, 1, 3, 100)
    upload_file(gcs, "/top.txt", b"y")
    ftp(gcs, 1, 3, 100)

    def listing(path: bytes, seq: int) -> list[str]:
        data = bytes.fromhex(ftp(gcs, 3, 0, seq, path)[0]["data"])
        return [e.decode() for e in data.split(b"\0") if e]

    assert listing(b"terrain/", 10)[-1] == "Fnotes.txt\t300"
    # files at the top are never listed, as in SITL (it stats "//top.txt")
    assert listing(b"/", 20) == ["D.", "D..", "Dterrain", "D@ROMFS", "D@SYS"]
    assert ftp(gcs, 14, 0, 30, b"/top.txt")[0]["data"] == struct.pack("<I", crc32(b"y")).hex()
    assert ftp(gcs, 8, 0, 40, b"/top.txt")[0]["opcode"] == 128
    assert ftp(gcs, 4, 5, 50, b"/top.txt")[0]["data"] == "0a"  # gone: FileNotFound


def test_autopilot_version_advertises_ftp(trace, replayed):
    want = next(r.fields["capabilities"] for r in trace if r.type == "AUTOPILOT_VERSION")
    got = next(m.capabilities for m in replayed if m.get_type() == "AUTOPILOT_VERSION")
    assert got == want and got & mavlink.MAV_PROTOCOL_CAPABILITY_FTP
