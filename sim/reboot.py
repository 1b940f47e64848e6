"""MAV_CMD_PREFLIGHT_REBOOT_SHUTDOWN as SITL answers it (transcript 12): an ACK, the TCP
connections closed ~0.25 s later, then a new boot in which parameters and stored missions
persist but stream requests do not."""

from __future__ import annotations

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim.link import Channel
from sim.state import VehicleState

CLOSE_AFTER_S = 0.25  # SITL closed the TCP connection 0.05 s wall (~0.25 s sim) after the ACK
REBOOT = (1, 3)  # param1: reboot the autopilot (3: to its bootloader, which SITL does not have)


def request(v: VehicleState, param1: float) -> tuple[int, float | None]:
    """(ACK result, sim time of the reboot or None) for a reboot command."""
    if round(param1) not in REBOOT:
        return mavlink.MAV_RESULT_UNSUPPORTED, None
    if v.armed:
        return mavlink.MAV_RESULT_FAILED, None  # ArduPilot refuses to reboot while armed
    return mavlink.MAV_RESULT_ACCEPTED, v.sim_time + CLOSE_AFTER_S


def disconnect(channels: list[Channel]) -> None:
    """SITL re-executes itself: every TCP client is dropped (listening ports stay, as SITL
    binds them again at once), and what each channel streamed is forgotten."""
    for channel in channels:
        for client in list(channel.clients):
            channel.close_client(client)
        channel.stream_rates.clear()
        channel.intervals.clear()
        channel.next_due.clear()
