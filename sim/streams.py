"""What each channel is sent on a schedule: the stream groups (REQUEST_DATA_STREAM) and
single messages (SET_MESSAGE_INTERVAL) at their rates, and the full parameter list after a
PARAM_REQUEST_LIST."""

from __future__ import annotations

import math

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim import telemetry
from sim.link import Channel
from sim.state import VehicleState


def send_due(v: VehicleState, channel: Channel) -> None:
    """Send the stream members and interval messages that are due on ``channel``."""
    t = v.sim_time
    due = channel.next_due
    slowdown = 4.0 if t < v.ftp_busy_until else 1.0  # ArduPilot, while FTP replies go out
    for group, rate in channel.stream_rates.items():
        if rate <= 0 or t + 1e-9 < due.get(group, 0.0):
            continue
        period = 1.0 / rate * slowdown
        due[group] = max(due.get(group, 0.0) + period, t + period * 0.5)
        for build in telemetry.STREAM_GROUPS[group][1]:
            _send(channel, build(v))
    for msgid, interval in channel.intervals.items():
        key = -msgid  # message ids share the dict with (positive) stream group ids
        if t + 1e-9 < due.get(key, 0.0):
            continue
        interval *= slowdown
        due[key] = max(due.get(key, 0.0) + interval, t + interval * 0.5)
        build = telemetry.BY_ID.get(msgid)
        if build is not None:
            _send(channel, build(v))


def _send(channel: Channel, out: telemetry.Message | list[telemetry.Message] | None) -> None:
    for msg in out if isinstance(out, list) else [out]:
        if msg is not None:
            channel.send(msg)


class ParamList:
    """PARAM_REQUEST_LIST answers: every parameter, in index order, over about 1 s."""

    def __init__(self, vehicle: VehicleState):
        self.v = vehicle
        self.queue: dict[Channel, int] = {}  # channel -> next index to send

    def start(self, channel: Channel) -> None:
        self.queue[channel] = 0

    def step(self, dt: float) -> None:
        params = self.v.params
        per_step = max(1, math.ceil(len(params) * dt / 1.0))  # whole list in ~1 s
        for channel, next_index in list(self.queue.items()):
            end = min(next_index + per_step, len(params))
            for i in range(next_index, end):
                name = params.names[i]
                channel.send(
                    mavlink.MAVLink_param_value_message(
                        name.encode(), params.values[name], params.types[name], len(params), i
                    )
                )
            if end >= len(params):
                del self.queue[channel]
            else:
                self.queue[channel] = end
