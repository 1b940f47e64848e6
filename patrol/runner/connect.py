"""Opening links and finding the vehicles on them."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from patrol.datadir import sub_dir
from patrol.link import Link, TlogWriter, parse_endpoint
from patrol.timebase import TimeBase
from patrol.vehicle import Vehicle
from patrol.vehicle.speedup import Speedup, settle_speedup


class ConnectError(Exception):
    pass


@dataclass(frozen=True)
class LinkOptions:
    # None: each link learns its vehicle's speed-up (SIM_SPEEDUP); else fixed (--speedup)
    timebase: TimeBase | None = None
    key: bytes | None = None  # for every vehicle, unless ``keys`` names one for its connection
    keys: tuple[tuple[str, bytes | None], ...] = ()
    require_signing: bool = False
    wait: float = 30.0  # wall seconds to wait for a vehicle heartbeat

    def key_for(self, connect: str) -> bytes | None:
        return dict(self.keys).get(connect, self.key)

    def check_shared_keys(self, connects: Sequence[str]) -> None:
        """Vehicles behind one transport (a UDP port, a radio) share its signing key: a link
        signs and checks with one key."""
        seen: dict[tuple[str, int], bytes | None] = {}
        for connect in connects:
            endpoint = parse_endpoint(connect)
            where = (endpoint.device, endpoint.baud)
            key = self.key_for(connect)
            if where in seen and seen[where] != key:
                raise ConnectError(
                    f"the vehicles on {endpoint.device} share one link, which signs with one "
                    "key: give them the same signing key"
                )
            seen[where] = key


REFUSED_ENOUGH = 5  # refused packets (and nothing accepted) that make a key problem certain
REFUSED_FOR = 3.0  # wall seconds of nothing but refused packets before giving up early


def _only_refused(link: Link, began: float) -> bool:
    stats = link.stats
    refused = stats.rejected_unsigned + stats.rejected_wrong_key
    return (
        stats.received == 0
        and refused >= REFUSED_ENOUGH
        and time.monotonic() - began >= REFUSED_FOR
    )


def _nobody_heard(connect: str, endpoint, link: Link, waited: float) -> str:
    """Why no vehicle was found, and what the operator can do about it."""
    stats = link.stats
    wanted = f" vehicle {endpoint.sysid}" if endpoint.sysid else " vehicle"
    text = f"no{wanted} heard on {connect} in {waited:g} s"
    if stats.last_error:
        text += f" ({stats.last_error})"
    setup = "patrol signing setup --connect USB_URL --signing-key-file FILE"
    if stats.rejected_unsigned:
        text += (
            f"; {stats.rejected_unsigned} unsigned packets refused (--require-signing): the "
            f"aircraft has no signing key. Put yours on it over its USB link ({setup}), or "
            "fly without --require-signing"
        )
    if stats.rejected_wrong_key:
        text += (
            f"; {stats.rejected_wrong_key} packets signed with another key refused: the "
            f"aircraft holds a different key. Check the key file, or put this key on it over "
            f"its USB link ({setup})"
        )
    return text


def tlog_path(label: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in label)
    return sub_dir("logs") / f"{safe}-{stamp}.tlog"


def named_vehicles(connects: Sequence[str]) -> dict[tuple[str, int], set[int]]:
    """The system ids that ``connects`` name (``...@SYSID``), per transport; refuses one vehicle
    named twice, since two sorties would then fly it in turn."""
    named: dict[tuple[str, int], set[int]] = {}
    for connect in connects:
        endpoint = parse_endpoint(connect)
        if endpoint.sysid is None:
            continue
        ids = named.setdefault((endpoint.device, endpoint.baud), set())
        if endpoint.sysid in ids:
            raise ConnectError(
                f"vehicle {endpoint.sysid} on {endpoint.device} is given twice: each sortie "
                "needs a vehicle of its own"
            )
        ids.add(endpoint.sysid)
    return named


class _Excluded:
    """Vehicles a sortie without ``@SYSID`` must not take: those other sorties have taken or
    name explicitly (a live view, since sorties starting together claim in turn)."""

    def __init__(self, taken: set[int], named: set[int]) -> None:
        self.taken, self.named = taken, named

    def __contains__(self, sysid: object) -> bool:
        return sysid in self.taken or sysid in self.named


class LinkPool:
    """One link per transport, shared by the sorties whose vehicles sit behind it (several
    copters on one UDP port or radio, told apart by system id)."""

    def __init__(self, options: LinkOptions) -> None:
        self.options = options
        self._links: dict[tuple[str, int], Link] = {}
        self._users: dict[tuple[str, int], int] = {}
        self._taken: dict[tuple[str, int], set[int]] = {}
        self._named: dict[tuple[str, int], set[int]] = {}
        self._lock = threading.Lock()

    def reserve(self, connects: Sequence[str]) -> None:
        """Set aside the vehicles that ``connects`` name by system id, so that a sortie taking
        "the first vehicle heard" on a shared link never takes one of them."""
        named = named_vehicles(connects)
        self.options.check_shared_keys(connects)
        with self._lock:
            self._named = named

    def open_vehicle(self, connect: str, label: str) -> tuple[Link, Vehicle, TlogWriter]:
        """The vehicle at ``connect`` (its ``@SYSID``, else the first one heard there that no
        other sortie has taken), with a .tlog of its own traffic."""
        endpoint = parse_endpoint(connect)
        key = (endpoint.device, endpoint.baud)
        with self._lock:
            link = self._links.get(key)
            if link is None:
                link = Link(
                    endpoint,
                    timebase=self.options.timebase or TimeBase(),
                    key=self.options.key_for(connect),
                    require_signing=self.options.require_signing,
                ).start()
                self._links[key] = link
                self._taken[key] = set()
            self._users[key] = self._users.get(key, 0) + 1
            taken = self._taken[key]  # live: sorties starting together claim in turn
            exclude = taken if endpoint.sysid else _Excluded(taken, self._named.get(key, set()))
        sysid = None
        began = time.monotonic()
        deadline = began + self.options.wait
        while sysid is None and (left := deadline - time.monotonic()) > 0:
            heard = link.wait_vehicle(min(left, 0.5), endpoint.sysid, exclude)
            if heard is None:
                if _only_refused(link, began):
                    break  # signed traffic we cannot read: waiting longer changes nothing
                continue
            with self._lock:
                if heard not in exclude:
                    taken.add(heard)
                    sysid = heard
        if sysid is None:
            self._release(key)
            waited = min(self.options.wait, round(time.monotonic() - began, 1))
            raise ConnectError(_nobody_heard(connect, endpoint, link, waited))
        tlog = link.add_tlog(tlog_path(label), sysid)
        return link, Vehicle(link, sysid), tlog

    def settle_speedup(self, vehicle: Vehicle) -> Speedup:
        """Run ``vehicle``'s link at the vehicle's own speed-up (SIM_SPEEDUP), unless a fixed
        time base was given (``--speedup``): then only report a mismatch."""
        override = self.options.timebase.scale if self.options.timebase else None
        return settle_speedup(vehicle, override)

    def release(self, vehicle: Vehicle, tlog: TlogWriter) -> None:
        """Done with ``vehicle``: close its log, and the link when no one else uses it."""
        link = vehicle.link
        link.remove_tlog(tlog)
        vehicle.close()
        key = (link.endpoint.device, link.endpoint.baud)
        with self._lock:
            self._taken.get(key, set()).discard(vehicle.sysid)
        self._release(key)

    def _release(self, key: tuple[str, int]) -> None:
        with self._lock:
            self._users[key] -= 1
            if self._users[key] > 0:
                return
            link = self._links.pop(key)
            del self._users[key], self._taken[key]
        link.close()

    def close(self) -> None:
        with self._lock:
            links = list(self._links.values())
            self._links.clear()
            self._users.clear()
            self._taken.clear()
        for link in links:
            link.close()
