"""Actions: arm, disarm, takeoff, modes, start, pause, continue, RTL, land and go to.

Commands are COMMAND_LONG (DO_REPOSITION only as COMMAND_INT, the only form ArduPilot takes),
re-sent with a rising ``confirmation`` until a COMMAND_ACK arrives. The wait before a re-send
starts from the link's measured round trip and doubles with each unanswered send (TCP's
retransmission timer, RFC 6298); only an exchange without a re-send feeds the round-trip
estimate (Karn's rule).

A COMMAND_ACK carries no sequence number: once a command had to be re-sent, its answer may
belong to any of the sends, and a vehicle that obeyed the first one answers a re-sent arm or
NAV_TAKEOFF with FAILED (it is already armed, already climbing). So a command whose answer was
lost is settled by what the vehicle then reports, its :class:`Effect` (armed, mode, climbing,
MISSION_CURRENT), never by the re-send's answer alone. A refusal of a command sent once is
final. Mode changes are confirmed by the HEARTBEAT's custom_mode, not just the ACK."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from patrol.vehicle.channel import VehicleChannel
from patrol.vehicle.telemetry import COPTER_MODE_NUMBERS, State, Telemetry, mode_name

log = logging.getLogger(__name__)

PAUSE_METHODS = ("BRAKE", "LOITER", "PAUSE")
# ArduCopter spools its motors up for ~3.75 s after NAV_TAKEOFF before it leaves the ground
# (SITL), then climbs at 2.5 m/s: evidence of a takeoff can take this long to appear.
TAKEOFF_EVIDENCE_S = 10.0
# a mode change is seen in the 1 Hz HEARTBEAT: five of them, so that a lossy link (a fifth of
# the packets lost) fails to show it once in thousands of changes, not once in a hundred
MODE_CONFIRM_S = 5.0
CLIMB_EVIDENCE_M = 0.5
AIRBORNE_STATES = (mavlink.MAV_LANDED_STATE_TAKEOFF, mavlink.MAV_LANDED_STATE_IN_AIR)


class CommandError(Exception):
    """A command the vehicle refused or never acknowledged."""

    def __init__(self, message: str, result: int | None = None) -> None:
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class Effect:
    """What the vehicle reports once a command has taken: ``holds(state)`` within ``within``
    vehicle seconds. ``what`` names it in messages."""

    what: str
    holds: Callable[[State], bool]
    within: float


@dataclass(frozen=True)
class Answer:
    """How one command exchange ended: the MAV_RESULT heard (None: no COMMAND_ACK at all),
    the sends it took, and whether the vehicle's state settled it."""

    result: int | None
    sends: int
    settled_by: str = ""


def command_name(command: int) -> str:
    entry = mavlink.enums["MAV_CMD"].get(command)
    return entry.name.removeprefix("MAV_CMD_") if entry else f"command {command}"


def result_name(result: int) -> str:
    entry = mavlink.enums["MAV_RESULT"].get(result)
    return entry.name if entry else f"MAV_RESULT {result}"


def mode_effect(number: int, within: float = MODE_CONFIRM_S) -> Effect:
    return Effect(f"mode {mode_name(number)}", lambda s: s.mode == number, within)


def mission_state_effect(wanted: int, since: float, within: float = 4.0) -> Effect:
    """A MISSION_CURRENT heard after ``since`` (monotonic) with ``mission_state`` ``wanted``:
    ArduPilot reports PAUSED after DO_PAUSE_CONTINUE 0 and ACTIVE after 1."""
    name = mavlink.enums["MISSION_STATE"][wanted].name.removeprefix("MISSION_STATE_")

    def holds(s: State) -> bool:
        fresh = s.mission_current_at is not None and s.mission_current_at > since
        return fresh and s.mission_state == wanted

    return Effect(f"mission {name.lower()}", holds, within)


def climbing_effect(from_alt: float | None) -> Effect:
    """The vehicle left the ground: landed_state TAKEOFF or IN_AIR, or half a metre above
    where it was when the takeoff was sent."""

    def holds(s: State) -> bool:
        if s.landed_state in AIRBORNE_STATES:
            return True
        return (
            s.position is not None
            and from_alt is not None
            and s.position.alt_rel >= from_alt + CLIMB_EVIDENCE_M
        )

    return Effect("climbing", holds, TAKEOFF_EVIDENCE_S)


