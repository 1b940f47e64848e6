"""The conversation with one vehicle on a link: its messages only, waiting for replies, and a
round-trip estimate that every request/reply exchange feeds and every timeout is taken from."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from patrol.link import Link, Message
from patrol.timebase import TimeBase

AUTOPILOT_COMPID = mavlink.MAV_COMP_ID_AUTOPILOT1

Predicate = Callable[[Message], bool]


class RttEstimator:
    """Retransmission timeout from measured round trips (Jacobson/Karels, as TCP's RFC 6298):
    ``srtt + 4·rttvar``, clamped. Values are wall seconds. The initial value and the clamps are
    vehicle intervals converted by ``timebase`` when used, so they follow a speed-up learnt
    after connecting. Only unambiguous exchanges may be sampled (Karn's rule: never a reply
    that may answer a re-send)."""

    INITIAL, MINIMUM, MAXIMUM = 1.0, 0.02, 3.0  # vehicle seconds

    def __init__(self, timebase: TimeBase) -> None:
        self.timebase = timebase
        self.srtt: float | None = None
        self.rttvar = 0.0
        self._lock = threading.Lock()

    @property
    def initial(self) -> float:
        return max(0.1, self.timebase.wall(self.INITIAL))

    @property
    def minimum(self) -> float:
        return max(0.005, self.timebase.wall(self.MINIMUM))

    @property
    def maximum(self) -> float:
        return max(0.5, self.timebase.wall(self.MAXIMUM))

    def sample(self, rtt: float) -> None:
        with self._lock:
            if self.srtt is None:
                self.srtt, self.rttvar = rtt, rtt / 2
            else:
                self.rttvar = 0.75 * self.rttvar + 0.25 * abs(self.srtt - rtt)
                self.srtt = 0.875 * self.srtt + 0.125 * rtt

    @property
    def timeout(self) -> float:
        with self._lock:
            if self.srtt is None:
                return self.initial
            return min(self.maximum, max(self.minimum, self.srtt + 4 * self.rttvar))


class Inbox:
    """Messages of some types from the vehicle, queued while a request waits for them."""

    def __init__(
        self,
        types: frozenset[str],
        predicate: Predicate | None,
        responder: Callable[[Message], None] | None = None,
    ) -> None:
        self.types = types
        self.predicate = predicate
        self.responder = responder
        self._queue: queue.Queue[Message] = queue.Queue()

    def offer(self, msg: Message) -> None:
        if msg.get_type() in self.types and (self.predicate is None or self.predicate(msg)):
            if self.responder is not None:
                self.responder(msg)  # answer at once, on the reader thread
            self._queue.put(msg)

    def get(self, timeout: float) -> Message | None:
        """The next message, waiting up to ``timeout`` wall seconds; None on timeout."""
        try:
            return self._queue.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None

    def get_until(self, deadline: float) -> Message | None:
        """The next message before the ``time.monotonic()`` deadline."""
        return self.get(deadline - time.monotonic())


class VehicleChannel:
    """Messages from one vehicle (system id, autopilot component) and a way to answer them."""

    def __init__(
        self,
        link: Link,
        sysid: int,
        compid: int = AUTOPILOT_COMPID,
        timebase: TimeBase | None = None,
    ) -> None:
        self.link = link
        self.sysid = sysid
        self.compid = compid
        self.timebase = timebase or link.timebase
        self.rtt = RttEstimator(self.timebase)
        self._inboxes: list[Inbox] = []
        self._listeners: list[Callable[[Message], None]] = []
        self._lock = threading.Lock()
        self._remove = link.add_handler(self._on_message, sysid)

    def close(self) -> None:
        self._remove()

    def _on_message(self, msg: Message) -> None:
        # STATUSTEXT from any component of this system (companions too); the rest only from
        # the autopilot, so a camera or the broadcast agent on the same system id is not mistaken
        # for it.
        if msg.get_srcComponent() != self.compid and msg.get_type() != "STATUSTEXT":
            return
        with self._lock:
            listeners = list(self._listeners)
            inboxes = list(self._inboxes)
        for listener in listeners:
            listener(msg)
        for inbox in inboxes:
            inbox.offer(msg)

    def add_listener(self, listener: Callable[[Message], None]) -> None:
        with self._lock:
            self._listeners.append(listener)

    @contextmanager
    def inbox(
        self,
        *types: str,
        predicate: Predicate | None = None,
        responder: Callable[[Message], None] | None = None,
    ) -> Iterator[Inbox]:
        """Queue messages of ``types`` (passing ``predicate``) while the block runs. Open it
        before sending the request so that a fast reply is not missed. ``responder`` answers
        each one on the link's reader thread before it is queued (no thread switch)."""
        box = Inbox(frozenset(types), predicate, responder)
        with self._lock:
            self._inboxes.append(box)
        try:
            yield box
        finally:
            with self._lock:
                self._inboxes.remove(box)

    def send(self, msg: Message) -> bool:
        return self.link.send(msg)

    def for_us(self, msg: Message) -> bool:
        """A reply addressed to this ground station (or broadcast)."""
        target_system = getattr(msg, "target_system", 0)
        target_component = getattr(msg, "target_component", 0)
        return target_system in (0, self.link.source_system) and target_component in (
            0,
            self.link.source_component,
        )
