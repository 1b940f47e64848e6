"""Per-port MAVLink channels: stream rates, message intervals, faults, signing, UDP output."""

from __future__ import annotations

import socket

import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim import SimFleet
from tests.sim.conftest import HOME
from tests.sim.gcs import Gcs

KEY = bytes(range(32))


def rate(fleet, msgs, msg_type):
    """Messages per simulated second, from their time_boot_ms."""
    times = [m.time_boot_ms for m in msgs if m.get_type() == msg_type]
    assert len(times) > 3, msg_type
    return (len(times) - 1) / ((times[-1] - times[0]) / 1000.0)


def test_fresh_link_gets_only_heartbeats_and_texts(ready, gcs):
    kinds = {m.get_type() for m in gcs.collect(10)}
    assert "HEARTBEAT" in kinds
    assert kinds <= {"HEARTBEAT", "STATUSTEXT", "PARAM_VALUE", "TIMESYNC"}


def test_request_data_stream_rates_and_groups(fleet, ready, gcs):
    gcs.send(mavlink.MAVLink_request_data_stream_message(1, 1, 6, 4, 1))  # POSITION
    gcs.send(mavlink.MAVLink_request_data_stream_message(1, 1, 10, 10, 1))  # EXTRA1
    gcs.send(mavlink.MAVLink_request_data_stream_message(1, 1, 2, 2, 1))  # EXTENDED_STATUS
    msgs = gcs.collect(20)
    assert abs(rate(fleet, msgs, "GLOBAL_POSITION_INT") - 4) < 0.3
    assert abs(rate(fleet, msgs, "ATTITUDE") - 10) < 0.6
    kinds = {m.get_type() for m in msgs}
    assert {"SYS_STATUS", "GPS_RAW_INT", "MISSION_CURRENT", "LOCAL_POSITION_NED"} <= kinds
    assert "VFR_HUD" not in kinds
    assert ready.params["MAV1_POSITION"] == 4  # written like SITL's MAVn_* params
    gcs.send(mavlink.MAVLink_request_data_stream_message(1, 1, 6, 0, 0))
    gcs.collect(2)
    later = gcs.collect(10)
    assert not any(m.get_type() == "GLOBAL_POSITION_INT" for m in later)


def test_set_message_interval_and_request_message(fleet, ready, gcs):
    ack = gcs.command(511, 245, 1_000_000)  # EXTENDED_SYS_STATE at 1 Hz
    assert ack.result == 0
    msgs = gcs.collect(15)
    states = [m for m in msgs if m.get_type() == "EXTENDED_SYS_STATE"]
    assert 12 <= len(states) <= 17 and states[0].landed_state == 1
    assert gcs.command(510, 245).result == 0
    assert gcs.recv("MESSAGE_INTERVAL").interval_us == 1_000_000
    assert gcs.command(511, 245, -1).result == 0
    gcs.collect(1)
    assert not any(m.get_type() == "EXTENDED_SYS_STATE" for m in gcs.collect(3))
    assert gcs.command(512, 242).result == 0
    home = gcs.recv("HOME_POSITION")
    assert home.latitude == round(HOME[0] * 1e7) and home.altitude == 200000
    assert gcs.command(512, 148).result == 0
    version = gcs.recv("AUTOPILOT_VERSION")
    assert version.flight_sw_version == 67567616 and version.capabilities == 64495


def test_unsupported_command(ready, gcs):
    assert gcs.command(31010).result == mavlink.MAV_RESULT_UNSUPPORTED
    assert gcs.command_int(31010, 6).result == mavlink.MAV_RESULT_UNSUPPORTED


def test_param_protocol(ready, gcs):
    gcs.send(mavlink.MAVLink_param_request_read_message(1, 1, b"WPNAV_SPEED", -1))
    value = gcs.recv("PARAM_VALUE", cond=lambda m: m.param_id == "WPNAV_SPEED")
    assert (value.param_value, value.param_index, value.param_count) == (1000, 65535, 1354)
    gcs.send(mavlink.MAVLink_param_request_read_message(1, 1, b"", 0))
    assert gcs.recv("PARAM_VALUE", cond=lambda m: m.param_index == 0).param_id == "FORMAT_VERSION"
    gcs.send(mavlink.MAVLink_param_request_read_message(1, 1, b"NOT_A_PARAM", -1))
    gcs.send(mavlink.MAVLink_param_request_read_message(1, 1, b"", 30000))
    echo = gcs.set_param("rtl_alt", 1800)
    assert (echo.param_id, echo.param_value, echo.param_type) == ("RTL_ALT", 1800, 6)
    assert gcs.set_param("FS_GCS_ENABLE", 1.7).param_value == 1.0  # INT8 truncates
    assert gcs.set_param("FENCE_ENABLE", 1).param_type == 2
    assert gcs.set_param("FENCE_TYPE", 7).param_type == 9  # as SITL echoes it
    gcs.send(mavlink.MAVLink_param_set_message(1, 1, b"SYSID_THISMAV", 1, 9))
    assert gcs.recv("PARAM_VALUE", cond=lambda m: m.param_id == "MAV_SYSID") is not None
    got = gcs.collect(2)
    assert not any(m.get_type() == "PARAM_VALUE" and m.param_id == "NOT_A_PARAM" for m in got)


