"""Parameters: read by name, set, and confirm by the vehicle's PARAM_VALUE echo.

ArduPilot answers an unknown name with silence, echoes a PARAM_SET with the parameter's own type
and canonical (upper-case) name, and truncates values written into integer parameters."""

from __future__ import annotations

import math
import time

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from patrol.link import Message
from patrol.vehicle.channel import VehicleChannel

INTEGER_TYPES = {
    mavlink.MAV_PARAM_TYPE_UINT8,
    mavlink.MAV_PARAM_TYPE_INT8,
    mavlink.MAV_PARAM_TYPE_UINT16,
    mavlink.MAV_PARAM_TYPE_INT16,
    mavlink.MAV_PARAM_TYPE_UINT32,
    mavlink.MAV_PARAM_TYPE_INT32,
}


class ParamError(Exception):
    """A parameter that could not be read or set as asked."""


def _name(msg: Message) -> str:
    raw = msg.param_id
    text = raw if isinstance(raw, str) else raw.decode(errors="replace")
    return text.rstrip("\x00").upper()


def same_value(asked: float, stored: float, param_type: int | None) -> bool:
    """Whether ``stored`` is what the vehicle keeps when asked to store ``asked``."""
    if param_type in INTEGER_TYPES:
        return math.trunc(asked) == math.trunc(stored) and float(math.trunc(asked)) == asked
    return math.isclose(asked, stored, rel_tol=1e-6, abs_tol=1e-6)


class Params:
    """Read and write one vehicle's parameters."""

    def __init__(self, channel: VehicleChannel, retries: int = 4, give_up: float = 3.0) -> None:
        self.channel = channel
        self.retries = retries  # at least this many sends
        self.give_up = give_up  # vehicle seconds (see TimeBase.patience)
        self.types: dict[str, int] = {}
        self.values: dict[str, float] = {}

    def _exchange(
        self, name: str, request: Message, what: str, accept=lambda reply: True
    ) -> Message:
        """Send ``request`` until a PARAM_VALUE for ``name`` that ``accept`` takes arrives; the
        last one heard is returned when none is accepted (a late echo of an earlier request
        can arrive first, so one mismatch is not final)."""
        ch = self.channel
        name = name.upper()
        last: Message | None = None
        with ch.inbox("PARAM_VALUE", predicate=lambda m: _name(m) == name) as box:
            give_up = time.monotonic() + ch.timebase.patience(self.give_up)
            attempt = 0
            # a silent vehicle gets until give_up; one that answers (wrongly) gets `retries`
            while attempt < self.retries or (last is None and time.monotonic() < give_up):
                attempt += 1
                sent = time.monotonic()
                ch.send(request)
                deadline = sent + ch.rtt.timeout * 2
                while (reply := box.get_until(deadline)) is not None:
                    if attempt == 1:  # Karn: a reply after a re-send may answer either send
                        ch.rtt.sample(time.monotonic() - sent)
                    self.types[name] = reply.param_type
                    self.values[name] = reply.param_value
                    last = reply
                    if accept(reply):
                        return reply
        if last is not None:
            return last
        raise ParamError(
            f"{what} {name}: no PARAM_VALUE from vehicle {ch.sysid} after {attempt} tries "
            "(unknown parameter or link down)"
        )

    def get(self, name: str) -> float:
        """The value of ``name`` as the vehicle holds it now."""
        ch = self.channel
        request = mavlink.MAVLink_param_request_read_message(
            ch.sysid, ch.compid, name.upper().encode(), -1
        )
        return float(self._exchange(name, request, "read").param_value)

    def read_optional(self, name: str, wall_seconds: float, resend: float = 0.25) -> float | None:
        """The value of ``name``, or None when nothing answers within ``wall_seconds``: the way
        to ask for a parameter the vehicle may not have (ArduPilot answers an unknown name with
        silence). The request is re-sent every ``resend`` wall seconds, so a lossy link does
        not pass for a missing parameter."""
        ch = self.channel
        name = name.upper()
        request = mavlink.MAVLink_param_request_read_message(ch.sysid, ch.compid, name.encode(), -1)
        with ch.inbox("PARAM_VALUE", predicate=lambda m: _name(m) == name) as box:
            end = time.monotonic() + wall_seconds
            while (now := time.monotonic()) < end:
                ch.send(request)
                reply = box.get_until(min(end, now + resend))
                if reply is not None:
                    self.types[name] = reply.param_type
                    self.values[name] = reply.param_value
                    return float(reply.param_value)
        return None

    def set(self, name: str, value: float) -> float:
        """Set ``name`` to ``value`` and return the value the vehicle echoed; raises if the echo
        differs (an integer parameter cannot hold a fraction, say)."""
        name = name.upper()
        if name not in self.types:
            self.get(name)
        param_type = self.types[name]
        ch = self.channel
        request = mavlink.MAVLink_param_set_message(
            ch.sysid, ch.compid, name.encode(), float(value), param_type
        )
        echoed = float(
            self._exchange(
                name, request, "set",
                accept=lambda m: same_value(float(value), m.param_value, param_type),
            ).param_value
        )  # fmt: skip
        if not same_value(float(value), echoed, param_type):
            raise ParamError(f"set {name}: asked {value:g}, vehicle {ch.sysid} stored {echoed:g}")
        return echoed

    def ensure(self, name: str, value: float) -> tuple[float, bool]:
        """Make ``name`` equal ``value``: returns (value before, whether it was changed)."""
        before = self.get(name)
        if same_value(float(value), before, self.types.get(name.upper())):
            return before, False
        self.set(name, value)
        return before, True
