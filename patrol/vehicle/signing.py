"""Putting a MAVLink 2 signing key on a vehicle, and taking it off, as QGroundControl and
MAVProxy's ``signing setup`` do: SETUP_SIGNING carries the key and an initial timestamp (all
zero removes the key); ArduPilot stores it and applies it to every channel at once.

The message has no acknowledgement, so the key took when the vehicle's own packets arrive
signed with it, and was removed when they arrive unsigned. ArduPilot then refuses unsigned
traffic on every channel but channel 0 (SERIAL0, USB on a flight controller), which it trusts as
a local link: set a key up over USB, and prove it on a telemetry port with :func:`answers`."""

from __future__ import annotations

import time
from dataclasses import dataclass

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from patrol.link import Message
from patrol.vehicle import Vehicle

SIGNING_EPOCH = 1420070400  # 2015-01-01 UTC: MAVLink 2 signing timestamps count from here
TRIES = 5


class SigningError(Exception):
    """A key that did not take, or did not go."""


@dataclass(frozen=True)
class Change:
    tries: int  # SETUP_SIGNING messages sent before the vehicle showed the change
    seconds: float


def signing_timestamp(unix_s: float | None = None) -> int:
    """Now (or ``unix_s``) in MAVLink 2 signing units: 10 µs since 2015-01-01 UTC."""
    now = time.time() if unix_s is None else unix_s
    return int(max(0.0, now - SIGNING_EPOCH) * 100_000)


def is_signed(msg: Message) -> bool:
    """Whether ``msg`` came with a signature at all (whoever's key made it)."""
    raw = msg.get_msgbuf()
    return len(raw) > 2 and raw[0] == mavlink.PROTOCOL_MARKER_V2 and bool(raw[2] & 1)


def install_key(vehicle: Vehicle, key: bytes, wait: float = 2.0) -> Change:
    """Put ``key`` on ``vehicle`` and wait until its packets are signed with it. The vehicle's
    link must sign with ``key`` too (so a vehicle already holding it takes the request on any
    port) and accept unsigned packets (the vehicle's, until the key takes)."""
    if vehicle.link.key != key:
        raise ValueError("the link must sign with the key being installed")
    return _setup(vehicle, list(key), signing_timestamp(), lambda m: m.get_signed(), wait)


def remove_key(vehicle: Vehicle, wait: float = 2.0) -> Change:
    """Take the signing key off ``vehicle`` (an all-zero key and timestamp) and wait until its
    packets come unsigned. Over a telemetry port the link must sign with the vehicle's key."""
    return _setup(vehicle, [0] * 32, 0, lambda m: not is_signed(m), wait)


def _setup(vehicle: Vehicle, key: list[int], timestamp: int, took, wait: float) -> Change:
    ch = vehicle.channel
    request = mavlink.MAVLink_setup_signing_message(ch.sysid, ch.compid, key, timestamp)
    began = time.monotonic()
    with ch.inbox("HEARTBEAT", predicate=took) as box:
        for tries in range(1, TRIES + 1):
            ch.send(request)
            if box.get(wait) is not None:
                return Change(tries, time.monotonic() - began)
    what = "signing with the new key" if any(key) else "unsigned"
    raise SigningError(
        f"vehicle {ch.sysid} did not start sending {what} packets after {TRIES} SETUP_SIGNING "
        "messages: it refused them (on a telemetry port, a vehicle holding another key "
        "refuses whatever is not signed with it; use its USB link), or it does not support "
        "signing"
    )


def answers(vehicle: Vehicle, wait: float = 2.0, resend: float = 0.25) -> bool:
    """Whether ``vehicle`` answers a PARAM_REQUEST_READ (the first parameter, by index) sent
    over its link as the link sends it (signed with its key, or unsigned), within ``wait``."""
    ch = vehicle.channel
    request = mavlink.MAVLink_param_request_read_message(ch.sysid, ch.compid, b"", 0)
    with ch.inbox("PARAM_VALUE", predicate=lambda m: m.param_index == 0) as box:
        end = time.monotonic() + wait
        while (now := time.monotonic()) < end:
            ch.send(request)
            if box.get_until(min(end, now + resend)) is not None:
                return True
    return False
