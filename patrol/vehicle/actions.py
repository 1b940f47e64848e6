"""Actions: arm, disarm, takeoff, modes, start, pause, continue, RTL, land and go to.

Commands are COMMAND_LONG (DO_REPOSITION only as COMMAND_INT, the only form ArduPilot takes),
re-sent with a rising ``confirmation`` until a COMMAND_ACK arrives; a refusal raises with the
MAV_RESULT name and, for arming, the vehicle's own "PreArm:"/"Arm:" reasons. Mode changes are
confirmed by the HEARTBEAT's custom_mode, not just the ACK."""

from __future__ import annotations

import time

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from patrol.vehicle.channel import VehicleChannel
from patrol.vehicle.telemetry import COPTER_MODE_NUMBERS, Telemetry, mode_name

PAUSE_METHODS = ("BRAKE", "LOITER", "PAUSE")


class CommandError(Exception):
    """A command the vehicle refused or never acknowledged."""

    def __init__(self, message: str, result: int | None = None) -> None:
        super().__init__(message)
        self.result = result


def command_name(command: int) -> str:
    entry = mavlink.enums["MAV_CMD"].get(command)
    return entry.name.removeprefix("MAV_CMD_") if entry else f"command {command}"


def result_name(result: int) -> str:
    entry = mavlink.enums["MAV_RESULT"].get(result)
    return entry.name if entry else f"MAV_RESULT {result}"


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
        self.last_attempts = 0  # sends of the last acknowledged command

    # -- COMMAND_LONG / COMMAND_INT with ACK -----------------------------------------------
    def command(
        self, command: int, *params: float, use_int: bool = False, frame: int = 0,
        x: int = 0, y: int = 0, z: float = 0.0,
    ) -> None:  # fmt: skip
        """Send a command until acknowledged; raise CommandError unless MAV_RESULT_ACCEPTED."""
        ch = self.channel
        p = [*params, *[0.0] * (7 - len(params))]
        name = command_name(command)
        result = self._send_until_ack(command, p, use_int, frame, x, y, z)
        if result != mavlink.MAV_RESULT_ACCEPTED:
            raise CommandError(
                f"{name} refused by vehicle {ch.sysid}: {result_name(result)}", result
            )

    def _send_until_ack(
        self, command: int, p: list[float], use_int: bool, frame: int, x: int, y: int, z: float
    ) -> int:
        ch = self.channel

        def ours(m) -> bool:
            return m.command == command and ch.for_us(m)

        with ch.inbox("COMMAND_ACK", predicate=ours) as box:
            give_up = time.monotonic() + ch.timebase.patience(self.give_up)
            confirmation = 0
            while confirmation < self.retries or time.monotonic() < give_up:
                if use_int:
                    msg = mavlink.MAVLink_command_int_message(
                        ch.sysid, ch.compid, frame, command, 0, 0, *p[:4], x, y, z
                    )
                else:
                    msg = mavlink.MAVLink_command_long_message(
                        ch.sysid, ch.compid, command, confirmation, *p
                    )
                sent = time.monotonic()
                ch.send(msg)
                deadline = sent + ch.rtt.timeout * 2
                while (ack := box.get_until(deadline)) is not None:
                    if ack.result == mavlink.MAV_RESULT_IN_PROGRESS:
                        deadline = time.monotonic() + ch.timebase.wall(5.0)
                        continue
                    ch.rtt.sample(time.monotonic() - sent)
                    self.last_attempts = confirmation + 1
                    return ack.result
                confirmation += 1
        raise CommandError(
            f"{command_name(command)}: no COMMAND_ACK from vehicle {ch.sysid} "
            f"after {confirmation} tries"
        )

    # -- waiting on telemetry ---------------------------------------------------------------
    def _wait(self, condition, vehicle_seconds: float) -> bool:
        return self.telemetry.wait(condition, vehicle_seconds)

    # -- arming -----------------------------------------------------------------------------
    def arm(self, timeout: float = 5.0) -> None:
        """Arm; on refusal the error carries the vehicle's "Arm:"/"PreArm:" texts."""
        since = time.monotonic()
        try:
            self.command(mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 1)
        except CommandError as exc:
            self._wait(lambda s: False, 0.5)  # the reasons follow the ACK
            reasons = self.telemetry.texts_since(since, ("Arm:", "PreArm:"))
            detail = "; ".join(dict.fromkeys(reasons)) or "no reason given"
            raise CommandError(f"arming refused: {detail}", exc.result) from None
        if not self._wait(lambda s: s.armed, timeout):
            raise CommandError("arm acknowledged but the HEARTBEAT does not show armed")

    def prearm_reasons(self) -> list[str]:
        """Run the pre-arm checks and return the vehicle's "PreArm:" failures (empty = none)."""
        since = time.monotonic()
        self.command(mavlink.MAV_CMD_RUN_PREARM_CHECKS)
        self._wait(lambda s: False, 1.0)
        return list(dict.fromkeys(self.telemetry.texts_since(since, ("PreArm:",))))

    def disarm(self, force: bool = False) -> None:
        self.command(mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 0, 21196 if force else 0)
        if not self._wait(lambda s: not s.armed, 5.0):
            raise CommandError("disarm acknowledged but the HEARTBEAT still shows armed")

    # -- flight -----------------------------------------------------------------------------
    def takeoff(self, altitude: float) -> None:
        """NAV_TAKEOFF to ``altitude`` m above home (GUIDED, armed). A refusal of a re-sent
        command while already climbing means the first one was taken (its ACK was lost)."""
        try:
            self.command(mavlink.MAV_CMD_NAV_TAKEOFF, 0, 0, 0, float("nan"), 0, 0, altitude)
        except CommandError:
            if self.last_attempts > 1 and self.telemetry.state.in_air:
                return
            raise

    def wait_altitude(self, altitude: float, timeout: float) -> bool:
        return self._wait(
            lambda s: s.position is not None and s.position.alt_rel >= altitude, timeout
        )

    def set_mode(self, name: str, timeout: float = 3.0) -> None:
        """DO_SET_MODE by name (copter modes), confirmed by the HEARTBEAT custom_mode."""
        number = COPTER_MODE_NUMBERS.get(name.upper())
        if number is None:
            raise CommandError(
                f"unknown mode {name!r}; copter modes: {sorted(COPTER_MODE_NUMBERS)}"
            )
        self.command(mavlink.MAV_CMD_DO_SET_MODE, mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED, number)
        if not self._wait(lambda s: s.mode == number, timeout):
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
            self.command(mavlink.MAV_CMD_DO_PAUSE_CONTINUE, 0)
        else:
            self.set_mode(method)
        self.paused_by = method

    def resume_mission(self) -> None:
        """Continue the mission after :meth:`pause` (or after any hold: back to AUTO)."""
        if self.paused_by == "PAUSE":
            self.command(mavlink.MAV_CMD_DO_PAUSE_CONTINUE, 1)
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
