"""Poses on the GPS time line: interpolation, gaps refused, SYSTEM_TIME pairing, gimbal
messages, and .tlog reading."""

import math
import struct

import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from vision.poses import PoseError, PoseTrack
from vision.poses_mavlink import MavlinkPoses, quaternion_euler, read_tlog

UTC0 = 1_780_000_000.0  # GPS time at boot
_MAV = mavlink.MAVLink(None, srcSystem=1, srcComponent=1)


def wire(msg, sysid: int = 1, compid: int = 1):
    """The message as it arrives: packed by an autopilot with ``sysid``/``compid``."""
    _MAV.srcSystem, _MAV.srcComponent = sysid, compid
    return _MAV.decode(bytearray(msg.pack(_MAV)))


def heartbeat(sysid=1, compid=1, autopilot=mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA):
    return wire(mavlink.MAVLink_heartbeat_message(2, autopilot, 0, 0, 4, 3), sysid, compid)


def system_time(boot_s: float, utc: float | None = UTC0):
    usec = 0 if utc is None else int((utc + boot_s) * 1e6)
    return wire(mavlink.MAVLink_system_time_message(usec, int(boot_s * 1000)))


def attitude(boot_s, roll=0.0, pitch=0.0, yaw=0.0, sysid=1):
    return wire(
        mavlink.MAVLink_attitude_message(int(boot_s * 1000), roll, pitch, yaw, 0, 0, 0), sysid
    )


def position(boot_s, north_deg=0.0, height=30.0, sysid=1):
    return wire(
        mavlink.MAVLink_global_position_int_message(
            int(boot_s * 1000),
            int((27.57 + north_deg) * 1e7),
            int(119.71 * 1e7),
            int((200 + height) * 1000),
            int(height * 1000),
            500,
            0,
            0,
            0,
        ),
        sysid,
    )


def flight(seconds=10.0, step=0.1, gps_from=0.0):
    """Messages of a copter heading north at 5 m/s, yaw sweeping through north."""
    msgs = [heartbeat(), heartbeat(sysid=7)]
    t = 0.0
    while t <= seconds + 1e-9:
        if t >= gps_from:
            msgs.append(system_time(t))
        yaw = math.radians(-20 + 4 * t)  # crosses 0 (north) at t = 5 s
        msgs.append(attitude(t, 0.01, -0.05, yaw))
        msgs.append(position(t, north_deg=5 * t / 110_800))
        msgs.append(attitude(t, 1.0, 1.0, 1.0, sysid=7))  # another aircraft: ignored
        t += step
    return msgs


def test_boot_time_is_placed_on_the_gps_time_line_and_interpolated():
    track = PoseTrack()
    poses = MavlinkPoses(track)
    for msg in flight():
        poses.feed(msg, received=0.0)
    assert poses.clock == "gps" and poses.sysid == 1
    p = track.at(UTC0 + 4.95)
    assert p.roll == pytest.approx(0.01) and p.height == pytest.approx(30.0)
    assert p.yaw == pytest.approx(math.radians(-0.2), abs=1e-6)
    assert p.lat == pytest.approx(27.57 + 5 * 4.95 / 110_800, abs=2e-7)  # degE7
    assert p.vn == pytest.approx(5.0) and p.gimbal is None


def test_messages_before_the_gps_knows_the_time_are_placed_once_it_does():
    track = PoseTrack()
    poses = MavlinkPoses(track)
    poses.feed(system_time(0.5, utc=None), 0.0)  # no GPS time yet: ignored
    for msg in flight(gps_from=6.0):
        poses.feed(msg, received=0.0)
    assert track.at(UTC0 + 1.0).yaw == pytest.approx(math.radians(-16), abs=1e-6)


def test_yaw_interpolates_across_north():
    track = PoseTrack()
    track.add_attitude(0.0, 0, 0, math.radians(350))
    track.add_attitude(1.0, 0, 0, math.radians(10))
    track.add_position(0.0, 27.57, 119.71, 230, 30, 0, 0)
    track.add_position(1.0, 27.57, 119.71, 230, 30, 0, 0)
    assert math.degrees(track.at(0.5).yaw) % 360 == pytest.approx(0.0, abs=1e-9)


