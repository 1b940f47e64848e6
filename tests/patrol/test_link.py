import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pymavlink import mavutil
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from patrol.link import Link, LinkError, parse_endpoint, signing_key
from patrol.timebase import TimeBase
from tests.patrol.peer import Peer


def wait_until(condition, timeout=5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


@pytest.fixture
def peer():
    p = Peer(sysids=(1, 2))
    yield p
    p.close()


def test_parse_endpoints() -> None:
    assert parse_endpoint("tcp:127.0.0.1:5760").device == "tcp:127.0.0.1:5760"
    assert parse_endpoint("udpin:0.0.0.0:14550@3").sysid == 3
    serial = parse_endpoint("/dev/ttyUSB0:57600")
    assert (serial.device, serial.baud) == ("/dev/ttyUSB0", 57600)
    for bad in ("tcp:host", "udp:1.2.3.4:5", "tcp:h:99999", "/dev/ttyUSB0:fast", "x@0"):
        with pytest.raises(LinkError):
            parse_endpoint(bad)


def test_signing_key_hex_or_passphrase() -> None:
    hex_key = "ab" * 32
    assert signing_key(hex_key) == bytes.fromhex(hex_key)
    assert len(signing_key("township secret")) == 32
    assert signing_key("a") != signing_key("b")
    with pytest.raises(LinkError):
        signing_key("  ")


def test_heartbeat_routing_and_tlog(peer: Peer, tmp_path: Path) -> None:
    tlog = tmp_path / "v.tlog"
    link = Link(peer.url, timebase=TimeBase(10.0), tlog=tlog).start()
    try:
        got = {1: [], 2: []}
        link.add_handler(got[1].append, 1)
        link.add_handler(got[2].append, 2)
        assert link.wait_vehicle(5.0) in (1, 2)
        # GCS heartbeat: type GCS, autopilot invalid, sysid 255 compid 190, MAVLink 2, ~10/s
        assert wait_until(lambda: sum(m.get_type() == "HEARTBEAT" for m in peer.received) >= 5)
        beat = next(m for m in peer.received if m.get_type() == "HEARTBEAT")
        assert (beat.type, beat.autopilot) == (mavlink.MAV_TYPE_GCS, mavlink.MAV_AUTOPILOT_INVALID)
        assert (beat.get_srcSystem(), beat.get_srcComponent()) == (255, 190)
        assert all(m.get_srcSystem() == 1 for m in got[1])
        assert all(m.get_srcSystem() == 2 for m in got[2])
        peer.send(2, mavlink.MAVLink_statustext_message(6, b"only for two"))
        assert wait_until(lambda: any(m.get_type() == "STATUSTEXT" for m in got[2]))
        assert not any(m.get_type() == "STATUSTEXT" for m in got[1])
    finally:
        link.close()
    # the tlog reads back with pymavlink (both directions), and with mavlogdump
    log = mavutil.mavlink_connection(str(tlog))
    sources = set()
    while (m := log.recv_match()) is not None:
        sources.add(m.get_srcSystem())
    assert {1, 2, 255} <= sources
    dump = subprocess.run(
        [sys.executable, str(Path(sys.executable).parent / "mavlogdump.py"), "--types",
         "STATUSTEXT", str(tlog)], capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "only for two" in dump.stdout


def test_reconnects_after_peer_drops(peer: Peer) -> None:
    link = Link(peer.url, timebase=TimeBase(20.0)).start()
    try:
        assert link.wait_vehicle(5.0)
        peer.drop_client()
        assert wait_until(lambda: link.stats.connects >= 2, 10)
        before = len(peer.received)
        assert wait_until(lambda: len(peer.received) > before + 2)
    finally:
        link.close()


def test_signed_link_refuses_unsigned_when_required() -> None:
    key = signing_key("field team key")
    unsigned = Peer(sysids=(1,))
    try:
        link = Link(unsigned.url, key=key, require_signing=True).start()
        assert link.wait_vehicle(1.0) is None
        assert link.stats.rejected_unsigned > 0
        link.close()
    finally:
        unsigned.close()
    signed = Peer(sysids=(1,), key=key)
    try:
        link = Link(signed.url, key=key, require_signing=True, timebase=TimeBase(10.0)).start()
        assert link.wait_vehicle(5.0) == 1
        assert wait_until(lambda: any(m.get_type() == "HEARTBEAT" for m in signed.received))
        assert signed.rejected == 0 and all(m.get_signed() for m in signed.received)
        link.close()
    finally:
        signed.close()


def test_signing_required_needs_a_key() -> None:
    with pytest.raises(LinkError):
        Link("tcp:127.0.0.1:1", require_signing=True)


def test_serial_link_over_a_pty() -> None:
    """The serial transport (pyserial through mavutil) against a pseudo-terminal."""
    import os
    import threading
    import tty

    master, slave = os.openpty()
    tty.setraw(slave)  # binary bytes, no echo or line editing
    name = os.ttyname(slave)
    autopilot = mavlink.MAVLink(None, srcSystem=7, srcComponent=1)
    autopilot.robust_parsing = True
    stop = threading.Event()
    received = []

    def vehicle() -> None:
        while not stop.is_set():
            os.write(master, autopilot.heartbeat_encode(2, 3, 81, 0, 3).pack(autopilot))
            readable, _, _ = select.select([master], [], [], 0.05)
            if readable:
                msgs = autopilot.parse_buffer(os.read(master, 4096)) or []
                received.extend(m for m in msgs if m.get_type() != "BAD_DATA")

    thread = threading.Thread(target=vehicle, daemon=True)
    thread.start()
    link = Link(f"{name}:115200", timebase=TimeBase(10.0)).start()
    try:
        assert link.wait_vehicle(5.0) == 7
        assert wait_until(lambda: any(m.get_type() == "HEARTBEAT" for m in received))
    finally:
        link.close()
        stop.set()
        thread.join(2)
        os.close(master)
        os.close(slave)