class Actions:
    """Commands to one vehicle."""

    def __init__(
        self, channel: VehicleChannel, telemetry: Telemetry, retries: int = 5, give_up: float = 3.0
    ) -> None:
        self.channel = channel
        self.telemetry = telemetry
        self.retries = retries  # at least this many sends
        self.give_up = give_up  # vehicle seconds (see TimeBase.patience)
        self.paused_by: str | None = None
        self.last: Answer | None = None  # how the last command ended
        # told (one line) when a command is settled by the vehicle's state, not its answer
        self.on_settled: Callable[[str], None] | None = None

    # -- COMMAND_LONG / COMMAND_INT with ACK -----------------------------------------------
    def command(
        self, command: int, *params: float, effect: Effect | None = None, use_int: bool = False,
        frame: int = 0, x: int = 0, y: int = 0, z: float = 0.0,
    ) -> Answer:  # fmt: skip
        """Send a command until acknowledged. Accepted: returns. Refused when sent once:
        raises CommandError with the MAV_RESULT name. Answered only after re-sends, or never:
        settled by ``effect`` (the vehicle's state) when given, else raises."""
        ch = self.channel
        p = [*params, *[0.0] * (7 - len(params))]
        name = command_name(command)
        result, sends = self._send_until_ack(command, p, use_int, frame, x, y, z)
        if result == mavlink.MAV_RESULT_ACCEPTED:
            self.last = Answer(result, sends)
            return self.last
        ambiguous = result is None or sends > 1
        if ambiguous and effect is not None and self.telemetry.wait(effect.holds, effect.within):
            heard = "no COMMAND_ACK" if result is None else result_name(result)
            self.last = Answer(result, sends, settled_by=effect.what)
            note = (
                f"{name}: sent {sends} times, answered {heard}: taken, as the vehicle "
                f"reports ({effect.what})"
            )
            log.info("vehicle %d: %s", ch.sysid, note)
            if self.on_settled is not None:
                self.on_settled(note)
            return self.last
        self.last = Answer(result, sends)
        if result is None:
            raise CommandError(
                f"{name}: no COMMAND_ACK from vehicle {ch.sysid} after {sends} tries"
            )
        raise CommandError(f"{name} refused by vehicle {ch.sysid}: {result_name(result)}", result)

    def _send_until_ack(
        self, command: int, p: list[float], use_int: bool, frame: int, x: int, y: int, z: float
    ) -> tuple[int | None, int]:
        """(the MAV_RESULT of the first final COMMAND_ACK or None, sends made)."""
        ch = self.channel

        def ours(m) -> bool:
            return m.command == command and ch.for_us(m)

        with ch.inbox("COMMAND_ACK", predicate=ours) as box:
            give_up = time.monotonic() + ch.timebase.patience(self.give_up)
            wait = ch.rtt.timeout * 2
            sends = 0
            while sends < self.retries or time.monotonic() < give_up:
                if use_int:
                    msg = mavlink.MAVLink_command_int_message(
                        ch.sysid, ch.compid, frame, command, 0, 0, *p[:4], x, y, z
                    )
                else:
                    msg = mavlink.MAVLink_command_long_message(
                        ch.sysid, ch.compid, command, min(sends, 255), *p
                    )
                sent = time.monotonic()
                ch.send(msg)
                sends += 1
                deadline = sent + wait
                while (ack := box.get_until(deadline)) is not None:
                    if ack.result == mavlink.MAV_RESULT_IN_PROGRESS:
                        deadline = time.monotonic() + ch.timebase.wall(5.0)
                        continue
                    if sends == 1:  # Karn: a reply after a re-send may answer either send
                        ch.rtt.sample(time.monotonic() - sent)
                    return ack.result, sends
                wait = min(wait * 2, max(ch.rtt.maximum, wait))
        return None, sends

    # -- waiting on telemetry ---------------------------------------------------------------
    def _wait(self, condition, vehicle_seconds: float) -> bool:
        return self.telemetry.wait(condition, vehicle_seconds)

    # -- arming -----------------------------------------------------------------------------
    def arm(self, timeout: float = 5.0) -> None:
        """Arm; on refusal the error carries the vehicle's "Arm:"/"PreArm:" texts."""
        since = time.monotonic()
        armed = Effect("armed", lambda s: s.armed, timeout)
        try:
            self.command(mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 1, effect=armed)
        except CommandError as exc:
            self._wait(lambda s: False, 0.5)  # the reasons follow the ACK
            reasons = self.telemetry.texts_since(since, ("Arm:", "PreArm:"))
            detail = "; ".join(dict.fromkeys(reasons)) or str(exc)
            raise CommandError(f"arming refused: {detail}", exc.result) from None
        if not self._wait(armed.holds, timeout):
            raise CommandError("arm acknowledged but the HEARTBEAT does not show armed")

    def prearm_reasons(self) -> list[str]:
        """Run the pre-arm checks and return the vehicle's "PreArm:" failures (empty = none)."""
        since = time.monotonic()
        self.command(mavlink.MAV_CMD_RUN_PREARM_CHECKS)
        self._wait(lambda s: False, 1.0)
        return list(dict.fromkeys(self.telemetry.texts_since(since, ("PreArm:",))))

    def disarm(self, force: bool = False) -> None:
        disarmed = Effect("disarmed", lambda s: not s.armed, 5.0)
        self.command(
            mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 0, 21196 if force else 0, effect=disarmed
        )
        if not self._wait(disarmed.holds, disarmed.within):
            raise CommandError("disarm acknowledged but the HEARTBEAT still shows armed")

    # -- flight -----------------------------------------------------------------------------
    def takeoff(self, altitude: float) -> None:
        """NAV_TAKEOFF to ``altitude`` m above home (GUIDED, armed). A re-sent takeoff the
        vehicle already obeyed is refused; the climb then settles it."""
        position = self.telemetry.state.position
        self.command(
            mavlink.MAV_CMD_NAV_TAKEOFF, 0, 0, 0, float("nan"), 0, 0, altitude,
            effect=climbing_effect(position.alt_rel if position else 0.0),
        )  # fmt: skip

    def wait_altitude(self, altitude: float, timeout: float) -> bool:
        return self._wait(
            lambda s: s.position is not None and s.position.alt_rel >= altitude, timeout
        )

    def set_mode(self, name: str, timeout: float = MODE_CONFIRM_S) -> None:
        """DO_SET_MODE by name (copter modes), confirmed by the HEARTBEAT custom_mode."""
        number = COPTER_MODE_NUMBERS.get(name.upper())
        if number is None:
            raise CommandError(
                f"unknown mode {name!r}; copter modes: {sorted(COPTER_MODE_NUMBERS)}"
            )
        effect = mode_effect(number, timeout)
        self.command(
            mavlink.MAV_CMD_DO_SET_MODE, mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED, number,
            effect=effect,
        )  # fmt: skip
        if not self._wait(effect.holds, timeout):
            raise CommandError(
                f"mode {name.upper()} acknowledged but the vehicle reports "
                f"{mode_name(self.telemetry.state.mode)}"
            )

    def start_mission(self) -> None:
        self.set_mode("AUTO")
        self.paused_by = None

    def pause(self, method: str = "BRAKE") -> None:
        """Hold position: BRAKE or LOITER mode, or DO_PAUSE_CONTINUE (stays in AUTO)."""
        method = method.upper()
        if method not in PAUSE_METHODS:
            raise CommandError(f"pause method must be one of {', '.join(PAUSE_METHODS)}")
        if method == "PAUSE":
            paused = mission_state_effect(mavlink.MISSION_STATE_PAUSED, time.monotonic())
            self.command(mavlink.MAV_CMD_DO_PAUSE_CONTINUE, 0, effect=paused)
        else:
            self.set_mode(method)
        self.paused_by = method

    def resume_mission(self) -> None:
        """Continue the mission after :meth:`pause` (or after any hold: back to AUTO)."""
        if self.paused_by == "PAUSE":
            active = mission_state_effect(mavlink.MISSION_STATE_ACTIVE, time.monotonic())
            self.command(mavlink.MAV_CMD_DO_PAUSE_CONTINUE, 1, effect=active)
        else:
            self.set_mode("AUTO")
        self.paused_by = None

    def rtl(self) -> None:
        self.set_mode("RTL")

    def land(self) -> None:
        self.set_mode("LAND")

    def goto(self, lat: float, lon: float, alt_rel: float, speed: float = -1.0) -> None:
        """Fly to a point (DO_REPOSITION as COMMAND_INT, switching to GUIDED)."""
        self.command(
            mavlink.MAV_CMD_DO_REPOSITION, speed, mavlink.MAV_DO_REPOSITION_FLAGS_CHANGE_MODE,
            0, float("nan"), use_int=True, frame=mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT,
            x=round(lat * 1e7), y=round(lon * 1e7), z=alt_rel,
        )  # fmt: skip
