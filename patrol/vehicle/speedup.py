"""How fast the vehicle's clock runs: a simulated vehicle (ArduPilot SITL, ``patrol sim``)
reports its speed-up in the ``SIM_SPEEDUP`` parameter; a real aircraft has no such parameter
(the read goes unanswered) and runs at 1. Every controller interval is scaled by it
(:class:`patrol.timebase.TimeBase`): a controller that believes a 20× simulator runs in real
time sends its heartbeat every 20 simulated seconds and trips the ground-link failsafe."""

from __future__ import annotations

from dataclasses import dataclass

from patrol.link import Message
from patrol.vehicle import Vehicle

PARAM = "SIM_SPEEDUP"
READ_WAIT = 3.0  # wall seconds a real aircraft keeps us waiting for the answer it never sends


@dataclass(frozen=True)
class Speedup:
    """``reported``: SIM_SPEEDUP as the vehicle holds it (None: no such parameter, a real
    aircraft); ``used``: the scale the controller runs at; ``note``: one line for the operator,
    saying so when the two differ."""

    reported: float | None
    used: float
    note: str


def _describe(sysid: int, reported: float | None) -> str:
    if reported is None:
        return f"vehicle {sysid} has no {PARAM} parameter (a real aircraft)"
    return f"vehicle {sysid} reports {PARAM} {reported:g}"


def settle_speedup(vehicle: Vehicle, override: float | None = None) -> Speedup:
    """Read the vehicle's SIM_SPEEDUP and run ``vehicle.timebase`` at it, following later
    changes (ArduPilot announces a changed parameter with PARAM_VALUE to every ground station).
    ``override`` (``--speedup``) wins over what the vehicle says; a mismatch is reported."""
    reported = vehicle.params.read_optional(PARAM, READ_WAIT)
    if reported is not None and not reported > 0:
        reported = None
    said = _describe(vehicle.sysid, reported)
    if override is not None:
        vehicle.timebase.set_scale(override)
        actual = reported or 1.0
        if abs(actual - override) > 1e-6 * max(actual, override):
            note = (
                f"speed-up MISMATCH: {said}, but --speedup {override:g} was given: every "
                f"interval follows --speedup, {actual / override:g}x the vehicle's own time "
                "(its failsafe timeouts may trip); leave --speedup out to follow the vehicle"
            )
        else:
            note = f"speed-up {override:g}: {said}"
        return Speedup(reported, override, note)
    used = reported or 1.0
    vehicle.timebase.set_scale(used)
    vehicle.channel.add_listener(lambda msg: _follow(vehicle, msg))
    return Speedup(reported, used, f"speed-up {used:g}: {said}")


def _follow(vehicle: Vehicle, msg: Message) -> None:
    if msg.get_type() != "PARAM_VALUE":
        return
    name = msg.param_id if isinstance(msg.param_id, str) else msg.param_id.decode(errors="ignore")
    if name.rstrip("\x00").upper() == PARAM and msg.param_value > 0:
        vehicle.timebase.set_scale(msg.param_value)
