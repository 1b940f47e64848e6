"""The agent's own MAVLink link, against a scripted autopilot on a TCP socket."""

import socket
import time

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from audio.position import COMPANION_COMPONENT_ID, MavlinkPositionSource


class FakeAutopilot:
    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.conn: socket.socket | None = None
        self.mav = mavlink.MAVLink(None, srcSystem=1, srcComponent=1)
        self.parser = mavlink.MAVLink(None)
        self.parser.robust_parsing = True
        self.received: list = []

    def accept(self) -> None:
        self.server.settimeout(10)
        self.conn, _ = self.server.accept()
        self.conn.settimeout(0.05)

    def send(self, msg) -> None:
        self.conn.sendall(msg.pack(self.mav))

    def pump(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                data = self.conn.recv(4096)
            except TimeoutError:
                continue
            self.received += [m for m in self.parser.parse_buffer(data) or [] if m]

    def close(self) -> None:
        if self.conn:
            self.conn.close()
        self.server.close()


def test_companion_heartbeat_stream_request_and_position():
    ap = FakeAutopilot()
    source = MavlinkPositionSource(f"tcp:127.0.0.1:{ap.port}")
    try:
        ap.accept()
        ap.send(mavlink.MAVLink_heartbeat_message(2, 3, 81, 0, 3, 3))  # a copter, ArduPilot
        ap.pump(1.5)
        heartbeats = [m for m in ap.received if m.get_type() == "HEARTBEAT"]
        assert heartbeats and heartbeats[0].type == mavlink.MAV_TYPE_ONBOARD_CONTROLLER
        assert {(m.get_srcSystem(), m.get_srcComponent()) for m in heartbeats} == {
            (1, COMPANION_COMPONENT_ID)
        }
        intervals = [m for m in ap.received if m.get_type() == "COMMAND_LONG"]
        assert intervals and intervals[0].command == mavlink.MAV_CMD_SET_MESSAGE_INTERVAL
        assert intervals[0].param1 == mavlink.MAVLINK_MSG_ID_GLOBAL_POSITION_INT
        assert intervals[0].param2 == 250_000  # 4 Hz
        streams = [m for m in ap.received if m.get_type() == "REQUEST_DATA_STREAM"]
        assert streams and streams[0].req_stream_id == mavlink.MAV_DATA_STREAM_POSITION
        assert (streams[0].req_message_rate, streams[0].start_stop) == (4, 1)

        ap.send(mavlink.MAVLink_global_position_int_message(
            61_000, 275_712_345, 1_197_123_456, 230_000, 30_500, 0, 0, 0, 0))  # fmt: skip
        deadline = time.monotonic() + 5
        while source.latest() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        pos = source.latest()
        assert (pos.lat, pos.lon, pos.alt_m, pos.time_boot_ms) == (
            27.5712345,
            119.7123456,
            30.5,
            61_000,
        )
    finally:
        source.close()
        ap.close()


def test_gps_time_from_system_time_once_the_gps_knows_it():
    ap = FakeAutopilot()
    source = MavlinkPositionSource(f"tcp:127.0.0.1:{ap.port}")
    try:
        ap.accept()
        ap.send(mavlink.MAVLink_heartbeat_message(2, 3, 81, 0, 3, 3))
        ap.pump(1.0)
        asked = {m.param1 for m in ap.received if m.get_type() == "COMMAND_LONG"}
        assert mavlink.MAVLINK_MSG_ID_SYSTEM_TIME in asked
        ap.send(mavlink.MAVLink_system_time_message(0, 5_000))  # no GPS time yet
        ap.pump(0.3)
        assert source.aircraft_time() is None
        ap.send(mavlink.MAVLink_system_time_message(1_782_914_400_250_000, 6_000))
        deadline = time.monotonic() + 5
        while source.aircraft_time() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        unix_s, at = source.aircraft_time()
        assert unix_s == 1_782_914_400.25 and 0 <= time.monotonic() - at < 5
    finally:
        source.close()
        ap.close()


def test_a_signed_aircraft_is_heard_only_with_the_key(tmp_path):
    import hashlib

    from sim import SimFleet

    key = hashlib.sha256(b"township").digest()
    with SimFleet(count=1, speedup=20, base_port=0, state_dir=tmp_path, signing_key=key,
                  boot_time_scale=0.1) as fleet:  # fmt: skip
        telemetry = f"tcp:127.0.0.1:{fleet.vehicles[0].ports[1]}"
        keyless = MavlinkPositionSource(telemetry)
        try:
            assert keyless.wait_autopilot(5)
            time.sleep(1.0)  # 20 s of the aircraft's time: its stream requests were ignored
            assert keyless.signed_unreadable and keyless.latest() is None
            assert keyless.read_param("SIM_SPEEDUP", 0.5) is None
        finally:
            keyless.close()
        signed = MavlinkPositionSource(telemetry, signing_key=key)
        try:
            assert signed.wait_autopilot(5) and signed.read_param("SIM_SPEEDUP", 3) == 20
            deadline = time.monotonic() + 5
            while signed.latest() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert signed.latest() is not None and not signed.signed_unreadable
        finally:
            signed.close()
