"""Opening a link and finding the vehicle on it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from patrol.datadir import sub_dir
from patrol.link import Link, parse_endpoint
from patrol.timebase import TimeBase
from patrol.vehicle import Vehicle


class ConnectError(Exception):
    pass


@dataclass(frozen=True)
class LinkOptions:
    timebase: TimeBase = field(default_factory=TimeBase)
    key: bytes | None = None  # for every vehicle, unless ``keys`` names one for its connection
    keys: tuple[tuple[str, bytes | None], ...] = ()
    require_signing: bool = False
    wait: float = 30.0  # wall seconds to wait for a vehicle heartbeat

    def key_for(self, connect: str) -> bytes | None:
        return dict(self.keys).get(connect, self.key)


def tlog_path(label: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in label)
    return sub_dir("logs") / f"{safe}-{stamp}.tlog"


def open_vehicle(connect: str, options: LinkOptions, label: str) -> tuple[Link, Vehicle, Path]:
    """Start a link to ``connect``, wait for a vehicle heartbeat and return the link, the vehicle
    and the path of the link's .tlog."""
    endpoint = parse_endpoint(connect)
    path = tlog_path(label)
    link = Link(
        endpoint,
        timebase=options.timebase,
        key=options.key_for(connect),
        require_signing=options.require_signing,
        tlog=path,
    ).start()
    sysid = link.wait_vehicle(options.wait)
    if sysid is None:
        error = link.stats.last_error
        rejected = link.stats.rejected_unsigned
        link.close()
        detail = f" ({error})" if error else ""
        if rejected:
            detail += f"; {rejected} unsigned or badly signed packets refused"
        raise ConnectError(f"no vehicle heard on {connect} in {options.wait:g} s{detail}")
    return link, Vehicle(link, sysid, timebase=options.timebase), path