def test_param_request_list_streams_all_in_index_order(fleet, ready, gcs):
    gcs.send(mavlink.MAVLink_param_request_list_message(1, 1))
    gcs.wait_for(lambda: ready.param_list.queue, 2)
    start = fleet.sim_time
    gcs.wait_for(lambda: not ready.param_list.queue, 3)
    assert fleet.sim_time - start < 1.2  # the whole list in ~1 s of sim time, as SITL
    values = []
    while len(values) < 1354:
        msg = gcs.recv("PARAM_VALUE", 5, lambda m: m.param_index != 65535)
        assert msg is not None
        values.append(msg)
    assert [m.param_index for m in values] == list(range(1354))
    assert gcs.saw_text("Frame: QUAD/PLUS")


def test_serial1_is_an_independent_channel(fleet, ready, gcs):
    companion = Gcs(ready.ports[1], sysid=1, compid=191, fleet=fleet)
    try:
        companion.send(mavlink.MAVLink_request_data_stream_message(1, 1, 6, 5, 1))
        assert companion.recv("GLOBAL_POSITION_INT") is not None
        assert not any(m.get_type() == "GLOBAL_POSITION_INT" for m in gcs.collect(5))
        assert companion.saw_text("Arming motors", timeout=0) is False
        gcs.command(176, 1, 4)
        gcs.command(400, 1)
        assert companion.saw_text("Arming motors")  # texts go to every port
    finally:
        companion.close()


def test_one_tcp_client_per_port_as_sitl(fleet, ready, gcs):
    # SITL accepts the next TCP client only once the one it serves has gone; until then the
    # second is connected (the listen backlog) but hears nothing and is not heard.
    second = Gcs(ready.port, fleet=fleet)
    try:
        assert second.recv("HEARTBEAT", timeout=3) is None
        assert gcs.recv("HEARTBEAT") is not None
        gcs.close()
        assert second.recv("HEARTBEAT", timeout=3) is not None
        assert second.command(176, 1, 4).result == 0
    finally:
        second.close()


def test_packet_loss_and_outage_windows(fleet, ready, gcs):
    gcs.send(mavlink.MAVLink_request_data_stream_message(1, 1, 6, 10, 1))
    assert gcs.recv("GLOBAL_POSITION_INT") is not None
    ready.faults.packet_loss = 0.5
    msgs = [m for m in gcs.collect(20) if m.get_type() == "GLOBAL_POSITION_INT"]
    ready.faults.packet_loss = 0.0
    sim_span = (msgs[-1].time_boot_ms - msgs[0].time_boot_ms) / 1000
    delivered = len(msgs) / (sim_span * 10)
    assert 0.3 < delivered < 0.7
    now = fleet.sim_time
    ready.faults.outages = [(now + 1, now + 6)]
    msgs = [m for m in gcs.collect(15) if m.get_type() == "GLOBAL_POSITION_INT"]
    stamps = [m.time_boot_ms / 1000 for m in msgs]
    assert not any(now + 1.05 < t < now + 5.95 for t in stamps)
    assert any(t > now + 6 for t in stamps)


def test_latency_delays_replies(fleet, ready, gcs):
    ready.faults.latency_s = 2.0
    start = fleet.sim_time
    ack = gcs.command(176, 1, 4)
    assert ack.result == 0
    assert fleet.sim_time - start >= 3.9  # 2 s each way, in simulated time


def ask(gcs: Gcs, request, timeout: float = 5.0):
    gcs.send(request)
    return gcs.recv("PARAM_VALUE", timeout, lambda m: m.param_id == request.param_id)


def test_signing_rejects_unsigned_on_telemetry_ports_once_a_key_is_set(tmp_path):
    # as measured on ArduPilot SITL: after SETUP_SIGNING, SERIAL1 ignores an unsigned
    # PARAM_REQUEST_READ, SERIAL2 answers a signed one, SERIAL0 (USB) still answers unsigned
    with SimFleet(count=1, speedup=50, base_port=0, state_dir=tmp_path, signing_key=KEY.hex(),
                  boot_time_scale=0.1) as fleet:  # fmt: skip
        v = fleet.vehicles[0]
        serial0 = Gcs(v.port)  # SITL serves one client per port: one port each
        serial1 = Gcs(v.ports[1])
        serial2 = Gcs(v.ports[2], key=KEY)
        wrong = Gcs(v.ports[1], key=bytes(range(1, 33)))  # in SERIAL1's backlog
        read = mavlink.MAVLink_param_request_read_message(1, 1, b"RTL_ALT", -1)
        try:
            hb = serial2.recv("HEARTBEAT")
            assert hb is not None and hb._signed
            assert ask(serial1, read, timeout=0.5) is None  # ignored
            assert serial1.command(176, 1, 4, timeout=0.3) is None
            assert ask(serial2, read).param_value == 1500
            assert serial2.command(176, 1, 4).result == 0
            assert ask(serial0, read).param_value == 1500
            assert serial0.command(176, 1, 5).result == 0
            serial1.close()
            assert ask(wrong, read, timeout=0.5) is None  # signed with another key
        finally:
            for gcs in (serial0, serial1, serial2, wrong):
                gcs.close()
    with SimFleet(count=1, speedup=50, base_port=0, state_dir=tmp_path) as fleet:
        assert fleet.vehicles[0].signing_key == KEY  # persisted with the params


