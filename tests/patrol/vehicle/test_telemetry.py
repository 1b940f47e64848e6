"""Telemetry state and events from messages, without a vehicle."""

import threading
import time

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from patrol.timebase import TimeBase
from patrol.vehicle.telemetry import PREARM_BIT, Telemetry


class FakeChannel:
    """Just enough of VehicleChannel for Telemetry: a time base and a listener slot."""

    def __init__(self, scale: float = 1.0) -> None:
        self.timebase = TimeBase(scale)
        self.listeners = []

    def add_listener(self, listener) -> None:
        self.listeners.append(listener)

    def feed(self, msg) -> None:
        for listener in self.listeners:
            listener(msg)


def heartbeat(mode: int, armed: bool):
    base = 81 | (mavlink.MAV_MODE_FLAG_SAFETY_ARMED if armed else 0)
    return mavlink.MAVLink_heartbeat_message(2, 3, base, mode, 4, 3)


def test_mode_armed_and_reached_events() -> None:
    channel = FakeChannel()
    telemetry = Telemetry(channel)
    events = []
    telemetry.subscribe(events.append)
    channel.feed(heartbeat(4, False))
    channel.feed(heartbeat(4, True))
    channel.feed(heartbeat(3, True))
    channel.feed(mavlink.MAVLink_mission_item_reached_message(2))
    assert [(e.kind, e.text) for e in events] == [
        ("mode", "mode ? -> GUIDED"),
        ("armed", "armed"),
        ("mode", "mode GUIDED -> AUTO"),
        ("reached", "reached item 2"),
    ]
    assert telemetry.state.mode_name == "AUTO" and telemetry.state.armed


def position(north_m: float):
    lat = 27.57 + north_m / 111_000.0  # ~1 m per 1/111000 degree of latitude
    return mavlink.MAVLink_global_position_int_message(
        0, round(lat * 1e7), round(119.71 * 1e7), 220_000, 20_000, 0, 0, 0, 0
    )


def test_flown_distance_sums_every_position_while_armed() -> None:
    # every report counts, however rarely the controller looks: a square's corners are not
    # cut short by a busy ground computer
    channel = FakeChannel()
    telemetry = Telemetry(channel)
    channel.feed(heartbeat(4, False))
    channel.feed(position(0))
    channel.feed(position(50))  # carried, not flown: disarmed
    channel.feed(heartbeat(4, True))
    for north in (60, 70, 80, 70, 60):
        channel.feed(position(north))
    assert abs(telemetry.state.flown_m - 50.0) < 0.5  # 50 -> 60, out to 80 and back to 60


def test_chunked_statustext_is_joined() -> None:
    channel = FakeChannel()
    telemetry = Telemetry(channel)
    texts = []
    telemetry.subscribe(lambda e: texts.append(e.text) if e.kind == "statustext" else None)
    first = "PreArm: Internal errors 0x100000 l:130 flow_of_ctr"  # 50 characters
    assert len(first) == 50
    channel.feed(mavlink.MAVLink_statustext_message(2, first.encode(), id=7, chunk_seq=0))
    channel.feed(mavlink.MAVLink_statustext_message(2, b"l", id=7, chunk_seq=1))
    channel.feed(mavlink.MAVLink_statustext_message(6, b"Arming motors"))
    assert texts == [first + "l", "Arming motors"]
    assert telemetry.texts_since(0, ("PreArm:",)) == [first + "l"]


def test_health_from_ekf_gps_and_sys_status() -> None:
    channel = FakeChannel()
    telemetry = Telemetry(channel)
    state = telemetry.state
    channel.feed(mavlink.MAVLink_ekf_status_report_message(167, 0, 0, 0, 0, 0))
    assert not state.ekf_healthy  # SITL before GPS: 0xA7
    channel.feed(mavlink.MAVLink_ekf_status_report_message(831, 0, 0, 0, 0, 0))
    assert state.ekf_healthy  # 0x33F once the EKF uses GPS
    channel.feed(mavlink.MAVLink_gps_raw_int_message(0, 6, 0, 0, 0, 121, 65535, 0, 0, 255))
    assert (state.gps_fix, state.hdop, state.satellites) == (6, 1.21, None)
    assert state.prearm_ok is None  # not reported
    status = mavlink.MAVLink_sys_status_message(
        PREARM_BIT, PREARM_BIT, 0, 0, 12600, 2800, 97, 0, 0, 0, 0, 0, 0
    )
    channel.feed(status)
    assert state.prearm_ok is False and state.voltage == 12.6 and state.battery_remaining == 97