def test_frames_outside_the_log_or_in_a_gap_are_refused():
    track = PoseTrack(max_gap=0.5)
    for t in (0.0, 0.2, 0.4, 2.0, 2.2):
        track.add_attitude(UTC0 + t, 0, 0, 0)
        track.add_position(UTC0 + t, 27.57, 119.71, 230, 30, 0, 0)
    track.at(UTC0 + 0.3)
    with pytest.raises(PoseError, match=r"1\.6 s gap of the attitude log"):
        track.at(UTC0 + 1.0)
    with pytest.raises(PoseError, match="outside the attitude log"):
        track.at(UTC0 + 5.0)


def test_gimbal_attitude_from_either_message():
    track = PoseTrack()
    poses = MavlinkPoses(track)
    for msg in flight(2.0):
        poses.feed(msg, 0.0)
    q = [math.cos(math.radians(-60) / 2), 0.0, math.sin(math.radians(-60) / 2), 0.0]
    flags = mavlink.GIMBAL_DEVICE_FLAGS_YAW_IN_VEHICLE_FRAME
    poses.feed(
        wire(
            mavlink.MAVLink_gimbal_device_attitude_status_message(0, 0, 1000, flags, q, 0, 0, 0, 0)
        ),
        0.0,
    )
    roll, pitch, yaw = track.at(UTC0 + 1.5).gimbal
    assert math.degrees(pitch) == pytest.approx(-60) and roll == pytest.approx(0, abs=1e-9)
    # a gimbal holds its angle: the last report stands for a while after it
    assert track.at(UTC0 + 2.0).gimbal == pytest.approx((roll, pitch, yaw))
    poses.feed(wire(mavlink.MAVLink_mount_status_message(0, 0, -4500, 0, 1000, 2)), 0.0)
    _, pitch, yaw = track.at(UTC0 + 2.0).gimbal
    assert (math.degrees(pitch), math.degrees(yaw)) == pytest.approx((-45, 10))


def test_quaternion_to_euler():
    roll, pitch, yaw = 0.1, -0.7, 2.0
    cr, sr = math.cos(roll / 2), math.sin(roll / 2)
    cp, sp = math.cos(pitch / 2), math.sin(pitch / 2)
    cy, sy = math.cos(yaw / 2), math.sin(yaw / 2)
    q = (
        cr * cp * cy + sr * sp * sy,
        sr * cp * cy - cr * sp * sy,
        cr * sp * cy + sr * cp * sy,
        cr * cp * sy - sr * sp * cy,
    )
    assert quaternion_euler(*q) == pytest.approx((roll, pitch, yaw))


def write_tlog(path, msgs, t0=UTC0 + 3600):
    with path.open("wb") as f:
        for i, msg in enumerate(msgs):
            f.write(struct.pack(">Q", int((t0 + i * 0.01) * 1e6)) + msg.get_msgbuf())
    return path


def test_a_tlog_is_read_and_its_sysid_chosen(tmp_path):
    track = read_tlog(write_tlog(tmp_path / "f.tlog", flight(5.0)))
    assert track.span == pytest.approx((UTC0, UTC0 + 5.0), abs=1e-3)
    assert track.clock == "gps"
    with pytest.raises(PoseError, match="with system id 7"):  # no position from that one
        read_tlog(tmp_path / "f.tlog", sysid=7)


def test_a_tlog_without_gps_time_falls_back_on_its_own_timestamps(tmp_path):
    msgs = [m for m in flight(2.0) if m.get_type() != "SYSTEM_TIME"]
    track = read_tlog(write_tlog(tmp_path / "f.tlog", msgs, t0=UTC0 + 100))
    assert track.clock == "receive"
    assert track.span[0] == pytest.approx(UTC0 + 100, abs=0.05)


def test_bad_tlogs_say_what_is_wrong(tmp_path):
    with pytest.raises(PoseError, match="no such file"):
        read_tlog(tmp_path / "none.tlog")
    empty = write_tlog(tmp_path / "hb.tlog", [heartbeat()])
    with pytest.raises(PoseError, match="no ATTITUDE and GLOBAL_POSITION_INT"):
        read_tlog(empty)
    junk = tmp_path / "junk.tlog"
    junk.write_bytes(b"\x00\x01 not a tlog " * 100)
    with pytest.raises(PoseError, match=r"junk\.tlog"):
        read_tlog(junk)