def test_setup_signing_message_enables_and_disables(fleet, ready, gcs):
    ready_fleet = fleet
    gcs.send(mavlink.MAVLink_setup_signing_message(1, 1, list(KEY), 1))
    gcs.collect(2)
    assert ready.signing_key == KEY
    assert gcs.recv("HEARTBEAT").get_msgbuf()[2] & 1  # signed now, with a key gcs lacks
    assert gcs.command(176, 1, 4).result == 0  # SERIAL0 (USB) still takes unsigned commands
    plain = Gcs(ready.ports[1], fleet=ready_fleet)
    try:
        assert plain.command(176, 1, 5, timeout=3) is None  # a telemetry port does not
    finally:
        plain.close()
    signed = Gcs(ready.ports[1], key=KEY, fleet=ready_fleet)  # the key holds on every port
    try:
        assert signed.command(176, 1, 5).result == 0
        signed.send(mavlink.MAVLink_setup_signing_message(1, 1, [0] * 32, 0))
        signed.collect(2)
        assert ready.signing_key is None
        assert gcs.command(176, 1, 4).result == 0
        gcs.drain()
        assert gcs.recv("HEARTBEAT").get_msgbuf()[2] & 1 == 0  # no longer signed
    finally:
        signed.close()


def test_gcs_udp_output(tmp_path):
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(2)
    port = rx.getsockname()[1]
    with SimFleet(count=2, speedup=50, base_port=0, state_dir=tmp_path,
                  gcs_udp=f"127.0.0.1:{port}"):  # fmt: skip
        parser = mavlink.MAVLink(None)
        systems = set()
        while len(systems) < 2:
            data, _ = rx.recvfrom(65536)
            for msg in parser.parse_buffer(data) or []:
                if msg.get_type() == "HEARTBEAT":
                    systems.add(msg.get_srcSystem())
    rx.close()
    assert systems == {1, 2}


@pytest.mark.parametrize("bad", [{"count": 0}, {"speedup": 0}])
def test_fleet_rejects_bad_options(bad, tmp_path):
    options = {"count": 1, "speedup": 1, "base_port": 0, "state_dir": tmp_path} | bad
    with pytest.raises(ValueError):
        SimFleet(**options)


def test_unsolicited_param_values_like_sitl(tmp_path):
    fleet = SimFleet(count=1, base_port=0, state_dir=tmp_path)
    gcs = Gcs(fleet.vehicles[0].port, fleet=fleet)
    try:
        gcs.collect(35)
        values = [m for m in gcs.log if m.get_type() == "PARAM_VALUE"]
        names = [m.param_id for m in values]
        assert names[:3] == ["BARO1_GND_PRESS", "BARO2_GND_PRESS", "INS_GYR_ID"]
        assert "EK3_SRC1_POSXY" in names and "MIS_TOTAL" in names
        runtime = [
            m for m in gcs.log if m.get_type() == "PARAM_VALUE" and m.param_id == "STAT_RUNTIME"
        ]
        assert [m.param_value for m in runtime] == [30.0]
        assert all(m.param_index == 65535 for m in gcs.log if m.get_type() == "PARAM_VALUE")
    finally:
        gcs.close()
        fleet.stop()


def test_commands_for_other_systems_or_components_are_not_answered(ready, gcs):
    gcs.send(mavlink.MAVLink_command_long_message(7, 1, 176, 0, 1, 4, 0, 0, 0, 0, 0))
    gcs.send(mavlink.MAVLink_command_long_message(1, 100, 176, 0, 1, 4, 0, 0, 0, 0, 0))
    assert gcs.recv("COMMAND_ACK", 2) is None
    assert ready.mode == 0
    gcs.send(mavlink.MAVLink_command_long_message(0, 0, 176, 0, 1, 4, 0, 0, 0, 0, 0))
    assert gcs.recv("COMMAND_ACK", 2).result == 0  # broadcast


def test_link_faults_act_on_the_ground_link_only(tmp_path):
    fleet = SimFleet(count=1, base_port=0, state_dir=tmp_path)
    try:
        vehicle = fleet.vehicles[0]
        vehicle.faults.outages = [(0.0, 1e9)]
        ground, companion = vehicle.channels[0], vehicle.channels[1]
        assert ground.faults is vehicle.faults
        assert companion.faults is not vehicle.faults
        assert ground.faults.drops(5.0) and not companion.faults.drops(5.0)
    finally:
        fleet.stop()