def test_vehicle_clock_wait_and_link_silence() -> None:
    channel = FakeChannel(scale=100.0)
    telemetry = Telemetry(channel)
    assert telemetry.link_silent(3.0)  # never heard
    channel.feed(heartbeat(0, False))
    assert not telemetry.link_silent(3.0)
    time.sleep(0.05)  # 5 s of vehicle time at this scale
    assert telemetry.link_silent(3.0)
    # a wait runs on the vehicle's own clock: nominally 1 s here is 10 ms of wall time, but
    # this vehicle's clock only moves 0.1 s later, and then the wait ends
    channel.feed(mavlink.MAVLink_attitude_message(10_000, 0, 0, 0, 0, 0, 0))
    later = mavlink.MAVLink_attitude_message(11_500, 0, 0, 0, 0, 0, 0)
    threading.Timer(0.1, channel.feed, (later,)).start()
    started = time.monotonic()
    assert not telemetry.wait(lambda s: False, 1.0)
    assert 0.09 < time.monotonic() - started < 0.6
    channel.feed(mavlink.MAVLink_attitude_message(15_000, 0, 0, 0, 0, 0, 0))
    assert telemetry.last_clock_gap == (11.5, 15.0)


def test_a_starved_simulator_is_given_the_patience_floor_before_a_wait_gives_up() -> None:
    # at speed-up 20, 3 vehicle seconds are 0.15 s of wall time; a simulator starved of CPU
    # (four copters on a busy machine) sends nothing new for longer, then shows the mode
    channel = FakeChannel(scale=20.0)
    telemetry = Telemetry(channel)
    channel.feed(mavlink.MAVLink_attitude_message(10_000, 0, 0, 0, 0, 0, 0))
    threading.Timer(1.8, channel.feed, (heartbeat(4, False),)).start()
    started = time.monotonic()
    assert telemetry.wait(lambda s: s.mode == 4, 3.0)
    assert 1.7 < time.monotonic() - started < 3.0


class StreamingAutopilot(FakeChannel):
    """Answers SET_MESSAGE_INTERVAL by sending that message, but loses the first request for
    each of ``lose_first`` (a lossy link), as the COMMAND_ACK of every request would say
    nothing of which message it answers."""

    sysid, compid = 1, 1

    class rtt:  # the channel's round-trip estimator, as VehicleChannel has
        timeout = 0.05

    def __init__(self, lose_first: set[int]) -> None:
        super().__init__()
        self.lose = set(lose_first)
        self.requests: list[int] = []

    def send(self, msg) -> None:
        if msg.get_type() != "COMMAND_LONG":
            return
        if msg.command != mavlink.MAV_CMD_SET_MESSAGE_INTERVAL:
            return
        msgid = int(msg.param1)
        self.requests.append(msgid)
        if msgid in self.lose:
            self.lose.discard(msgid)
            return
        sample = mavlink.mavlink_map[msgid]
        self.feed(sample(*[0] * len(sample.fieldnames)))


def test_a_stream_request_lost_on_the_link_is_asked_again_until_its_message_arrives() -> None:
    gps = mavlink.MAVLINK_MSG_ID_GPS_RAW_INT
    channel = StreamingAutopilot({gps})
    telemetry = Telemetry(channel)
    assert telemetry.request_streams({gps: 1.0, mavlink.MAVLINK_MSG_ID_SYS_STATUS: 1.0})
    assert channel.requests.count(gps) == 2
    assert channel.requests.count(mavlink.MAVLINK_MSG_ID_SYS_STATUS) == 1
