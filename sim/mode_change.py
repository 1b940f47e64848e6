"""Flight-mode changes as ArduCopter makes them: what may be entered, the HEARTBEAT that
announces it, and the fence's manual-recovery window a change starts."""

from __future__ import annotations

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim import modes
from sim.state import VehicleState

FENCE_RECOVERY_S = 10.0


def set_mode(v: VehicleState, mode: int) -> bool:
    """Enter ``mode``; False when ArduCopter would refuse it."""
    if mode not in modes.NAMES:
        return False
    if v.armed and mode in modes.NEEDS_POSITION and not v.ekf_has_position():
        return False
    if mode == modes.SMART_RTL and v.armed and v.flying and not v.nav.breadcrumbs:
        return False  # no path recorded: the failsafe chains fall back to RTL
    if mode == modes.AUTO and v.armed and not v.flying and not v.auto.starts_with_takeoff():
        v.text(mavlink.MAV_SEVERITY_CRITICAL, "Auto: Missing Takeoff Cmd")
        return False
    previous = v.mode
    v.mode = mode
    v.queue_heartbeat()  # ArduCopter announces a new mode at once
    v.speed_override = None
    if previous == modes.AUTO:
        v.auto.on_exit()
    v.nav.enter_mode(mode)
    if mode == modes.AUTO:
        v.auto.on_enter()
    _fence_manual_recovery(v)
    return True


def _fence_manual_recovery(v: VehicleState) -> None:
    """A mode change while breached starts AC_Fence's manual recovery: new breaches are not
    acted on for 10 s."""
    f = v.fence
    if f.enabled and v.armed and v.flying and f.breached:
        v.text(mavlink.MAV_SEVERITY_INFO, "Manual recovery started")
        f.recovery_until = v.sim_time + FENCE_RECOVERY_S
